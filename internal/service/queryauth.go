package service

import (
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// MayAskAboutOthers reports whether c may ask the engine about subjects
// other than itself: that needs users.view, since the answers say what
// another user may do (docs/api.md, "Who may ask"). It is asked on every
// check about another user, so it is one engine check of users.view
// instead of the caller's whole permission set; a limited API token also
// needs users.view within its limit (closed under R8). Anonymous callers
// may not. An error (the caller's user no longer exists, the engine
// failed) comes back with false, so a caller that ignores it still
// refuses.
func (s *Service) MayAskAboutOthers(c Caller) (bool, error) {
	const op = "service.MayAskAboutOthers"
	if c.Anonymous() {
		return false, nil
	}
	d, err := s.f.Engine().Check(engine.Subject{UserID: c.UserID}, domain.PermUsersView,
		engine.Resource{Kind: engine.KindSystem}, s.now())
	if err != nil {
		if domain.Is(err, domain.KindNotFound) {
			return false, domain.Errorf(op, domain.KindUnauthenticated, "the signed-in user no longer exists")
		}
		return false, domain.E(op, err)
	}
	if !d.Allowed {
		return false, nil
	}
	if c.Limited() && !domain.Implies(c.Limit, domain.PermUsersView) {
		return false, nil
	}
	return true, nil
}
