package service

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// VerifyAudit re-walks the audit log's hash chain (audit.view), as
// `gatehouse audit verify` does on the database directly. A broken chain
// is a finding in the answer, not an error. It reads the whole log, so it
// costs a full scan: it is for auditors, not for polling.
func (s *Service) VerifyAudit(ctx context.Context, c Caller) (AuditVerification, error) {
	const op = "service.VerifyAudit"
	p, err := s.reader(op, c)
	if err != nil {
		return AuditVerification{}, err
	}
	if !p.has(domain.PermAuditView) {
		return AuditVerification{}, forbidden(op, "missing permission %s", domain.PermAuditView)
	}
	ac, ok := store.AuditChainOf(s.st)
	if !ok {
		return AuditVerification{}, domain.Errorf(op, domain.KindUnavailable, "this store keeps no hash-chained audit log")
	}
	v, err := ac.VerifyAudit(ctx)
	if err != nil {
		return AuditVerification{}, domain.E(op, err)
	}
	return auditVerificationOf(v), nil
}
