package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The authorization kernel: every write, whatever its transport (REST,
// console, SCIM, CLI, apply), ends in guard before its transaction may
// commit. guard stages the transaction's mutations on the engine and
// asks the engine, the only evaluator of the model, two questions about
// the state before and the state after:
//
//   - no escalation (R22): does the write grant or take away anything,
//     to anyone, by role, checkbox, membership, individual right, domain,
//     level or rule, that the caller does not hold? (server.manage holders
//     are exempt from this part.)
//   - no lock-out (R3): does an active user still hold server.manage at
//     every later instant, if one did before?
//
// Use cases still decide who may attempt an operation at all (R21: the
// permission the operation needs), and acting on a user asks actOnUser.
// Any error while authorizing refuses the write (fail closed).

// holder is the caller as the engine bounds them.
func holder(c Caller) engine.Holder {
	return engine.Holder{UserID: c.UserID, Limited: c.Limited(), Limit: c.Limit}
}

// guard is the kernel's check of a write about to commit: eng is the
// engine at the revision the transaction builds on.
func (s *Service) guard(tx store.Tx, eng *engine.Engine, c Caller) error {
	muts := tx.Pending()
	if len(muts) == 0 {
		return nil
	}
	after, err := eng.Stage(muts)
	if err != nil {
		return failClosed("the change cannot be evaluated", err)
	}
	now := s.now()
	beyond, err := eng.GrantsBeyond(after, holder(c), now)
	if err != nil {
		return failClosed("your permissions cannot be evaluated", err)
	}
	if len(beyond) > 0 {
		return deny(string(muts[0].Entity), "", "missing permission %s: this change grants or takes it away, and you can grant or take away only what you hold yourself (R22)", summarize(beyond))
	}
	return keepsAnAdministrator(eng, after, now)
}

// keepsAnAdministrator refuses a change after which nobody would hold
// server.manage at some later instant, when somebody did before (R3). A
// database that already lacks one (restored, or repaired by hand) is not
// made to refuse every write.
func keepsAnAdministrator(before, after *engine.Engine, now time.Time) error {
	was, _, err := before.HeldForever(domain.PermServerManage, now)
	if err != nil {
		return failClosed("the administrators cannot be evaluated", err)
	}
	if !was {
		return nil
	}
	is, until, err := after.HeldForever(domain.PermServerManage, now)
	if err != nil {
		return failClosed("the administrators cannot be evaluated", err)
	}
	if is {
		return nil
	}
	when := "at once"
	if !until.IsZero() {
		when = "from " + until.UTC().Format("2006-01-02 15:04:05 UTC") + ", when the last grant of it expires"
	}
	d := &denial{missing: fmt.Sprintf("this change would leave no active user holding %s %s; give it to another user without an expiry first (R3: no lock-out)", domain.PermServerManage, when),
		kind: "system", conflict: true}
	return d
}

// summarize names at most five missing items and counts the rest.
func summarize(items []string) string {
	const most = 5
	if len(items) <= most {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:most], "; ") + fmt.Sprintf("; and %d more", len(items)-most)
}

// failClosed turns an error met while authorizing into the write's
// failure, keeping its kind (a database outage stays 503): an
// authorization that cannot be completed never lets a write through, and
// is never read as "no permissions" either.
func failClosed(what string, err error) error {
	return domain.E("service.authorize", fmt.Errorf("%s, so the change is refused: %w", what, err))
}

// actOnUser is R22's last sentence: acting on a user (their profile,
// status, role, password, tokens, sessions, deletion) needs key and every
// permission the user holds, of every kind, counted as if they were
// active. A caller acting on themselves needs only key ("" for none).
func (p *perms) actOnUser(userID, key string) error {
	if key != "" && !p.has(key) {
		return deny("user", userID, "missing permission %s", key)
	}
	if userID == p.c.UserID {
		return nil
	}
	over, err := p.eng.Outranks(userID, holder(p.c), p.now)
	if domain.Is(err, domain.KindNotFound) {
		return domain.E("service", domain.KindNotFound, fmt.Errorf("user %s not found", userID))
	}
	if err != nil {
		return failClosed("the user's permissions cannot be evaluated", err)
	}
	if len(over) > 0 {
		return deny("user", userID, "missing permission %s: the user holds it, and you may act only on users who hold no more than you (R22)", summarize(over))
	}
	return nil
}

// MayManageTokens reports whether c may create, list and revoke userID's
// API tokens: their own always; another user's with users.edit on a user
// who holds no more than c (R22: a token for a user is acting on them).
// It answers nil or the refusal: KindNotFound for a user c may not see,
// KindForbidden naming what c lacks, or the error that kept it from
// deciding (fail closed).
// Its shape is authn.Options.MayManageTokens'.
func (s *Service) MayManageTokens(ctx context.Context, actor authn.Identity, userID string) error {
	const op = "service.MayManageTokens"
	c := actor.Principal
	if err := s.authenticated(op, c); err != nil {
		return err
	}
	p, err := s.perms(op, c)
	if err != nil {
		return err
	}
	if _, err := s.loadUser(ctx, s.st, p, op, userID); err != nil {
		return domain.E(op, err)
	}
	if err := p.actOnUser(userID, domain.PermUsersEdit); err != nil {
		return domain.E(op, err)
	}
	return nil
}
