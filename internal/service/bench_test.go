package service_test

import (
	"strconv"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// BenchmarkAddMember measures one membership add through the service
// (authorize, validate, transaction with audit, engine catch-up) on SQLite.
func BenchmarkAddMember(b *testing.B) {
	e := newEnv(b)
	g := e.sysGroup("Bench", domain.PermReportsView)
	users := make([]string, b.N)
	for i := range users {
		u, _, err := e.svc.CreateUser(e.ctx, e.admin, service.NewUser{Username: "u" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		users[i] = u.ID
	}
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := e.svc.AddMembers(e.ctx, e.admin, g.ID, []service.MemberInput{{UserID: users[i]}}); err != nil {
			b.Fatal(err)
		}
	}
}
