package service

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// syncOIDCGroups applies a provider's group mapping at a sign-in: the user
// joins every mapped group they are not in, and leaves every group the
// mapping had put them in (source oidc) that is no longer mapped. A
// membership an administrator made is never removed, nor turned into the
// mapping's. Each change is its own write as ProvisionAs, through the
// same use case and kernel as an administrator's (R21–R24, R3, R22), with
// its audit record; a change refused (an exclusive project, R23; a group
// that does not exist; Administrators without allow_administrators; a
// right ProvisionAs lacks) is audited and reported in res.Refused, and
// the sign-in goes on. An error that is not a refusal (the database)
// fails the sign-in.
func (s *Service) syncOIDCGroups(ctx context.Context, op string, in OIDCSignIn, u domain.User, res *OIDCResult) error {
	c, err := s.provisioner(ctx, op, in)
	if err != nil {
		return err
	}
	want, err := s.mappedGroups(ctx, op, c, in, res)
	if err != nil {
		return err
	}
	have, err := s.st.ListUserMemberships(ctx, u.ID)
	if err != nil {
		return domain.E(op, err)
	}
	in2 := map[string]domain.Membership{}
	for _, m := range have {
		in2[m.GroupID] = m
	}
	via := fmt.Sprintf("; by the group mapping of OpenID Connect provider %s at %s's sign-in", in.Provider, u.Username)
	for _, g := range want {
		if _, ok := in2[g.ID]; ok {
			continue
		}
		_, err := s.mappedChange(ctx, c, op, "group.member_add", g, func(ctx context.Context, tx store.Tx, g *domain.Group, r *MembersResult) error {
			return s.addMembers(ctx, tx, c, op, g, []MemberInput{{UserID: u.ID, Source: domain.MembershipByOIDC}}, r, via)
		})
		if err := s.report(ctx, c, "group.member_add", g, err, &res.Added, &res.Refused); err != nil {
			return err
		}
	}
	for _, m := range have {
		if _, wanted := want[m.GroupID]; wanted || m.Source != domain.MembershipByOIDC {
			continue
		}
		g, err := s.st.GetGroup(ctx, m.GroupID)
		if err != nil {
			return domain.E(op, err)
		}
		_, err = s.mappedChange(ctx, c, op, "group.member_remove", g, func(ctx context.Context, tx store.Tx, g *domain.Group, r *MembersResult) error {
			return s.removeMembers(ctx, tx, c, op, g, []string{u.ID}, r, via)
		})
		if err := s.report(ctx, c, "group.member_remove", g, err, &res.Removed, &res.Refused); err != nil {
			return err
		}
	}
	return nil
}

// mappedGroups resolves the mapped names to system groups, by id;
// names that name no group, a built-in group that has no member list, or
// Administrators without allow_administrators are reported in
// res.Refused (and audited) instead.
func (s *Service) mappedGroups(ctx context.Context, op string, c Caller, in OIDCSignIn, res *OIDCResult) (map[string]domain.Group, error) {
	want := map[string]domain.Group{}
	for _, name := range in.Groups {
		g, err := s.systemGroupNamed(ctx, name)
		var why string
		switch {
		case domain.Is(err, domain.KindNotFound):
			why = "there is no such system group"
		case err != nil:
			return nil, domain.E(op, err)
		case g.Builtin == domain.BuiltinEveryone || g.Builtin == domain.BuiltinPublic:
			why = "its members are implicit (R4, R5)"
		case g.Builtin == domain.BuiltinAdministrators && !in.AllowAdministrators:
			why = "the provider's group_mapping does not set allow_administrators, so the mapping never puts anyone into Administrators (R3)"
		}
		if why != "" {
			msg := fmt.Sprintf("group %q: %s", name, why)
			res.Refused = append(res.Refused, msg)
			if err := s.auditMapping(ctx, c, "group.member_add", g.ID, msg+fmt.Sprintf("; provider %s, user %s", in.Provider, in.Username)); err != nil {
				return nil, err
			}
			continue
		}
		want[g.ID] = g
	}
	return want, nil
}

// systemGroupNamed finds a system group by name, case-insensitively.
func (s *Service) systemGroupNamed(ctx context.Context, name string) (domain.Group, error) {
	key := domain.NameKey(name)
	q := store.ListQuery{Search: name, Scope: domain.ScopeSystem, Limit: 1000}
	for {
		page, err := s.st.ListGroups(ctx, q)
		if err != nil {
			return domain.Group{}, err
		}
		for _, g := range page.Items {
			if domain.NameKey(g.Name) == key {
				return g, nil
			}
		}
		if page.Next == "" {
			return domain.Group{}, domain.Errorf("service.systemGroupNamed", domain.KindNotFound, "no system group %q", name)
		}
		q.Cursor = page.Next
	}
}

// mappedChange is one membership change of the mapping, as one write of
// c: the group is read again and authorized as for an administrator.
func (s *Service) mappedChange(ctx context.Context, c Caller, op, action string, g domain.Group,
	change func(ctx context.Context, tx store.Tx, g *domain.Group, r *MembersResult) error) (int64, error) {
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := loadGroup(ctx, tx, p, op, g.ID)
		if err != nil {
			return err
		}
		if err := authorizeMembers(p, op, &g); err != nil {
			return err
		}
		projects, err := presentIn(ctx, tx, &g)
		if err != nil {
			return err
		}
		return change(ctx, tx, &g, &MembersResult{Users: []string{}, Projects: projects})
	})
}

// report files a mapped change under done or refused. A refusal the
// kernel did not audit itself (an exclusive-project conflict, a bad
// input) is audited here; any other error is returned.
func (s *Service) report(ctx context.Context, c Caller, action string, g domain.Group, err error, done, refused *[]string) error {
	switch {
	case err == nil:
		*done = append(*done, g.Name)
		return nil
	case domain.Is(err, domain.KindForbidden), domain.Is(err, domain.KindNotFound):
		// Already audited as denied by the write (R29).
		*refused = append(*refused, fmt.Sprintf("group %q: %s", g.Name, message(err)))
		return nil
	case domain.Is(err, domain.KindConflict), domain.Is(err, domain.KindInvalid):
		msg := fmt.Sprintf("group %q: %s", g.Name, message(err))
		*refused = append(*refused, msg)
		return s.auditMapping(ctx, c, action, g.ID, msg)
	}
	return err
}

// auditMapping records a change the mapping could not make (R29).
func (s *Service) auditMapping(ctx context.Context, c Caller, action, groupID, detail string) error {
	_, err := s.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: c.UserID, ActorName: c.Name(), Action: action, TargetKind: "group", TargetID: groupID,
			Outcome: domain.OutcomeDenied, Detail: "not applied by the OpenID Connect group mapping: " + detail, RemoteAddr: c.RemoteAddr})
	})
	return err
}
