package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// AuditVerifyBody is the outcome of re-walking the audit hash chain
// (docs/audit.md). A broken chain is a finding, answered with 200 and ok
// false, not an error.
type AuditVerifyBody struct {
	OK         bool            `json:"ok" doc:"whether every record from the anchor to the head matches its hash and link"`
	Records    int64           `json:"records" doc:"records walked"`
	HeadSeq    int64           `json:"head_seq" doc:"the chain head's position"`
	HeadHash   string          `json:"head_hash" doc:"the chain head's hash; record it elsewhere to detect a rewritten log later"`
	AnchorSeq  int64           `json:"anchor_seq" doc:"position of the last pruned record, 0 if none"`
	AnchorHash string          `json:"anchor_hash" doc:"hash of the last pruned record"`
	Unsealed   int64           `json:"unsealed" doc:"records with no place in the chain"`
	Break      *AuditBreakBody `json:"break,omitempty" doc:"the first record that does not match"`
}

// AuditBreakBody names where the chain breaks.
type AuditBreakBody struct {
	Seq      int64      `json:"seq"`
	ID       string     `json:"id,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Problem  string     `json:"problem"`
	Expected string     `json:"expected"`
	Found    string     `json:"found"`
}

type auditVerifyOut struct{ Body AuditVerifyBody }

func (a *API) registerAuditChain() {
	huma.Register(a.huma, op("verify-audit", http.MethodGet, "/audit/verify",
		"Re-walk the audit log's hash chain and report the first record that does not match (audit.view)", "Audit"),
		func(ctx context.Context, _ *struct{}) (*auditVerifyOut, error) {
			v, err := a.svc.VerifyAudit(ctx, caller(ctx))
			if err != nil {
				return nil, a.problem(err)
			}
			out := &auditVerifyOut{Body: AuditVerifyBody{OK: v.OK(), Records: v.Records, HeadSeq: v.HeadSeq, HeadHash: v.HeadHash,
				AnchorSeq: v.AnchorSeq, AnchorHash: v.AnchorHash, Unsealed: v.Unsealed}}
			if b := v.Break; b != nil {
				bb := &AuditBreakBody{Seq: b.Seq, ID: b.ID, Problem: b.Problem, Expected: b.Expected, Found: b.Found}
				if !b.At.IsZero() {
					at := b.At
					bb.At = &at
				}
				out.Body.Break = bb
			}
			return out, nil
		})
}
