package service

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// OIDCSignIn is a sign-in whose ID token internal/authn/oidcauth has
// verified: who the provider says the person is, and what the provider's
// configuration lets the service do about it.
type OIDCSignIn struct {
	Provider    string // the configured provider's id
	Issuer      string
	Subject     string
	Username    string
	Email       string
	DisplayName string
	// JIT creates the user when neither the subject nor the username is
	// known; ProvisionAs is the username creation and the group mapping
	// act as (the kernel bounds them by what that user holds).
	JIT         bool
	ProvisionAs string
	// MapGroups turns the group mapping on; Groups are the Gatehouse
	// group names it maps the person into now.
	MapGroups           bool
	Groups              []string
	AllowAdministrators bool
	RemoteAddr          string
}

// OIDCResult is what a sign-in did.
type OIDCResult struct {
	User    domain.User
	Created bool // the user was created just in time
	Linked  bool // an existing user was linked to the subject
	// Added and Removed name the groups the mapping changed; Refused
	// says, per group, why the mapping did not change it (an exclusive
	// project, a missing group, Administrators not allowed, R22).
	Added, Removed, Refused []string
}

// Audit actions of OpenID Connect sign-ins.
const (
	ActionOIDCLink = "user.oidc_link"
)

// SignInOIDC finds the user of a verified OpenID Connect sign-in: the one
// linked to (issuer, subject); else an unlinked user with the username,
// linked now; else, with JIT, a new user (source oidc) created as
// ProvisionAs. A change of the person's email or name therefore never
// makes a new user. Then the group mapping is applied (see
// syncOIDCGroups). An unknown person without JIT, a disabled user, or
// an administrator the configuration does not let a provider claim, is
// KindUnauthenticated.
func (s *Service) SignInOIDC(ctx context.Context, in OIDCSignIn) (OIDCResult, error) {
	const op = "service.SignInOIDC"
	var res OIDCResult
	u, err := s.oidcUser(ctx, op, in, &res)
	if err != nil {
		return res, err
	}
	u.PasswordHash = ""
	res.User = u
	if !u.Active() {
		return res, domain.Errorf(op, domain.KindUnauthenticated, "the account %s is disabled (R11)", u.Username)
	}
	if in.MapGroups {
		if err := s.syncOIDCGroups(ctx, op, in, u, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Service) oidcUser(ctx context.Context, op string, in OIDCSignIn, res *OIDCResult) (domain.User, error) {
	link, err := s.st.GetOIDCLink(ctx, in.Issuer, in.Subject)
	switch {
	case err == nil:
		u, err := s.st.GetUser(ctx, link.UserID)
		if domain.Is(err, domain.KindNotFound) {
			return u, domain.Errorf(op, domain.KindUnauthenticated, "the linked user no longer exists")
		}
		return u, err
	case !domain.Is(err, domain.KindNotFound):
		return domain.User{}, domain.E(op, err)
	}
	u, err := s.st.GetUserByUsername(ctx, in.Username)
	switch {
	case err == nil:
		res.Linked = true
		return u, s.linkOIDC(ctx, op, in, u)
	case !domain.Is(err, domain.KindNotFound):
		return u, domain.E(op, err)
	case !in.JIT:
		return u, domain.Errorf(op, domain.KindUnauthenticated,
			"there is no Gatehouse user %q, and this provider does not create users: ask an administrator to create it", in.Username)
	}
	res.Created = true
	return s.createOIDCUser(ctx, op, in)
}

// linkOIDC links an existing user to the sign-in's subject, at the
// user's first sign-in with the provider. A user linked to another
// subject of the same issuer is not taken over, nor is an administrator
// (the break-glass account) unless the configuration allows the
// provider to put people into Administrators.
func (s *Service) linkOIDC(ctx context.Context, op string, in OIDCSignIn, u domain.User) error {
	if err := s.mayTakeByName(ctx, op, in.Issuer, u, in.AllowAdministrators); err != nil {
		return err
	}
	_, err := s.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, Provider: in.Provider}); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: u.ID, ActorName: u.Username, Action: ActionOIDCLink, TargetKind: "user", TargetID: u.ID,
			Outcome: domain.OutcomeSuccess, RemoteAddr: in.RemoteAddr,
			Detail: fmt.Sprintf("linked at the first sign-in with OpenID Connect provider %s (issuer %s, subject %s)", in.Provider, in.Issuer, in.Subject)})
	})
	if err != nil {
		return domain.E(op, err)
	}
	return nil
}

