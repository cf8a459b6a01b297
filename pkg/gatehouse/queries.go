package gatehouse

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Subjects and resources are written as Gatehouse spells them; these
// helpers save the prefixes.

// Anonymous is the subject of a request without credentials (the Public group).
const Anonymous = "anonymous"

// System is the resource of system permissions (users.view, audit.view, ...).
const System = "system"

// User is the subject of the user with this id.
func User(id string) string { return "user:" + id }

// Folder is the resource of the folder with this id.
func Folder(id string) string { return "folder:" + id }

// Project is the resource of the project with this id.
func Project(id string) string { return "project:" + id }

// Domain is the resource of the accessible domain with this name.
func Domain(name string) string { return "domain:" + name }

// Consistency asks for an answer on data at least as fresh as a revision
// (R20). The zero value answers at once on whatever the server has.
type Consistency struct {
	// AtLeast is the revision the answer must include, typically the
	// revision a write answered with; 0 for none.
	AtLeast int64
	// Wait bounds how long the server waits for AtLeast before it answers
	// 503: 0 is the server's default (2 s), a negative value does not
	// wait at all, and more than MaxWait is MaxWait. It is rounded to
	// milliseconds. The call's timeout grows by the same amount.
	Wait time.Duration
}

// AtLeast is the Consistency of a read that must see the write that
// answered with revision rev.
func AtLeast(rev int64) Consistency { return Consistency{AtLeast: rev} }

// waitMS is the wait_ms to send: nil for the server's default.
func (c Consistency) waitMS() *int {
	switch {
	case c.Wait == 0:
		return nil
	case c.Wait < 0:
		z := 0
		return &z
	}
	ms := int(min(c.Wait, MaxWait).Milliseconds())
	return &ms
}

// extra is how much longer than usual the call may take.
func (c Consistency) extra() time.Duration {
	if c.AtLeast <= 0 || c.Wait < 0 {
		return 0
	}
	if c.Wait == 0 {
		return 2 * time.Second
	}
	return min(c.Wait, MaxWait)
}

func (c Consistency) query(q url.Values) {
	if c.AtLeast <= 0 {
		return
	}
	q.Set("at_least", strconv.FormatInt(c.AtLeast, 10))
	if ms := c.waitMS(); ms != nil {
		q.Set("wait_ms", strconv.Itoa(*ms))
	}
}

// CheckRequest asks whether Subject may do Permission on Resource.
type CheckRequest struct {
	// Subject is User(id), Anonymous, or empty for the token's own user.
	// Asking about anyone else needs a token whose user holds users.view.
	Subject string
	// Permission is a catalog key (project.read, users.view) or, on a
	// folder, <context>.<action> (root.read, data.edit).
	Permission string
	// Resource is System, Project(id), Domain(name) or Folder(id).
	Resource string
	Consistency
}

func (r CheckRequest) body() api.CheckRequest {
	b := api.CheckRequest{Subject: r.Subject, Permission: r.Permission, Resource: r.Resource}
	b.AtLeast = r.AtLeast
	if r.AtLeast > 0 {
		b.WaitMS = r.waitMS()
	}
	return b
}

// Decision is the answer to a check.
type Decision = api.CheckResponse

// Check asks one question. An error (the server unreachable, a 503, an
// unknown permission) is never an allow: treat it as a refusal.
func (c *Client) Check(ctx context.Context, r CheckRequest) (Decision, error) {
	var d Decision
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/check", body: r.body(), readOnly: true, wait: r.extra()}, &d)
	if err != nil {
		return Decision{}, err
	}
	return d, nil
}

// MaxBatch is the most checks one BatchCheck may carry.
const MaxBatch = 1000

// BatchCheckRequest carries up to MaxBatch checks, answered in order on
// one revision. The checks' own Consistency fields are ignored; the
// batch's applies to all.
type BatchCheckRequest struct {
	Checks []CheckRequest
	Consistency
}

// BatchResult is the answer to one check of a batch: allowed or not, or
// the error that check alone met (an unknown permission, user or folder),
// which is never an allow.
type BatchResult struct {
	Allowed bool
	Err     *Error
}

// BatchDecision answers every check of a batch, in order.
type BatchDecision struct {
	Results  []BatchResult
	Revision int64
}

// AllAllowed reports whether every check of the batch was allowed.
func (b BatchDecision) AllAllowed() bool {
	for _, r := range b.Results {
		if !r.Allowed || r.Err != nil {
			return false
		}
	}
	return len(b.Results) > 0
}

