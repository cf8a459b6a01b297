package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Options configure a Service.
type Options struct {
	// PasswordParams defaults to password.Default.
	PasswordParams *password.Params
	// PasswordPolicy is what new passwords must meet (passwords.go); the
	// zero Policy is the default.
	PasswordPolicy password.Policy
	// Now defaults to time.Now; tests pass a fixed clock.
	Now func() time.Time
	// Follower is the engine follower to answer from; without one, New
	// loads one from the store. The server makes its own and keeps it, to
	// run it (Follower.Run) and to report its lag: transports see the
	// engine through the service's use cases only.
	Follower *Follower
	// Nesting holds the nested groups' settings (nesting.go).
	Nesting NestingOptions
}

// Service runs the administrative use cases. It is safe for concurrent use.
type Service struct {
	st      store.Store
	f       *Follower
	now     func() time.Time
	params  password.Params
	policy  password.Policy
	sender  WebhookSender
	nesting NestingOptions
	// eff keeps the sorted effective-member lists shown last (effcache.go).
	eff *effCache
}

// New builds a service over st, loading the engine from a snapshot.
func New(ctx context.Context, st store.Store, opts Options) (*Service, error) {
	f := opts.Follower
	if f == nil {
		var err error
		if f, err = NewFollower(ctx, st); err != nil {
			return nil, err
		}
	}
	s := &Service{st: st, f: f, now: time.Now, params: password.Default, policy: opts.PasswordPolicy, nesting: opts.Nesting, eff: &effCache{}}
	if opts.Now != nil {
		s.now = opts.Now
	}
	if opts.PasswordParams != nil {
		s.params = *opts.PasswordParams
	}
	return s, nil
}

// Caller is who calls a use case.
type Caller = domain.Principal

// denial is a refusal found while authorizing. It travels out of the
// write transaction (rolling it back) so the refusal can be audited on its
// own. A hidden denial is for an object the caller may not even see: it
// answers KindNotFound, as if the object did not exist (R21).
type denial struct {
	missing string // what the caller lacks, in words
	kind    string // target kind for the audit record
	id      string
	hidden  bool
	// notFound, for a hidden denial, is the not-found message the caller
	// gets instead of the generic "<kind> <id> not found".
	notFound string
	// conflict marks a refusal that no permission would lift (R3's
	// lock-out): KindConflict rather than KindForbidden.
	conflict bool
}

func (d *denial) Error() string {
	if d.hidden {
		if d.notFound != "" {
			return d.notFound
		}
		return d.kind + " " + d.id + " not found"
	}
	return d.missing
}

// Unwrap gives the denial its kind, so domain.KindOf works on it outside
// write too (in the reads).
func (d *denial) Unwrap() error {
	if d.hidden {
		return &domain.Error{Kind: domain.KindNotFound}
	}
	if d.conflict {
		return &domain.Error{Kind: domain.KindConflict}
	}
	return &domain.Error{Kind: domain.KindForbidden}
}

func deny(targetKind, targetID, format string, args ...any) error {
	return &denial{missing: fmt.Sprintf(format, args...), kind: targetKind, id: targetID}
}

// notFound is what a caller who may not see an object gets (R21): the
// same answer as for an object that does not exist. In a write it is
// audited as a denial all the same.
func notFound(op, what, id string) error {
	return &denial{missing: "not visible to the caller (" + op + ")", kind: what, id: id, hidden: true}
}

