package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The audit log: /audit and /audit/verify.

func (a *API) auditRoutes() []route {
	const tag = "Audit"
	return []route{
		handle(op("list-audit", http.MethodGet, "/audit", "The audit log, newest first (audit.view)", tag), a.listAudit),
		handle(op("verify-audit", http.MethodGet, "/audit/verify",
			"Re-walk the audit log's hash chain and report the first record that does not match (audit.view)", tag), a.verifyAudit),
	}
}

type auditIn struct {
	HTTPRequest
	ActorID    string    `query:"actor_id" maxLength:"200"`
	TargetKind string    `query:"target_kind" maxLength:"100"`
	TargetID   string    `query:"target_id" maxLength:"200"`
	Action     string    `query:"action" maxLength:"200" doc:"e.g. group.create, group.member_add"`
	Since      time.Time `query:"since" doc:"RFC 3339; inclusive."`
	Until      time.Time `query:"until" doc:"RFC 3339; exclusive."`
	Cursor     string    `query:"cursor" maxLength:"1024"`
	Limit      int       `query:"limit" minimum:"1" maximum:"1000"`
}

func (a *API) listAudit(ctx context.Context, in *auditIn) (*pageOut[api.AuditEvent], error) {
	p, err := a.svc.ListAudit(ctx, caller(ctx), service.AuditQuery{ActorID: in.ActorID, TargetKind: in.TargetKind, TargetID: in.TargetID,
		Action: in.Action, Since: in.Since, Until: in.Until, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiAuditEvent), nil
}

// verifyAudit re-walks the audit hash chain (docs/audit.md). A broken
// chain is a finding, answered with 200 and ok false, not an error.
func (a *API) verifyAudit(ctx context.Context, _ *struct{}) (*itemsOut[api.AuditVerifyBody], error) {
	v, err := a.svc.VerifyAudit(ctx, caller(ctx))
	if err != nil {
		return nil, a.problem(err)
	}
	out := &itemsOut[api.AuditVerifyBody]{Body: api.AuditVerifyBody{OK: v.OK(), Records: v.Records, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash,
		AnchorSeq: v.AnchorSeq, AnchorHash: v.AnchorHash, Unsealed: v.Unsealed}}
	if b := v.Break; b != nil {
		bb := &api.AuditBreakBody{Seq: b.Seq, ID: b.ID, Problem: b.Problem, Expected: b.Expected, Found: b.Found}
		if !b.At.IsZero() {
			at := b.At
			bb.At = &at
		}
		out.Body.Break = bb
	}
	return out, nil
}
