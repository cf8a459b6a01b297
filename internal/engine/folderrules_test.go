package engine_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine"
	"github.com/gatehouse/gatehouse/internal/engine/reference"
)

// TestFolderRulesAgreesWithReference_R16: on random datasets, and after
// random changes applied incrementally, the engine lists for every folder
// exactly the rules the reference finds matching it or an ancestor, each
// at its nearest match, with its matrix; nearest folder first.
func TestFolderRulesAgreesWithReference_R16(t *testing.T) {
	compared, nonEmpty := 0, 0
	for _, seed := range seeds(150) {
		g := newGen(seed + 7<<40)
		snap := g.snapshot()
		e, err := engine.New(reference.Clone(snap))
		if err != nil {
			t.Fatalf("seed %d: engine.New: %v", seed, err)
		}
		for step := 0; step <= 6; step++ {
			if step > 0 {
				c := g.change(snap)
				c.Revision = snap.Revision + 1
				if err := e.Apply(cloneChange(c)); err != nil {
					t.Fatalf("seed %d step %d: engine.Apply: %v", seed, step, err)
				}
				if err := reference.Apply(snap, cloneChange(c)); err != nil {
					t.Fatalf("seed %d step %d: reference.Apply: %v", seed, step, err)
				}
			}
			ref := reference.New(snap)
			for _, f := range snap.Folders {
				got, err := e.FolderRules(f.ID)
				if err != nil {
					t.Fatalf("seed %d: FolderRules(%s): %v", seed, f.ID, err)
				}
				want, _ := ref.FolderRules(f.ID)
				compared++
				if len(want) > 0 {
					nonEmpty++
				}
				if a, b := describeFolderRules(sortedByID(got)), describeFolderRules(sortedByID(want)); a != b {
					t.Fatalf("seed %d step %d folder %s:\n engine:    %s\n reference: %s", seed, step, f.ID, a, b)
				}
				checkNearestFirst(t, snap, f, got)
			}
		}
	}
	if nonEmpty == 0 || nonEmpty == compared {
		t.Fatalf("the datasets are not telling: %d of %d folders have matching rules", nonEmpty, compared)
	}
	if _, err := engineOf(t).FolderRules("no-such-folder"); !domain.Is(err, domain.KindNotFound) {
		t.Errorf("FolderRules of an unknown folder: %v, want not found", err)
	}
}

func engineOf(t *testing.T) *engine.Engine {
	e, err := engine.New(newGen(1).snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkNearestFirst: the folders matched appear in the order of the path,
// the folder itself first.
func checkNearestFirst(t *testing.T, snap *domain.Snapshot, f domain.Folder, got []engine.FolderRule) {
	t.Helper()
	depth := map[string]int{}
	for d, id := 0, f.ID; id != "" && d <= len(snap.Folders); d++ {
		depth[id] = d
		id = parentOf(snap, id)
	}
	if !slices.IsSortedFunc(got, func(a, b engine.FolderRule) int { return cmp.Compare(depth[a.MatchedID], depth[b.MatchedID]) }) {
		t.Errorf("folder %s: rules not listed nearest folder first: %s", f.ID, describeFolderRules(got))
	}
}

func parentOf(snap *domain.Snapshot, id string) string {
	for _, f := range snap.Folders {
		if f.ID == id {
			return f.ParentID
		}
	}
	return ""
}

func sortedByID(rs []engine.FolderRule) []engine.FolderRule {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b engine.FolderRule) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return rs
}

func describeFolderRules(rs []engine.FolderRule) string {
	s := ""
	for _, r := range rs {
		ctxs := make([]string, 0, len(r.Grants))
		for c := range r.Grants {
			ctxs = append(ctxs, c)
		}
		slices.Sort(ctxs)
		s += fmt.Sprintf("[%s %q group %s %q at %s:", r.RuleID, r.RuleName, r.GroupID, r.GroupName, r.MatchedID)
		for _, c := range ctxs {
			s += fmt.Sprintf(" %s=%v", c, r.Grants[c])
		}
		s += "] "
	}
	return s
}