func invalid(op, field, format string, args ...any) error {
	return domain.E(op, domain.KindInvalid, domain.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func conflict(op, format string, args ...any) error {
	return domain.Errorf(op, domain.KindConflict, format, args...)
}

// write runs fn in one transaction and brings the engine up to the
// committed revision before returning, so a check right after a write
// sees it. When fn refuses for lack of permission, the transaction is
// rolled back and the refusal is audited in a transaction of its own
// (R29), then returned as KindForbidden (KindNotFound when the caller may
// not even see the object).
func (s *Service) write(ctx context.Context, c Caller, op, action string, fn func(ctx context.Context, tx store.Tx) error) (int64, error) {
	if err := s.authenticated(op, c); err != nil {
		return 0, err
	}
	change, err := s.st.InTx(ctx, s.guarded(c, fn))
	var d *denial
	if errors.As(err, &d) {
		return 0, s.refuse(ctx, c, op, action, d)
	}
	if err != nil {
		if domain.Is(err, domain.KindExists) {
			return 0, domain.E(op, domain.KindExists, taken(action, err))
		}
		return 0, domain.E(op, err)
	}
	if change.Revision > 0 {
		if err := s.f.CatchUp(ctx, change.Revision); err != nil {
			return 0, domain.E(op, err)
		}
	}
	return change.Revision, nil
}

// guarded is a write's transaction: fn, then the kernel's check of what
// fn wrote (guard) before the store may commit.
func (s *Service) guarded(c Caller, fn func(ctx context.Context, tx store.Tx) error) func(ctx context.Context, tx store.Tx) error {
	return func(ctx context.Context, tx store.Tx) error {
		// Authorization reads the engine, so bring it up to the revision
		// this transaction builds on. Writers are serialized (store
		// contract), so nothing can commit between that revision and this
		// write: a permission taken away by another writer, or another
		// replica, a moment ago no longer authorizes it.
		rev, err := tx.Revision(ctx)
		if err != nil {
			return err
		}
		if err := s.f.CatchUpWithin(ctx, tx, rev); err != nil {
			return err
		}
		eng := s.f.Engine()
		if eng.Revision() != rev {
			return failClosed("the engine is not at the revision this write builds on", fmt.Errorf("engine at %d, store at %d", eng.Revision(), rev))
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return s.guard(tx, eng, c)
	}
}

// errTried ends a dry run: the transaction is rolled back.
var errTried = errors.New("dry run")

// try runs a write as write would, kernel included, and rolls it back:
// nil when it would commit, else the refusal it would get, not audited
// (trying is a read).
func (s *Service) try(ctx context.Context, c Caller, op string, fn func(ctx context.Context, tx store.Tx) error) error {
	if err := s.authenticated(op, c); err != nil {
		return err
	}
	inner := s.guarded(c, fn)
	_, err := s.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := inner(ctx, tx); err != nil {
			return err
		}
		return errTried
	})
	switch {
	case errors.Is(err, errTried):
		return nil
	case err == nil:
		return nil
	}
	var d *denial
	if errors.As(err, &d) {
		if d.hidden {
			return domain.E(op, domain.KindNotFound, errors.New(d.Error()))
		}
		if d.conflict {
			return domain.E(op, domain.KindConflict, errors.New(d.missing))
		}
		return domain.E(op, domain.KindForbidden, errors.New(d.missing))
	}
	return domain.E(op, err)
}

// refuse audits a refusal in a transaction of its own (R29: refused
// attempts are in the audit log too) and returns it as KindForbidden, or
// KindNotFound for a hidden denial.
func (s *Service) refuse(ctx context.Context, c Caller, op, action string, d *denial) error {
	_, aerr := s.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: c.UserID, ActorName: c.Name(), Action: action,
			TargetKind: d.kind, TargetID: d.id, Outcome: domain.OutcomeDenied, Detail: d.missing, RemoteAddr: c.RemoteAddr})
	})
	if aerr != nil {
		return domain.E(op, aerr)
	}
	if d.hidden {
		return domain.E(op, domain.KindNotFound, errors.New(d.Error()))
	}
	if d.conflict {
		return domain.E(op, domain.KindConflict, errors.New(d.missing))
	}
	return domain.E(op, domain.KindForbidden, errors.New(d.missing))
}

// taken words a unique-key clash for the person who chose the value: the
// store reports which field's key is taken (an id, a name), and its
// driver's text would mean nothing to them. A key the store does not name
// is the entity's name, the one key people choose.
func taken(action string, err error) domain.FieldError {
	entity, _, _ := strings.Cut(action, ".")
	what := strings.ReplaceAll(entity, "_", " ")
	if fs := domain.FieldsOf(err); len(fs) == 1 && fs[0].Field == "id" {
		return domain.FieldError{Field: "id", Message: "another " + what + " already has this id"}
	}
	switch entity {
	case "user":
		return domain.FieldError{Field: "username", Message: "another user already has this username, or one that looks the same (usernames are unique regardless of case and of look-alike characters such as a Cyrillic а for a Latin a)"}
	case "group":
		return domain.FieldError{Field: "name", Message: "another group of the same scope already has this name, or one that looks the same (names are unique regardless of case and of look-alike characters)"}
	case "folder":
		return domain.FieldError{Field: "name", Message: "another folder in the same parent already has this name (names are unique regardless of case)"}
	case "rule":
		return domain.FieldError{Field: "name", Message: "another rule of this group already has this name (names are unique regardless of case)"}
	case "folder_type":
		return domain.FieldError{Field: "name", Message: "another folder type already has this name (names are unique regardless of case)"}
	}
	return domain.FieldError{Field: "name", Message: "another " + what + " already has this name, or one that looks the same (names are unique regardless of case and of look-alike characters)"}
}

