package crash

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// opKind is one kind of write the load makes.
type opKind int

const (
	opCreateGroup opKind = iota
	opDeleteGroup
	opAddMember
	opRemoveMember
	opSystemGrants
	opSetLevel
	opDeleteLevel
	opCreateRule
	opDeleteRule
)

var opNames = [...]string{"create group", "delete group", "add member", "remove member",
	"set system grants", "set folder level", "delete folder level", "create rule", "delete rule"}

func (k opKind) String() string { return opNames[k] }

// op is one write: its kind and the keys it touches. Every op is chosen
// so that it changes something (the model says what is there), so each
// acknowledged one has exactly one change-log row.
type op struct {
	kind   opKind
	group  string
	user   string
	folder string
	level  string
	role   string
	perms  []string
	rule   string
}

func (o op) String() string {
	s := o.kind.String() + " group=" + o.group
	if o.user != "" {
		s += " user=" + o.user
	}
	if o.folder != "" {
		s += " folder=" + o.folder + " level=" + o.level
	}
	if o.kind == opSystemGrants {
		s += fmt.Sprintf(" role=%q perms=%v", o.role, o.perms)
	}
	if o.rule != "" {
		s += " rule=" + o.rule
	}
	return s
}

// groupState is what the model knows of one group a client owns.
type groupState struct {
	Members map[string]bool   // user ids
	Role    string            // system role id
	Perms   []string          // system permissions, sorted
	Levels  map[string]string // folder id → level name
	Rules   map[string]bool   // rule ids
}

// model is one client's groups, keyed by id. Clients own disjoint sets of
// groups, and everything the load writes hangs off a group (memberships,
// grants, levels, rules), so each client knows exactly what its part of
// the database holds after each acknowledged write.
type model map[string]*groupState

func (m model) clone() model {
	c := make(model, len(m))
	for id, g := range m {
		c[id] = &groupState{Members: maps.Clone(g.Members), Role: g.Role, Perms: slices.Clone(g.Perms),
			Levels: maps.Clone(g.Levels), Rules: maps.Clone(g.Rules)}
	}
	return c
}

func newGroupState() *groupState {
	return &groupState{Members: map[string]bool{}, Levels: map[string]string{}, Rules: map[string]bool{}}
}

// apply returns the model after o.
func (m model) apply(o op) model {
	c := m.clone()
	switch o.kind {
	case opCreateGroup:
		c[o.group] = newGroupState()
	case opDeleteGroup:
		delete(c, o.group)
	case opAddMember:
		c[o.group].Members[o.user] = true
	case opRemoveMember:
		delete(c[o.group].Members, o.user)
	case opSystemGrants:
		c[o.group].Role, c[o.group].Perms = o.role, slices.Sorted(slices.Values(o.perms))
	case opSetLevel:
		c[o.group].Levels[o.folder] = o.level
	case opDeleteLevel:
		delete(c[o.group].Levels, o.folder)
	case opCreateRule:
		c[o.group].Rules[o.rule] = true
	case opDeleteRule:
		delete(c[o.group].Rules, o.rule)
	}
	return c
}

// equal compares two models, an empty set equal to a missing one.
func (m model) equal(o model) bool {
	if len(m) != len(o) {
		return false
	}
	for id, g := range m {
		h, ok := o[id]
		if !ok || g.Role != h.Role || !slices.Equal(g.Perms, h.Perms) ||
			!maps.Equal(g.Members, h.Members) || !maps.Equal(g.Levels, h.Levels) || !maps.Equal(g.Rules, h.Rules) {
			return false
		}
	}
	return true
}

func (g *groupState) String() string {
	if g == nil {
		return "absent"
	}
	return fmt.Sprintf("members=%v role=%q perms=%v levels=%v rules=%v",
		slices.Sorted(maps.Keys(g.Members)), g.Role, g.Perms, g.Levels, slices.Sorted(maps.Keys(g.Rules)))
}

