package domain

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRuleValidate decodes a rule (its criteria and grants) from JSON, as
// the REST API and the declarative configuration do, and validates it:
// validation never panics, and a rule it accepts keeps the invariants the
// engine relies on. Seed corpus: testdata/fuzz/FuzzRuleValidate.
func FuzzRuleValidate(f *testing.F) {
	for _, s := range []string{
		`{"name":"CT","group_id":"g","criteria":[{"folder_type_id":"t","property":"modality","operator":"eq","value":"CT"}],"grants":{"clinical":["read"]}}`,
		`{"name":"x","group_id":"g","criteria":[{"folder_type_id":"t","property":"site","operator":"in","values":["a","b"]}],"grants":{"root":["read","edit"]}}`,
		`{"name":"x","group_id":"g","criteria":[{"folder_type_id":"t","property":"description","operator":"exists"}],"grants":{"root":["read"]}}`,
		`{"name":" ","criteria":[],"grants":{}}`,
		`{"name":"x","group_id":"g","criteria":[{"folder_type_id":"t","property":"p","operator":"like","value":"%"}],"grants":{"../x":["read"],"root":["read","read","fly"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rule
		if json.Unmarshal(b, &r) != nil {
			return
		}
		if err := r.Validate(); err != nil {
			if !Is(err, KindInvalid) || len(FieldsOf(err)) == 0 {
				t.Fatalf("%s: refused without a field error: %v", b, err)
			}
			return
		}
		if len(r.Criteria) == 0 || len(r.Criteria) > MaxCriteria {
			t.Fatalf("%s: accepted with %d criteria", b, len(r.Criteria))
		}
		for _, c := range r.Criteria {
			if c.FolderTypeID != r.Criteria[0].FolderTypeID || c.Property != strings.TrimSpace(c.Property) || c.Property == "" ||
				NameKey(c.Property) == PropertyDescription || !utf8.ValidString(c.Property+c.Value+strings.Join(c.Values, "")) {
				t.Fatalf("%s: accepted a bad criterion %+v", b, c)
			}
			switch c.Operator {
			case OpEq, OpNe, OpContains, OpStartsWith, OpExists:
				if len(c.Values) > 0 {
					t.Fatalf("%s: accepted values with %s", b, c.Operator)
				}
			case OpIn:
				if len(c.Values) == 0 || c.Value != "" {
					t.Fatalf("%s: accepted in without values or with value", b)
				}
			default:
				t.Fatalf("%s: accepted operator %q", b, c.Operator)
			}
		}
		for ctx, acts := range r.Grants {
			for _, a := range acts {
				act, err := ParseAction(a)
				if err != nil || !IsRuleAction(act) {
					t.Fatalf("%s: accepted action %q on %q", b, a, ctx)
				}
			}
		}
	})
}

// FuzzParseLevelAction: level and action names parse back to themselves,
// and anything else is refused without a panic. Seed corpus:
// testdata/fuzz/FuzzParseLevelAction.
func FuzzParseLevelAction(f *testing.F) {
	for _, s := range []string{"read", "edit", "none", "full", "view_blinded", "READ", " read", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l, err := ParseLevel(s); err == nil {
			if again, err := ParseLevel(l.String()); err != nil || again != l {
				t.Fatalf("level %q prints as %q, which parses to %v, %v", s, l.String(), again, err)
			}
		}
		if a, err := ParseAction(s); err == nil {
			if again, err := ParseAction(a.String()); err != nil || again != a {
				t.Fatalf("action %q prints as %q, which parses to %v, %v", s, a.String(), again, err)
			}
		}
	})
}
