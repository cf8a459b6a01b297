package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// BenchmarkEffectiveMembers100k: the shape of the console's large test
// (internal/api/console/large_test.go): 100,000 users in 10 of 10,000
// groups each, the first 1,000 groups in ten depts in all-staff, so that
// all-staff's Nested groups tab lists 100,000 effective members.
func BenchmarkEffectiveMembers100k(b *testing.B) {
	s := &domain.Snapshot{Revision: 1, Roles: domain.BuiltinRoles(), Groups: domain.BuiltinGroups()}
	s.Groups = append(s.Groups, domain.Group{ID: "top", Name: "all-staff", Scope: domain.ScopeSystem})
	for d := range 10 {
		id := fmt.Sprintf("dept-%02d", d)
		s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
		s.GroupMemberships = append(s.GroupMemberships, domain.GroupMembership{GroupID: "top", MemberGroupID: id})
	}
	for g := range 10_000 {
		id := fmt.Sprintf("g-%04d", g)
		s.Groups = append(s.Groups, domain.Group{ID: id, Name: id, Scope: domain.ScopeSystem})
		if g < 1000 {
			s.GroupMemberships = append(s.GroupMemberships, domain.GroupMembership{GroupID: fmt.Sprintf("dept-%02d", g%10), MemberGroupID: id})
		}
	}
	for u := range 100_000 {
		id := fmt.Sprintf("u-%06d", u)
		s.Users = append(s.Users, domain.User{ID: id, Username: id, Status: domain.UserActive})
		for k := range 10 {
			s.Memberships = append(s.Memberships, domain.Membership{GroupID: fmt.Sprintf("g-%04d", (u+k*1000)%10_000), UserID: id})
		}
	}
	s.FolderTypes = []domain.FolderType{domain.BuiltinFolderType()}
	e, err := New(s)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		name string
		list func(string, time.Time) ([]EffectiveMember, error)
	}{{"paths", e.EffectiveMembers}, {"nopaths", e.EffectiveMembersNoPaths}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ms, err := c.list("top", now)
				if err != nil || len(ms) != 100_000 {
					b.Fatalf("%d members, %v", len(ms), err)
				}
			}
		})
	}
}