// diff lists the groups on which m (what the model wants) and got differ.
func (m model) diff(got model) string {
	ids := map[string]bool{}
	for id := range m {
		ids[id] = true
	}
	for id := range got {
		ids[id] = true
	}
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		w, g := m[id], got[id]
		if w.String() != g.String() {
			fmt.Fprintf(&b, "\n  group %s:\n    want %s\n    got  %s", id, w, g)
		}
	}
	return b.String()
}

// fixture is what the setup created once per backend and every client
// uses: users to add, folders to set levels on, the folder type rules
// match on.
type fixture struct {
	users      []string
	folders    []string
	folderType string
}

// system permissions the grants choose from; kept clear of the
// administrative ones, so no load write needs roles.assign_admin.
var grantPerms = []string{domain.PermUsersView, domain.PermGroupsView, domain.PermAuditView,
	domain.PermReportsView, domain.PermStorageView, domain.PermVolumeDownload}

var grantRoles = []string{"", domain.RoleSystemMemberID, domain.RoleSystemManagerID}

var levelNames = []string{"none", "view", "download", "edit", "upload"}

// ack is an acknowledged write: the op and the revision the server said
// it committed at.
type ack struct {
	op       op
	revision int64
}

// client is one writer: its model, the writes acknowledged, and the one
// write whose answer the last kill lost, if any.
type writer struct {
	id       int
	rng      *rand.Rand
	fx       *fixture
	model    model
	owned    map[string]bool // every group and rule id it ever created
	acks     []ack
	lastRev  int64 // the revision of its last acknowledged write
	inflight *op
}

// next chooses an op that changes something, by the model.
func (c *writer) next() op {
	ids := slices.Sorted(maps.Keys(c.model))
	if len(ids) < 2 || c.rng.IntN(12) == 0 {
		return op{kind: opCreateGroup, group: domain.NewID()}
	}
	g := ids[c.rng.IntN(len(ids))]
	st := c.model[g]
	for {
		switch c.rng.IntN(10) {
		case 0:
			if len(ids) > 3 {
				return op{kind: opDeleteGroup, group: g}
			}
		case 1, 2:
			u := c.fx.users[c.rng.IntN(len(c.fx.users))]
			if !st.Members[u] {
				return op{kind: opAddMember, group: g, user: u}
			}
		case 3:
			if len(st.Members) > 0 {
				us := slices.Sorted(maps.Keys(st.Members))
				return op{kind: opRemoveMember, group: g, user: us[c.rng.IntN(len(us))]}
			}
		case 4:
			role := grantRoles[c.rng.IntN(len(grantRoles))]
			var perms []string
			for _, p := range grantPerms {
				if c.rng.IntN(3) == 0 {
					perms = append(perms, p)
				}
			}
			slices.Sort(perms)
			if role != st.Role || !slices.Equal(perms, st.Perms) {
				return op{kind: opSystemGrants, group: g, role: role, perms: perms}
			}
		case 5, 6:
			f := c.fx.folders[c.rng.IntN(len(c.fx.folders))]
			lv := levelNames[c.rng.IntN(len(levelNames))]
			if cur, ok := st.Levels[f]; !ok || cur != lv {
				return op{kind: opSetLevel, group: g, folder: f, level: lv}
			}
		case 7:
			if len(st.Levels) > 0 {
				fs := slices.Sorted(maps.Keys(st.Levels))
				return op{kind: opDeleteLevel, group: g, folder: fs[c.rng.IntN(len(fs))]}
			}
		case 8:
			return op{kind: opCreateRule, group: g, rule: domain.NewID()}
		case 9:
			if len(st.Rules) > 0 {
				rs := slices.Sorted(maps.Keys(st.Rules))
				return op{kind: opDeleteRule, group: g, rule: rs[c.rng.IntN(len(rs))]}
			}
		}
	}
}

