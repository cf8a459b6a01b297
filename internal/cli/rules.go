package cli

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// A rule's criterion is typed as one string, 'TYPE.PROPERTY OP VALUE'
// (GRT Study.phase in 2,3). Type names and property names may hold spaces
// and dots, so the string is not split blindly: the operator is a word of
// its own, and TYPE.PROPERTY is split where the part before the dot is a
// folder type the server knows.

// operatorWords are the operators as typed: the API's names, and = and
// != for eq and ne.
var operatorWords = map[string]domain.Operator{"=": domain.OpEq, "==": domain.OpEq, "!=": domain.OpNe}

func init() {
	for _, op := range domain.Operators() {
		operatorWords[string(op)] = op
	}
}

var words = regexp.MustCompile(`\S+`)

// criterionSyntax is a criterion split into its parts, before the type is
// resolved.
type criterionSyntax struct {
	lhs   []string // the candidates for TYPE.PROPERTY, one per operator word
	ops   []domain.Operator
	value []string
}

// splitCriterion finds every way to read s as LEFT OP [VALUE] with a dot
// in LEFT; the type lookup picks one.
func splitCriterion(s string) (criterionSyntax, error) {
	var cs criterionSyntax
	idx := words.FindAllStringIndex(s, -1)
	for i := 1; i < len(idx); i++ {
		op, ok := operatorWords[strings.ToLower(s[idx[i][0]:idx[i][1]])]
		left := strings.TrimSpace(s[:idx[i][0]])
		if !ok || !strings.Contains(left, ".") {
			continue
		}
		cs.lhs = append(cs.lhs, left)
		cs.ops = append(cs.ops, op)
		cs.value = append(cs.value, strings.TrimSpace(s[idx[i][1]:]))
	}
	if len(cs.lhs) == 0 {
		ops := make([]string, 0, len(domain.Operators()))
		for _, op := range domain.Operators() {
			ops = append(ops, string(op))
		}
		return cs, fmt.Errorf("--criterion %q: want 'TYPE.PROPERTY OP VALUE' (e.g. 'Study.phase eq 2'), OP one of %s", s, strings.Join(ops, ", "))
	}
	return cs, nil
}

// unquote strips one pair of double quotes, so that "" is an empty value.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// criterionValue fills the value the operator takes: none for exists, a
// comma-separated list for in, one value for the others.
func criterionValue(raw string, op domain.Operator, c *api.Criterion) error {
	switch op {
	case domain.OpExists:
		if raw != "" {
			return fmt.Errorf("the exists operator takes no value (got %q)", raw)
		}
	case domain.OpIn:
		for _, v := range strings.Split(raw, ",") {
			if v = strings.TrimSpace(v); v != "" {
				c.Values = append(c.Values, unquote(v))
			}
		}
		if len(c.Values) == 0 {
			return fmt.Errorf("the in operator needs values, comma-separated (in 2,3)")
		}
	default:
		if raw == "" {
			return fmt.Errorf("the %s operator needs a value (\"\" for the empty one)", op)
		}
		c.Value = unquote(raw)
	}
	return nil
}

// parseCriterion reads one --criterion against the folder types. A
// malformed string is a usage mistake (usage true); an unknown type is
// not, as for any unknown name.
func parseCriterion(s string, types []api.FolderType) (c api.Criterion, usage bool, err error) {
	cs, err := splitCriterion(s)
	if err != nil {
		return c, true, err
	}
	type cand struct {
		t        api.FolderType
		prop     string
		declared bool
		i        int
	}
	var cands []cand
	for i, left := range cs.lhs {
		for dot := 0; dot < len(left); dot++ {
			if left[dot] != '.' {
				continue
			}
			tn, prop := strings.TrimSpace(left[:dot]), strings.TrimSpace(left[dot+1:])
			t, terr := findFolderType(types, tn)
			if terr != nil || prop == "" {
				continue
			}
			k := cand{t: t, prop: prop, i: i}
			for _, p := range t.Properties {
				if strings.EqualFold(p, prop) {
					k.prop, k.declared = p, true
				}
			}
			cands = append(cands, k)
		}
	}
	if len(cands) == 0 {
		left := cs.lhs[0]
		tn := left[:strings.LastIndex(left, ".")]
		_, terr := findFolderType(types, strings.TrimSpace(tn))
		return c, false, fmt.Errorf("--criterion %q: %v", s, terr)
	}
	// A declared property wins; else the first reading goes to the server,
	// whose error names the undeclared property and lists the type's.
	pick := cands[0]
	for _, k := range cands {
		if k.declared {
			pick = k
			break
		}
	}
	c = api.Criterion{FolderTypeID: pick.t.ID, Property: pick.prop, Operator: string(cs.ops[pick.i])}
	if err := criterionValue(cs.value[pick.i], domain.Operator(c.Operator), &c); err != nil {
		return c, true, fmt.Errorf("--criterion %q: %v", s, err)
	}
	return c, false, nil
}

