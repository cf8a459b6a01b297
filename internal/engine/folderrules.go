package engine

import (
	"cmp"
	"slices"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// FolderRule is a rule that grants on a folder because it matches the
// folder or one of its ancestors (R16), for the console's folder page.
type FolderRule struct {
	RuleID, RuleName   string
	GroupID, GroupName string
	// MatchedID is the nearest folder on the path that the rule matches:
	// the folder itself, or the ancestor it inherits the grant from.
	MatchedID string
	// Grants is the rule's matrix: each context with the actions granted
	// there, in the order of domain.Actions; empty rows are left out.
	Grants map[string][]string
}

// FolderRules lists every rule that matches the folder or an ancestor,
// once each, at its nearest match; sorted nearest folder first, then by
// group name, rule name and id. It answers from the same index as Check,
// so the page shows exactly the rules a check would follow.
func (e *Engine) FolderRules(folderID string) ([]FolderRule, error) {
	const op = "engine.FolderRules"
	st := e.cur.Load()
	fi, _, err := st.folderByID(op, folderID)
	if err != nil {
		return nil, err
	}
	var out []FolderRule
	depth := map[string]int{}
	seen := map[int32]bool{}
	for x, d := fi, 0; x != none; d++ {
		f := st.folders.get(x)
		depth[f.id] = d
		for _, ref := range f.rules {
			if r := st.rules.get(ref.r); r != nil && !seen[ref.r] {
				seen[ref.r] = true
				out = append(out, st.folderRule(r, f.id))
			}
		}
		x = f.parent
	}
	slices.SortFunc(out, func(a, b FolderRule) int {
		return cmp.Or(cmp.Compare(depth[a.MatchedID], depth[b.MatchedID]),
			cmp.Compare(domain.NameKey(a.GroupName), domain.NameKey(b.GroupName)),
			cmp.Compare(domain.NameKey(a.RuleName), domain.NameKey(b.RuleName)),
			cmp.Compare(a.RuleID, b.RuleID))
	})
	return out, nil
}

func (st *state) folderRule(r *ruleRec, matched string) FolderRule {
	fr := FolderRule{RuleID: r.id, RuleName: r.name, MatchedID: matched, Grants: map[string][]string{}}
	if g := st.groups.get(r.g); g != nil {
		fr.GroupID, fr.GroupName = g.id, g.name
	}
	for _, cg := range r.grants {
		for a := domain.Action(0); a < domain.NumActions; a++ {
			if cg.mask&(1<<a) != 0 {
				fr.Grants[cg.ctx] = append(fr.Grants[cg.ctx], a.String())
			}
		}
	}
	return fr
}
