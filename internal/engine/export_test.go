package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Frozen returns an engine that answers from e's current state forever,
// like a reader that loaded the state before an Apply: copy-on-write
// promises that no later Apply changes what it sees.
func Frozen(e *Engine) *Engine {
	f := &Engine{gen: e.gen}
	f.cur.Store(e.snapshot())
	return f
}

// ProjectNestingDiff describes where a's and b's per-project lists of
// nested groups (projnest.go) differ, by ids; "" when they agree. An
// engine kept incrementally must hold the lists a rebuild computes.
func ProjectNestingDiff(a, b *Engine) string {
	sa, sb := a.snapshot(), b.snapshot()
	lists := func(st *state) map[string][]string {
		out := map[string][]string{}
		for pi := int32(0); pi < st.projects.n; pi++ {
			p := st.projects.get(pi)
			if p == nil {
				continue
			}
			for _, e := range p.nested {
				role := "none"
				if r := st.roles.get(e.role); r != nil {
					role = r.id
				}
				out[p.id] = append(out[p.id], fmt.Sprintf("%s below %s (role %s, mask %b) until %d",
					st.groups.get(e.d).id, st.groups.get(e.g).id, role, e.mask, e.exp))
			}
		}
		return out
	}
	la, lb := lists(sa), lists(sb)
	for id := range la {
		slices.Sort(la[id]) // group and role ints depend on the order of arrival
		slices.Sort(lb[id])
	}
	var diffs []string
	for id, l := range la {
		if !slices.Equal(l, lb[id]) {
			diffs = append(diffs, fmt.Sprintf("project %s: %q, other %q", id, l, lb[id]))
		}
	}
	for id, l := range lb {
		if _, ok := la[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("project %s: none, other %q", id, l))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "\n")
}

// ProjectPathsDiff describes the users and projects where the check's
// project path (direct groups and the project's nested list) answers
// otherwise than the effective groups do at now; "" when they agree.
func ProjectPathsDiff(e *Engine, now time.Time) string {
	st := e.snapshot()
	var diffs []string
	for ui := int32(0); ui < st.users.n; ui++ {
		u := st.users.get(ui)
		if u == nil {
			continue
		}
		w := who{u: u, now: nanos(now)}
		groups := st.groupsOf(w, nil)
		for pi := int32(0); pi < st.projects.n; pi++ {
			p := st.projects.get(pi)
			if p == nil {
				continue
			}
			if x, y := st.projOf(w, groups, p, pi), st.projOfDirect(w, p, pi); x != y {
				diffs = append(diffs, fmt.Sprintf("user %s on project %s: effective groups %b, direct and nested %b", u.id, p.id, x, y))
			}
		}
	}
	return strings.Join(diffs, "\n")
}