// parseGrants reads --grant CONTEXT.ACTION values (each may be a comma-
// separated list) into the rule's matrix.
func parseGrants(vals []string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, v := range vals {
		for _, g := range splitList(v) {
			ctx, act, ok := strings.Cut(g, ".")
			if !ok || ctx == "" || act == "" {
				return nil, fmt.Errorf("--grant %q: want CONTEXT.ACTION, e.g. root.read", g)
			}
			if a, err := domain.ParseAction(act); err != nil || !domain.IsRuleAction(a) {
				return nil, fmt.Errorf("--grant %q: a rule cannot grant %q; rule actions are: %s", g, act, strings.Join(domain.RuleActions(), ", "))
			}
			dup := false
			for _, x := range m[ctx] {
				dup = dup || x == act
			}
			if !dup {
				m[ctx] = append(m[ctx], act)
			}
		}
	}
	return m, nil
}

func criterionText(types map[string]string, c api.Criterion) string {
	s := typeName(types, c.FolderTypeID) + "." + c.Property + " " + string(c.Operator)
	switch {
	case c.Operator == string(domain.OpIn):
		s += " " + strings.Join(c.Values, ",")
	case c.Operator != string(domain.OpExists) && c.Value == "":
		s += ` ""`
	case c.Operator != string(domain.OpExists):
		s += " " + c.Value
	}
	return s
}

func grantsText(g map[string][]string) string {
	ctxs := make([]string, 0, len(g))
	for k := range g {
		ctxs = append(ctxs, k)
	}
	sort.Strings(ctxs)
	for i, k := range ctxs {
		ctxs[i] = k + ": " + strings.Join(g[k], ",")
	}
	return strings.Join(ctxs, "; ")
}

func ruleTable(w io.Writer, types map[string]string, rs ...api.Rule) *table {
	t := newTable(w, "ID", "NAME", "CRITERIA", "GRANTS")
	for _, r := range rs {
		cs := make([]string, len(r.Criteria))
		for i, c := range r.Criteria {
			cs[i] = criterionText(types, c)
		}
		t.row(r.ID, r.Name, strings.Join(cs, " AND "), grantsText(r.Grants))
	}
	return t
}

// resolveRule finds a group's rule by id or name (any case).
func resolveRule(ctx context.Context, c *gatehouse.Client, g api.Group, s string) (api.Rule, error) {
	rs, err := c.ListRules(ctx, g.ID)
	if err != nil {
		return api.Rule{}, err
	}
	for _, r := range rs {
		if r.ID == s {
			return r, nil
		}
	}
	for _, r := range rs {
		if strings.EqualFold(r.Name, s) {
			return r, nil
		}
	}
	return api.Rule{}, fmt.Errorf("group %s has no rule with the id or name %q", g.Name, s)
}

