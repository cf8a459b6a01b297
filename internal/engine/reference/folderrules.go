package reference

import (
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
)

// FolderRules is R16 read straight: every rule that matches the folder or
// one of its ancestors grants its matrix there; each rule is listed once,
// at the nearest folder it matches, with the rule actions of its matrix.
// The order is the snapshot's; callers sort.
func (e *Evaluator) FolderRules(folderID string) ([]engine.FolderRule, error) {
	f := e.folder(folderID)
	if f == nil {
		return nil, fmt.Errorf("folder %q not found", folderID)
	}
	var out []engine.FolderRule
	for i := range e.snap.Rules {
		r := &e.snap.Rules[i]
		for _, a := range e.ancestry(f) {
			if ruleMatches(r, a) {
				out = append(out, engine.FolderRule{RuleID: r.ID, RuleName: r.Name, GroupID: r.GroupID,
					GroupName: e.groupName(r.GroupID), MatchedID: a.ID, Grants: ruleMatrix(r)})
				break
			}
		}
	}
	return out, nil
}

// ruleMatrix keeps, per context, the actions a matrix may grant (docs/model.md
// §5), in the order of domain.Actions.
func ruleMatrix(r *domain.Rule) map[string][]string {
	out := map[string][]string{}
	for ctx, acts := range r.Grants {
		for _, name := range domain.Actions() {
			if a, _ := domain.ParseAction(name); domain.IsRuleAction(a) && slices.Contains(acts, name) {
				out[ctx] = append(out[ctx], name)
			}
		}
	}
	return out
}