// request is the HTTP request of o.
func (c *writer) request(o op) (method, path string, body any) {
	switch o.kind {
	case opCreateGroup:
		return "POST", "/groups", map[string]any{"id": o.group, "scope": "system",
			"name": fmt.Sprintf("crash c%d %s", c.id, o.group)}
	case opDeleteGroup:
		return "DELETE", "/groups/" + o.group + "?confirm=true", nil
	case opAddMember:
		return "POST", "/groups/" + o.group + "/members", map[string]any{"members": []any{map[string]any{"user_id": o.user}}}
	case opRemoveMember:
		return "DELETE", "/groups/" + o.group + "/members/" + o.user, nil
	case opSystemGrants:
		b := map[string]any{"system_permissions": nonNil(o.perms)}
		if o.role != "" {
			b["system_role_id"] = o.role
		}
		return "PUT", "/groups/" + o.group + "/system-grants", b
	case opSetLevel:
		return "PUT", "/folders/" + o.folder + "/levels/" + o.group, map[string]any{"level": o.level}
	case opDeleteLevel:
		return "DELETE", "/folders/" + o.folder + "/levels/" + o.group, nil
	case opCreateRule:
		area := []string{"a", "b", "c"}[c.rng.IntN(3)]
		return "POST", "/groups/" + o.group + "/rules", map[string]any{"id": o.rule, "name": "rule " + o.rule,
			"criteria": []any{map[string]any{"folder_type_id": c.fx.folderType, "property": "area", "operator": "eq", "value": area}},
			"grants":   map[string]any{"doc": []string{"read", "edit"}[:1+c.rng.IntN(2)]}}
	case opDeleteRule:
		return "DELETE", "/rules/" + o.rule, nil
	}
	panic("unknown op")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// api is an authenticated caller of one running server.
type api struct {
	base  string // …/api/v1
	token string
	hc    *http.Client
}

// errLost is a request whose answer never came: the connection failed
// (refused, reset, closed) because the server was killed.
var errLost = errors.New("answer lost")

// call sends one request; a network failure is errLost, any status comes
// back with the body and the revision header.
func (a *api) call(ctx context.Context, method, path string, body any) (int, int64, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := a.hc.Do(req)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%w: %v", errLost, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("%w: reading: %v", errLost, err)
	}
	rev, _ := strconv.ParseInt(res.Header.Get("X-Gatehouse-Revision"), 10, 64)
	return res.StatusCode, rev, b, nil
}

// run makes writes until one's answer is lost (the server was killed) or
// ctx ends. A refusal is a failure of the run: the model chose a write
// that must succeed. It returns the refusals.
func (c *writer) run(ctx context.Context, a *api) []string {
	var failures []string
	for ctx.Err() == nil {
		o := c.next()
		method, path, body := c.request(o)
		status, rev, b, err := a.call(ctx, method, path, body)
		switch {
		case err != nil && errors.Is(err, errLost):
			// Killed under it (or, if ctx ended, cancelled): the
			// write may or may not have committed, which the
			// verification after the restart finds out.
			c.inflight = &o
			return failures
		case err != nil:
			failures = append(failures, fmt.Sprintf("client %d: %s: %v", c.id, o, err))
			return failures
		case status/100 == 2 && rev > 0:
			c.acks = append(c.acks, ack{op: o, revision: rev})
			c.lastRev = rev
			c.model = c.model.apply(o)
			c.owned[o.group] = true
			if o.rule != "" {
				c.owned[o.rule] = true
			}
		case status/100 == 2:
			failures = append(failures, fmt.Sprintf("client %d: %s %s: %s answered %d without an X-Gatehouse-Revision", c.id, method, path, o, status))
			return failures
		default:
			failures = append(failures, fmt.Sprintf("client %d: %s (%s %s) = %d %s", c.id, o, method, path, status, b))
			// What the server did is unknown to the model now:
			// treat it as a lost answer, which verification resolves.
			c.inflight = &o
			return failures
		}
	}
	return failures
}
