package domain_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// TestChangeMark: the mark is a function of the change-log row's
// revision, commit microsecond, actor and each object's op, entity and
// id, and of nothing else: an object's other fields (which each server
// version may encode differently) leave it alone, so an upgrade does not
// make every consumer's history look diverged. Its value is pinned: a
// change to what it hashes must be a deliberate one (consumers hold
// marks across server upgrades).
func TestChangeMark(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 20, 31, 123456000, time.UTC)
	g := func(id, name string) domain.Mutation {
		return domain.Mutation{Op: domain.OpPut, Entity: domain.EntityGroup, Group: &domain.Group{ID: id, Name: name}}
	}
	base := domain.Change{Revision: 42, At: at, ActorID: "u1", Mutations: []domain.Mutation{g("g1", "Staff")}}
	mark := domain.ChangeMark(base)
	if mark != "NTrR1g72bGLJbWWF" {
		t.Fatalf("mark %q: want NTrR1g72bGLJbWWF, unless what it hashes was changed on purpose", mark)
	}
	same := base
	same.At = at.Add(999 * time.Nanosecond) // below the stored microsecond
	same.Mutations = []domain.Mutation{g("g1", "Renamed")}
	if got := domain.ChangeMark(same); got != mark {
		t.Errorf("the same row with other object contents: %q, want %q", got, mark)
	}
	for name, ch := range map[string]domain.Change{
		"revision":  {Revision: 43, At: at, ActorID: "u1", Mutations: base.Mutations},
		"time":      {Revision: 42, At: at.Add(time.Microsecond), ActorID: "u1", Mutations: base.Mutations},
		"actor":     {Revision: 42, At: at, ActorID: "u2", Mutations: base.Mutations},
		"object id": {Revision: 42, At: at, ActorID: "u1", Mutations: []domain.Mutation{g("g2", "Staff")}},
		"op":        {Revision: 42, At: at, ActorID: "u1", Mutations: []domain.Mutation{{Op: domain.OpDelete, Entity: domain.EntityGroup, Group: &domain.Group{ID: "g1"}}}},
		"objects":   {Revision: 42, At: at, ActorID: "u1", Mutations: []domain.Mutation{g("g1", "Staff"), g("g1", "Staff")}},
		"no object": {Revision: 42, At: at, ActorID: "u1"},
	} {
		if got := domain.ChangeMark(ch); got == mark {
			t.Errorf("another %s: the same mark %q", name, got)
		}
	}
}