// authenticated refuses anonymous callers: nothing administrative is open
// to Public. A caller whose user no longer exists is refused by perms.
func (s *Service) authenticated(op string, c Caller) error {
	if c.Anonymous() {
		return domain.Errorf(op, domain.KindUnauthenticated, "sign in first")
	}
	return nil
}

// audit appends a success record to tx.
func audit(ctx context.Context, tx store.Tx, c Caller, action, kind, id string, before, after any, detail string) error {
	e := &domain.AuditEvent{ActorID: c.UserID, ActorName: c.Name(), Action: action, TargetKind: kind, TargetID: id,
		Outcome: domain.OutcomeSuccess, Detail: detail, RemoteAddr: c.RemoteAddr}
	e.Before = asJSON(before)
	e.After = asJSON(after)
	return tx.Audit(ctx, e)
}

func asJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	return b
}

// ---- authorization through the engine ----

// perms is what the caller holds, read once per use case from the engine.
type perms struct {
	s    *Service
	c    Caller
	eng  *engine.Engine
	now  time.Time
	sys  map[string]bool
	proj map[string]map[string]bool
}

func (s *Service) perms(op string, c Caller) (*perms, error) {
	p := &perms{s: s, c: c, eng: s.f.Engine(), now: s.now(), proj: map[string]map[string]bool{}}
	keys, err := p.eng.EffectivePermissions(p.subject(), engine.Resource{Kind: engine.KindSystem}, p.now)
	if err != nil {
		if domain.Is(err, domain.KindNotFound) {
			return nil, domain.Errorf(op, domain.KindUnauthenticated, "the signed-in user no longer exists")
		}
		return nil, domain.E(op, err)
	}
	p.sys = set(keys)
	if c.Limited() {
		// A limited API token holds the user's permissions only where the
		// limit (closed under R8) also has them.
		allowed := set(domain.Close(c.Limit))
		for k := range p.sys {
			if !allowed[k] {
				delete(p.sys, k)
			}
		}
	}
	return p, nil
}

func (p *perms) subject() engine.Subject { return engine.Subject{UserID: p.c.UserID} }

func set(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// has reports whether the caller holds a system permission.
func (p *perms) has(key string) bool { return p.sys[key] }

// onProject returns the caller's permissions on a project. A project the
// engine does not know yet (created in this transaction) gives none.
func (p *perms) onProject(projectID string) map[string]bool {
	if m, ok := p.proj[projectID]; ok {
		return m
	}
	if p.c.Limited() {
		return nil // a limited token holds no project permission
	}
	keys, err := p.eng.EffectivePermissions(p.subject(), engine.Resource{Kind: engine.KindProject, ID: projectID}, p.now)
	if err != nil {
		keys = nil
	}
	m := set(keys)
	p.proj[projectID] = m
	return m
}

// moderates reports whether the caller holds project.moderate on the
// project: the delegation of R21.
func (p *perms) moderates(projectID string) bool {
	return projectID != "" && p.onProject(projectID)[domain.PermProjectModerate]
}

// onFolder returns the caller's folder permissions on folder id.
func (p *perms) onFolder(id string) map[string]bool {
	if p.c.Limited() {
		return nil // a limited token holds no folder permission
	}
	keys, err := p.eng.EffectivePermissions(p.subject(), engine.Resource{Kind: engine.KindFolder, ID: id}, p.now)
	if err != nil {
		return nil
	}
	return set(keys)
}

// ---- small helpers over the store ----

func rolePerms(ctx context.Context, r store.Reader, id string, scope domain.Scope, field string) ([]string, *domain.Role, error) {
	if id == "" {
		return nil, nil, nil
	}
	role, err := r.GetRole(ctx, id)
	if domain.Is(err, domain.KindNotFound) {
		return nil, nil, invalid("service", field, "role %s does not exist", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if role.Scope != scope {
		return nil, nil, invalid("service", field, "role %q is a %s role; a %s role is needed here", role.Name, role.Scope, scope)
	}
	return role.Permissions, &role, nil
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	sort.Strings(out)
	return slices.Compact(out)
}

func without(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

func collect[T any](ctx context.Context, list func(cursor string) (store.Page[T], error)) ([]T, error) {
	var out []T
	cursor := ""
	for {
		p, err := list(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		cursor = p.Next
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// ProjectRef names a project in answers that list affected projects.
type ProjectRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