// mayTakeByName says whether an account of issuer that is linked to no
// user may act as u because its name claim names u: not when u is linked
// to another account of that issuer, nor when u holds server.manage (the
// break-glass administrator, R22: a provider account that happens to be
// called "admin" must not become the server's administrator) unless
// allowAdministrators. A refusal is KindUnauthenticated; an error while
// deciding refuses too (fail closed).
func (s *Service) mayTakeByName(ctx context.Context, op, issuer string, u domain.User, allowAdministrators bool) error {
	links, err := s.st.ListOIDCLinks(ctx, u.ID)
	if err != nil {
		return domain.E(op, err)
	}
	for _, l := range links {
		if l.Issuer == issuer {
			return domain.Errorf(op, domain.KindUnauthenticated, "the user %s is linked to another account of this provider", u.Username)
		}
	}
	p, err := s.perms(op, Caller{UserID: u.ID})
	if err != nil {
		return err
	}
	if p.has(domain.PermServerManage) && !allowAdministrators {
		return domain.Errorf(op, domain.KindUnauthenticated,
			"the user %s holds %s and is not linked to a provider at a first sign-in: an administrator keeps signing in with a password (break-glass)", u.Username, domain.PermServerManage)
	}
	return nil
}

// MayActByName says whether a provider's JWT access token from issuer,
// whose (issuer, subject) is linked to no user, may act as userID, the
// user its username claim names (authn.Options.MayActByName): the same
// rule as a first OpenID Connect sign-in, without the exception
// allow_administrators makes there, since an access token is not a
// sign-in anyone sees.
func (s *Service) MayActByName(ctx context.Context, issuer, userID string) error {
	const op = "service.MayActByName"
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return domain.E(op, err)
	}
	return s.mayTakeByName(ctx, op, issuer, u, false)
}

// provisioner is the caller JIT creation and the group mapping act as.
func (s *Service) provisioner(ctx context.Context, op string, in OIDCSignIn) (Caller, error) {
	u, err := s.st.GetUserByUsername(ctx, in.ProvisionAs)
	if domain.Is(err, domain.KindNotFound) {
		return Caller{}, domain.Errorf(op, domain.KindUnavailable,
			"the user %q that provider %s's provision_as names does not exist: the server's OpenID Connect configuration needs fixing", in.ProvisionAs, in.Provider)
	}
	if err != nil {
		return Caller{}, domain.E(op, err)
	}
	return Caller{UserID: u.ID, Username: u.Username, RemoteAddr: in.RemoteAddr}, nil
}

// createOIDCUser creates the user and links it in one transaction, as
// ProvisionAs would create a user (users.edit; the kernel's checks).
func (s *Service) createOIDCUser(ctx context.Context, op string, in OIDCSignIn) (domain.User, error) {
	const action = "user.create"
	c, err := s.provisioner(ctx, op, in)
	if err != nil {
		return domain.User{}, err
	}
	u := domain.User{Username: in.Username, Email: in.Email, DisplayName: in.DisplayName, Status: domain.UserActive,
		Source: domain.SourceOIDC, ShowPersonalInfo: true}
	_, err = s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if !p.has(domain.PermUsersEdit) {
			return deny("user", "", "missing permission %s (R21): provider %s creates users as %s", domain.PermUsersEdit, in.Provider, c.Username)
		}
		if err := valid(&u, nil, identifier.User); err != nil {
			return err
		}
		u.ID = domain.NewID()
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, Provider: in.Provider}); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "user", u.ID, nil, u,
			fmt.Sprintf("created at the first sign-in with OpenID Connect provider %s (issuer %s, subject %s)", in.Provider, in.Issuer, in.Subject))
	})
	return u, err
}

// UserOIDCLinks lists the providers' subjects a user is linked to, for
// whoever may see the user.
func (s *Service) UserOIDCLinks(ctx context.Context, c Caller, userID string) ([]domain.OIDCLink, error) {
	const op = "service.UserOIDCLinks"
	if err := s.authenticated(op, c); err != nil {
		return nil, err
	}
	p, err := s.perms(op, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadUser(ctx, s.st, p, op, userID); err != nil {
		return nil, domain.E(op, err)
	}
	links, err := s.st.ListOIDCLinks(ctx, userID)
	if err != nil {
		return nil, domain.E(op, err)
	}
	return links, nil
}