// BatchCheck asks up to MaxBatch questions in one call, answered on one
// revision. A check that fails on its own carries its error in its
// result; an error returned concerns the whole batch.
func (c *Client) BatchCheck(ctx context.Context, r BatchCheckRequest) (BatchDecision, error) {
	if len(r.Checks) == 0 || len(r.Checks) > MaxBatch {
		return BatchDecision{}, &Error{Status: http.StatusUnprocessableEntity, Kind: "invalid", Method: http.MethodPost, Path: "/check/batch",
			Detail: fmt.Sprintf("a batch holds 1 to %d checks, not %d", MaxBatch, len(r.Checks)),
			Fields: []FieldError{{Location: "body.checks", Message: fmt.Sprintf("must hold 1 to %d checks", MaxBatch)}}}
	}
	body := api.BatchCheckRequest{Checks: make([]api.CheckItem, len(r.Checks))}
	body.AtLeast = r.AtLeast
	if r.AtLeast > 0 {
		body.WaitMS = r.waitMS()
	}
	for i, ch := range r.Checks {
		body.Checks[i] = api.CheckItem{Subject: ch.Subject, Permission: ch.Permission, Resource: ch.Resource}
	}
	var out api.BatchCheckResponse
	if _, err := c.do(ctx, call{method: http.MethodPost, path: "/check/batch", body: body, readOnly: true, wait: r.extra()}, &out); err != nil {
		return BatchDecision{}, err
	}
	if len(out.Results) != len(r.Checks) {
		return BatchDecision{}, &Error{Status: http.StatusOK, Kind: "other", Method: http.MethodPost, Path: "/check/batch",
			Err: fmt.Errorf("%d results for %d checks", len(out.Results), len(r.Checks))}
	}
	d := BatchDecision{Results: make([]BatchResult, len(out.Results)), Revision: out.Revision}
	for i, res := range out.Results {
		d.Results[i].Allowed = res.Allowed && res.Error == nil
		if e := res.Error; e != nil {
			d.Results[i].Err = &Error{Status: e.Status, Kind: e.Kind, Detail: e.Detail, Title: http.StatusText(e.Status), Method: http.MethodPost, Path: "/check/batch"}
			if e.Location != "" {
				d.Results[i].Err.Fields = []FieldError{{Location: e.Location, Message: e.Detail}}
			}
		}
	}
	return d, nil
}

// Explanation says why a check is allowed or denied (R19).
type Explanation = api.ExplainResponse

// Path is one grant path: the group (or the user's own grant) and how it
// grants.
type Path = api.GrantPath

// Explain asks a check and why: for an allow every grant path, for a
// deny what was checked and what would allow it. It costs more than
// Check; use it to show an administrator or a user the reason, not on
// every request.
func (c *Client) Explain(ctx context.Context, r CheckRequest) (Explanation, error) {
	var x Explanation
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/explain", body: r.body(), readOnly: true, wait: r.extra()}, &x)
	if err != nil {
		return Explanation{}, err
	}
	return x, nil
}

// ResourcesQuery asks which resources of a kind a subject may act on.
type ResourcesQuery struct {
	// Subject is User(id), Anonymous, or empty for the token's own user.
	Subject    string
	Permission string
	// Kind is "project", "domain" or "folder".
	Kind string
	// Under, for folders, keeps only this folder and its descendants.
	Under string
	Consistency
}

// ResourceList lists the ids (for domains, the names) of the resources
// the subject may act on.
type ResourceList = api.ResourcesResponse

// ListResources lists the resources of a kind on which the subject holds
// a permission: the way to filter a listing ("the folders alice may
// read") in one call instead of a check per item.
func (c *Client) ListResources(ctx context.Context, q ResourcesQuery) (ResourceList, error) {
	v := url.Values{"permission": {q.Permission}, "kind": {q.Kind}}
	if q.Subject != "" {
		v.Set("subject", q.Subject)
	}
	if q.Under != "" {
		v.Set("under", q.Under)
	}
	q.query(v)
	var out ResourceList
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "/resources?" + v.Encode(), readOnly: true, wait: q.extra()}, &out); err != nil {
		return ResourceList{}, err
	}
	return out, nil
}

// SubjectsQuery asks who holds a permission on a resource.
type SubjectsQuery struct {
	Permission string
	Resource   string
	Consistency
}

// SubjectGrant is one user allowed, with the ids of the groups through
// which ("" for the user's own grant).
type SubjectGrant = api.SubjectGrant

// SubjectList lists who may do a permission on a resource.
type SubjectList = api.SubjectsResponse

// ListSubjects lists the users allowed a permission on a resource. The
// token's user needs users.view.
func (c *Client) ListSubjects(ctx context.Context, q SubjectsQuery) (SubjectList, error) {
	v := url.Values{"permission": {q.Permission}, "resource": {q.Resource}}
	q.query(v)
	var out SubjectList
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "/subjects?" + v.Encode(), readOnly: true, wait: q.extra()}, &out); err != nil {
		return SubjectList{}, err
	}
	return out, nil
}

// EffectiveQuery asks every permission a subject holds on a resource.
type EffectiveQuery struct {
	Subject  string
	Resource string
	Consistency
}

// EffectivePermissions lists the permissions a subject holds on a resource.
type EffectivePermissions = api.EffectiveResponse

// Effective lists every permission the subject holds on the resource,
// for example to decide which buttons a page shows.
func (c *Client) Effective(ctx context.Context, q EffectiveQuery) (EffectivePermissions, error) {
	v := url.Values{"resource": {q.Resource}}
	if q.Subject != "" {
		v.Set("subject", q.Subject)
	}
	q.query(v)
	var out EffectivePermissions
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "/effective-permissions?" + v.Encode(), readOnly: true, wait: q.extra()}, &out); err != nil {
		return EffectivePermissions{}, err
	}
	return out, nil
}