// ruleBody parses the --criterion and --grant values given into req
// (those not given stay as they are). A malformed one is a usage mistake;
// its syntax is checked before the server is asked for the folder types.
func ruleBody(cmd *cobra.Command, c *gatehouse.Client, req *api.RuleRequest, criteria, grants []string) error {
	if len(grants) > 0 {
		m, err := parseGrants(grants)
		if err != nil {
			return usage(cmd, "%v", err)
		}
		if len(m) == 0 {
			return usage(cmd, "%s needs at least one --grant CONTEXT.ACTION", path(cmd))
		}
		req.Grants = m
	}
	if len(criteria) == 0 {
		return nil
	}
	for _, s := range criteria {
		if _, err := splitCriterion(s); err != nil {
			return usage(cmd, "%v", err)
		}
	}
	types, err := c.ListFolderTypes(cmd.Context())
	if err != nil {
		return err
	}
	req.Criteria = nil
	for _, s := range criteria {
		cr, isUsage, err := parseCriterion(s, types)
		if err != nil {
			if isUsage {
				return usage(cmd, "%v", err)
			}
			return err
		}
		req.Criteria = append(req.Criteria, cr)
	}
	return nil
}

func (a *app) rulesCmd() *cobra.Command {
	cmd := group("rules", "List and administer a group's folder rules (R16)")

	list := &cobra.Command{
		Use:   "list GROUP",
		Short: "List a group's rules",
		Args:  nargs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := resolveGroup(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			rs, err := c.ListRules(cmd.Context(), g.ID)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, api.Page[api.Rule]{Items: rs}, func(w io.Writer) error {
				return ruleTable(w, a.folderTypeNames(cmd, c), rs...).flush()
			})
		},
	}

	var criteria, grants []string
	create := &cobra.Command{
		Use:   "create GROUP NAME --criterion 'TYPE.PROPERTY OP VALUE'... --grant CONTEXT.ACTION...",
		Short: "Add a rule to a group: its grants on every folder matching all criteria (R16)",
		Long: "Add a rule to a group. The group's members get the --grant actions on every folder\n" +
			"(and its subtree) that matches all the --criterion conditions (R16).\n\n" +
			"A criterion is 'TYPE.PROPERTY OP VALUE': TYPE a folder type's name or id, PROPERTY\n" +
			"one it declares (never description, R10), OP one of eq (or =), ne (or !=),\n" +
			"contains, starts_with, in (VALUE a comma-separated list) or exists (no VALUE).\n" +
			"All criteria are on one folder type. A grant is CONTEXT.ACTION, a context of that\n" +
			"type and one of " + strings.Join(domain.RuleActions(), ", ") + ".",
		Example: "  gatehouse rules create Radiologists \"Phase 2 studies\" \\\n" +
			"    --criterion 'GRT Study.phase in 2,3' --grant data.read --grant data.view_blinded",
		Args: nargs("GROUP", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(criteria) == 0 {
				return usage(cmd, "rules create needs at least one --criterion 'TYPE.PROPERTY OP VALUE'")
			}
			if len(grants) == 0 {
				return usage(cmd, "rules create needs at least one --grant CONTEXT.ACTION")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			req := api.RuleRequest{Name: args[1]}
			if err := ruleBody(cmd, c, &req, criteria, grants); err != nil {
				return explain(c, err)
			}
			g, err := resolveGroup(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			rb, err := c.CreateRule(ctx, g.ID, req)
			if err != nil {
				return explain(c, err)
			}
			r := rb.Rule
			return a.output(cmd, r, func(w io.Writer) error { return ruleTable(w, a.folderTypeNames(cmd, c), r).flush() })
		},
	}
	create.Flags().StringArrayVar(&criteria, "criterion", nil, "a condition 'TYPE.PROPERTY OP VALUE' (repeatable; joined by AND)")
	create.Flags().StringArrayVar(&grants, "grant", nil, "an action granted, CONTEXT.ACTION (repeatable, or comma-separated)")

	del := &cobra.Command{
		Use:   "delete GROUP RULE",
		Short: "Delete a group's rule (by id or name)",
		Args:  nargs("GROUP", "RULE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			g, err := resolveGroup(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			r, err := resolveRule(ctx, c, g, args[1])
			if err != nil {
				return explain(c, err)
			}
			if _, err := c.DeleteRule(ctx, r.ID); err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": r.ID, "revision": c.Revision()}, "Rule %s (%s) of group %s deleted", r.Name, r.ID, g.Name)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/groups/{id}/rules"), declare(create, "POST /api/v1/groups/{id}/rules"),
		declare(del, "DELETE /api/v1/rules/{id}"))
	cmd.AddCommand(a.ruleEditCmds()...)
	return cmd
}
