package storetest

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// testOIDC holds the store to migration 00007: links from an OpenID
// Connect (issuer, subject) to a user, and who made a membership.
func testOIDC(t *testing.T, newStore NewStore) {
	t.Run("Links", func(t *testing.T) { testOIDCLinks(t, newStore(t)) })
	t.Run("MembershipSource", func(t *testing.T) { testMembershipSource(t, newStore(t)) })
}

func testOIDCLinks(t *testing.T, s store.Store) {
	ctx := context.Background()
	alice, bob := authnUser(t, s, "alice"), authnUser(t, s, "bob")
	_, err := s.GetOIDCLink(ctx, "https://idp.example", "sub-1")
	wantKind(t, err, domain.KindNotFound, "GetOIDCLink before any link")

	link := &domain.OIDCLink{Issuer: "https://idp.example", Subject: "sub-1", UserID: alice, Provider: "corp"}
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateOIDCLink(ctx, link) })
	got, err := s.GetOIDCLink(ctx, "https://idp.example", "sub-1")
	noErr(t, err, "GetOIDCLink")
	if got.UserID != alice || got.Provider != "corp" || got.CreatedAt.IsZero() {
		t.Errorf("GetOIDCLink = %+v, want alice's link from provider corp with a creation time", got)
	}
	// The subject is case-exact (OpenID Connect Core §2): another case is
	// another subject.
	_, err = s.GetOIDCLink(ctx, "https://idp.example", "SUB-1")
	wantKind(t, err, domain.KindNotFound, "GetOIDCLink with the subject in another case")

	expectKind(t, s, domain.KindExists, "a second link of the same subject", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: "https://idp.example", Subject: "sub-1", UserID: bob, Provider: "corp"})
	})
	expectKind(t, s, domain.KindInvalid, "a link without a subject", func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: "https://idp.example", UserID: bob})
	})
	// The same subject at another issuer is another person.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.CreateOIDCLink(ctx, &domain.OIDCLink{Issuer: "https://other.example", Subject: "sub-1", UserID: bob, Provider: "other"})
	})
	links, err := s.ListOIDCLinks(ctx, bob)
	noErr(t, err, "ListOIDCLinks")
	if len(links) != 1 || links[0].Issuer != "https://other.example" {
		t.Errorf("ListOIDCLinks(bob) = %+v, want the one link at other.example", links)
	}

	// Links are not engine data: no change-log row; they go with the user.
	before, err := s.Revision(ctx)
	noErr(t, err, "Revision")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteUser(ctx, alice) })
	_, err = s.GetOIDCLink(ctx, "https://idp.example", "sub-1")
	wantKind(t, err, domain.KindNotFound, "GetOIDCLink after the user was deleted")
	if after, _ := s.Revision(ctx); after != before+1 {
		t.Errorf("revision after deleting a linked user = %d, want %d (one change: the user)", after, before+1)
	}
}

func testMembershipSource(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := authnUser(t, s, "carol")
	g1, g2 := newSystemGroup("mapped"), newSystemGroup("by hand")
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGroup(ctx, g1); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g2); err != nil {
			return err
		}
		if err := tx.PutMembership(ctx, &domain.Membership{GroupID: g1.ID, UserID: u, Source: domain.MembershipByOIDC}); err != nil {
			return err
		}
		return tx.PutMembership(ctx, &domain.Membership{GroupID: g2.ID, UserID: u})
	})
	m, err := s.GetMembership(ctx, g1.ID, u)
	noErr(t, err, "GetMembership")
	if m.Source != domain.MembershipByOIDC {
		t.Errorf("source of the mapped membership = %q, want oidc", m.Source)
	}
	ms, err := s.ListUserMemberships(ctx, u)
	noErr(t, err, "ListUserMemberships")
	sources := map[string]domain.MembershipSource{}
	for _, m := range ms {
		sources[m.GroupID] = m.Source
	}
	if sources[g1.ID] != domain.MembershipByOIDC || sources[g2.ID] != domain.MembershipByAdministrator || len(sources) != 2 {
		t.Errorf("ListUserMemberships sources = %v, want oidc for %s and administrator for %s", sources, g1.ID, g2.ID)
	}
	// An administrator putting the membership again makes it theirs: the
	// mapping no longer owns it.
	mustWrite(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.PutMembership(ctx, &domain.Membership{GroupID: g1.ID, UserID: u})
	})
	if m, _ := s.GetMembership(ctx, g1.ID, u); m.Source != domain.MembershipByAdministrator {
		t.Errorf("source after an administrator's put = %q, want the administrator's", m.Source)
	}
	page, err := s.ListMembers(ctx, g2.ID, store.ListQuery{})
	noErr(t, err, "ListMembers")
	if len(page.Items) != 1 || page.Items[0].Membership.Source != domain.MembershipByAdministrator {
		t.Errorf("ListMembers = %+v, want carol made by an administrator", page.Items)
	}
}
