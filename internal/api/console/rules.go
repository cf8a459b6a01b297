package console

import (
	"errors"
	"fmt"
	"github.com/gatehouse/gatehouse/internal/service"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// criterionRow is one criteria row of the rule editor; Values of an "in"
// criterion are edited as one comma-separated field.
type criterionRow struct {
	Index                       int
	TypeID, Property, Op, Value string
	Invalid                     bool // the refusal names this row
}

// ruleForm is the rule editor's state, from a stored rule or from the
// posted form (when a row is added or removed without JavaScript, the
// form comes back with what was typed).
type ruleForm struct {
	ID, Name string
	// TypeID is the folder type of every criterion: a folder has one
	// type and criteria are joined by AND, so the rule names it once.
	TypeID string
	Rows   []criterionRow
	Grants map[string]bool // "<context>.<action>"
}

func formOfRule(r domain.Rule) ruleForm {
	f := ruleForm{ID: r.ID, Name: r.Name, Grants: map[string]bool{}}
	if len(r.Criteria) > 0 {
		f.TypeID = r.Criteria[0].FolderTypeID
	}
	for i, c := range r.Criteria {
		v := c.Value
		if c.Operator == domain.OpIn {
			v = strings.Join(c.Values, ", ")
		}
		f.Rows = append(f.Rows, criterionRow{Index: i, TypeID: c.FolderTypeID, Property: c.Property, Op: string(c.Operator), Value: v})
	}
	for ctx, acts := range r.Grants {
		for _, a := range acts {
			f.Grants[ctx+"."+a] = true
		}
	}
	return f
}

// ruleContexts lists every security context the folder types declare,
// root first [S3]: the rows of the permission matrix.
func ruleContexts(types []domain.FolderType) []string {
	out := []string{domain.ContextRoot}
	for _, t := range types {
		for _, c := range t.Contexts {
			if !contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// propOption is a property a criterion may use, with the folder types
// that declare it (console.js shows only those of the chosen type).
type propOption struct {
	Name  string
	Types string // space-separated type ids
}

// properties lists the properties the criteria may use: those of the
// chosen type, or of every type while none is chosen; never description
// (R10).
func properties(types []domain.FolderType, typeID string) []propOption {
	var out []propOption
	idx := map[string]int{}
	for _, t := range types {
		if typeID != "" && t.ID != typeID {
			continue
		}
		for _, p := range t.Properties {
			if domain.NameKey(p) == domain.PropertyDescription {
				continue
			}
			if i, ok := idx[p]; ok {
				out[i].Types += " " + t.ID
				continue
			}
			idx[p] = len(out)
			out = append(out, propOption{Name: p, Types: t.ID})
		}
	}
	slices.SortFunc(out, func(a, b propOption) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// checkCriteria checks the rows against the chosen type before the
// service is asked, so that the refusal names the row and lists only
// the properties a criterion may use. The service checks again.
func checkCriteria(types []domain.FolderType, f *ruleForm) string {
	var t *domain.FolderType
	for i := range types {
		if types[i].ID == f.TypeID {
			t = &types[i]
		}
	}
	if t == nil {
		return "Choose the folder type the rule applies to."
	}
	allowed := properties(types, t.ID)
	names := make([]string, 0, len(allowed))
	for _, p := range allowed {
		names = append(names, p.Name)
	}
	var msgs []string
	for i := range f.Rows {
		row := &f.Rows[i]
		if row.Property == "" || slices.Contains(names, row.Property) {
			continue
		}
		row.Invalid = true
		msgs = append(msgs, "Criterion "+strconv.Itoa(i+1)+": “"+row.Property+"” is not a property a rule on “"+t.Name+"” folders can use; choose one of: "+strings.Join(names, ", ")+".")
	}
	return strings.Join(msgs, " ")
}

// markRows highlights the rows a service refusal names (criteria[i]);
// rowAt maps a criterion to its form row (empty rows are not sent).
func markRows(f *ruleForm, rowAt []int, err error) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		de, ok := e.(*domain.Error)
		if !ok {
			continue
		}
		for _, fe := range de.Fields {
			var i int
			if _, serr := fmt.Sscanf(fe.Field, "criteria[%d]", &i); serr == nil && i >= 0 && i < len(rowAt) {
				f.Rows[rowAt[i]].Invalid = true
			}
		}
	}
}

func (c *Console) ruleEditor(w http.ResponseWriter, r *http.Request, s *session) {
	id, ruleID := r.PathValue("id"), r.PathValue("rule")
	var f ruleForm
	if ruleID == "new" {
		f = ruleForm{ID: "new", Grants: map[string]bool{}, Rows: []criterionRow{{Op: string(domain.OpEq)}}, TypeID: r.URL.Query().Get("type")}
	} else {
		rule, err := c.svc.GetRule(r.Context(), s.Caller(), ruleID)
		if err != nil || rule.GroupID != id {
			c.render(w, r, s, http.StatusNotFound, "denied", "Rule", "groups", "There is no such rule in this group.")
			return
		}
		f = formOfRule(rule)
	}
	c.showRule(w, r, s, id, f, "")
}

func (c *Console) showRule(w http.ResponseWriter, r *http.Request, s *session, groupID string, f ruleForm, errMsg string) {
	g, err := c.svc.GetGroup(r.Context(), s.Caller(), groupID)
	if err != nil {
		c.render(w, r, s, http.StatusNotFound, "denied", "Group", "groups", message(err))
		return
	}
	types, _ := c.svc.ListFolderTypes(r.Context(), s.Caller())
	for i := range f.Rows {
		f.Rows[i].Index = i
	}
	if errMsg != "" {
		s.Error = errMsg
	}
	rights := c.rightsOn(s, &g)
	c.render(w, r, s, http.StatusOK, "rule", "Rule · "+g.Name, "groups", map[string]any{
		"Group": g, "Form": f, "Types": types, "Properties": properties(types, f.TypeID), "Operators": domain.Operators(),
		"Contexts": ruleContexts(types), "Actions": domain.RuleActions(), "Tabs": groupTabs, "Tab": "rules",
		"CanSave": (rights.Edit || s.Can(domain.PermFilesAdmin)) && s.Can(domain.PermFilesAdmin),
	})
}

func (c *Console) ruleSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, ruleID := r.PathValue("id"), r.PathValue("rule")
	p := r.PostForm
	f := ruleForm{ID: ruleID, Name: strings.TrimSpace(p.Get("name")), Grants: map[string]bool{}, TypeID: p.Get("type")}
	n, _ := strconv.Atoi(p.Get("rows"))
	do := p.Get("do")
	for i := 0; i < n && i < 50; i++ {
		k := "c" + strconv.Itoa(i) + "."
		if do == "remove."+strconv.Itoa(i) {
			continue
		}
		f.Rows = append(f.Rows, criterionRow{TypeID: f.TypeID, Property: p.Get(k + "prop"), Op: p.Get(k + "op"), Value: p.Get(k + "value")})
	}
	types, _ := c.svc.ListFolderTypes(r.Context(), s.Caller())
	ctxs := ruleContexts(types)
	for _, a := range domain.RuleActions() {
		all := p.Get("all."+a) == "on"
		for _, cx := range ctxs {
			if all || p.Get("g."+cx+"."+a) == "on" {
				f.Grants[cx+"."+a] = true
			}
		}
	}
	switch {
	case do == "addrow":
		f.Rows = append(f.Rows, criterionRow{Op: string(domain.OpEq)})
		c.showRule(w, r, s, id, f, "")
		return
	case strings.HasPrefix(do, "remove."), do == "type":
		c.showRule(w, r, s, id, f, "")
		return
	}
	if msg := checkCriteria(types, &f); msg != "" {
		c.showRule(w, r, s, id, f, "Not saved: "+msg)
		return
	}
	rule := domain.Rule{GroupID: id, Name: f.Name, Grants: map[string][]string{}}
	var rowAt []int
	for i, row := range f.Rows {
		if row.Property == "" && strings.TrimSpace(row.Value) == "" {
			continue // an empty row is not a criterion
		}
		rowAt = append(rowAt, i)
		cr := domain.Criterion{FolderTypeID: row.TypeID, Property: row.Property, Operator: domain.Operator(row.Op)}
		if cr.Operator == domain.OpIn {
			for _, v := range strings.Split(row.Value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					cr.Values = append(cr.Values, v)
				}
			}
		} else {
			cr.Value = strings.TrimSpace(row.Value)
		}
		rule.Criteria = append(rule.Criteria, cr)
	}
	for _, cx := range ctxs {
		for _, a := range domain.RuleActions() {
			if f.Grants[cx+"."+a] {
				rule.Grants[cx] = append(rule.Grants[cx], a)
			}
		}
	}
	var err error
	if ruleID == "new" {
		_, _, err = c.svc.CreateRule(r.Context(), s.Caller(), rule)
	} else {
		var old domain.Rule
		if old, err = c.svc.GetRule(r.Context(), s.Caller(), ruleID); err == nil {
			rule.Version = old.Version
			_, _, err = c.svc.UpdateRule(r.Context(), s.Caller(), ruleID, rule)
		}
	}
	if err != nil {
		markRows(&f, rowAt, err)
		c.showRule(w, r, s, id, f, "Not saved: "+message(err))
		return
	}
	done(w, r, groupURL(id, "rules"), "Rule “"+rule.Name+"” saved.")
}

func (c *Console) ruleDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, ruleID := r.PathValue("id"), r.PathValue("rule")
	if _, err := c.svc.DeleteRule(r.Context(), s.Caller(), ruleID); err != nil {
		failed(w, r, groupURL(id, "rules"), err)
		return
	}
	done(w, r, groupURL(id, "rules"), "Rule deleted.")
}

// folder permissions tab

// folderNode is one line of a folder tree.
type folderNode struct {
	domain.Folder
	Depth     int
	TypeName  string
	Own       string // this group's level set on the folder, "" for none set
	Inherited string // the level inherited from an ancestor, if no own level
	From      string // the ancestor's name it is inherited from
}

// folderTreeUpTo walks the visible tree depth first, up to max folders,
// so a huge tree cannot make a page without end, and says whether folders
// were left out, so that the page can say so.
func (c *Console) folderTreeUpTo(r *http.Request, s *session, max int) ([]folderNode, bool, error) {
	return c.subtree(r, s, "", max)
}

// subtree walks the folders below root ("" for the whole tree).
func (c *Console) subtree(r *http.Request, s *session, root string, max int) ([]folderNode, bool, error) {
	types, _ := c.svc.ListFolderTypes(r.Context(), s.Caller())
	tn := map[string]string{}
	for _, t := range types {
		tn[t.ID] = t.Name
	}
	var out []folderNode
	more := false
	var walk func(parent string, depth int) error
	walk = func(parent string, depth int) error {
		cur := ""
		for {
			page, err := c.svc.ListFolders(r.Context(), s.Caller(), parent, service.ListQuery{Sort: "name", Cursor: cur, Limit: 1000})
			if err != nil {
				return err
			}
			for _, f := range page.Items {
				if len(out) >= max {
					more = true
					return nil
				}
				out = append(out, folderNode{Folder: f, Depth: depth, TypeName: tn[f.TypeID]})
				if depth < 20 {
					if err := walk(f.ID, depth+1); err != nil {
						return err
					}
				}
			}
			if cur = page.Next; cur == "" {
				return nil
			}
		}
	}
	err := walk(root, 0)
	return out, more, err
}

func (c *Console) fillFolders(r *http.Request, s *session, e *editor) error {
	tree, more, err := c.folderTreeUpTo(r, s, 2000)
	if err != nil {
		return err
	}
	e.Extra["MoreFolders"] = more
	levels, err := c.svc.ListFolderLevels(r.Context(), s.Caller(), "", e.Group.ID)
	if err != nil {
		return err
	}
	own := map[string]string{}
	for _, l := range levels {
		own[l.FolderID] = l.Level.String()
	}
	byID := map[string]*folderNode{}
	for i := range tree {
		n := &tree[i]
		byID[n.ID] = n
		n.Own = own[n.ID]
		// R15: the nearest ancestor with an entry gives the level. The
		// walk is depth first, so the parent is already done.
		if p, ok := byID[n.ParentID]; ok && n.Own == "" {
			if p.Own != "" {
				n.Inherited, n.From = p.Own, p.Name
			} else {
				n.Inherited, n.From = p.Inherited, p.From
			}
		}
	}
	e.Extra["Tree"] = tree
	e.Extra["Levels"] = domain.Levels()
	e.Extra["CanSet"] = e.Rights.Edit || s.Can(domain.PermFilesAdmin)
	return nil
}

func (c *Console) groupSaveFolders(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	back := groupURL(id, "folders")
	levels, err := c.svc.ListFolderLevels(r.Context(), s.Caller(), "", id)
	if err != nil {
		failed(w, r, back, err)
		return
	}
	own := map[string]string{}
	for _, l := range levels {
		own[l.FolderID] = l.Level.String()
	}
	changed := 0
	for _, fid := range r.PostForm["folder"] {
		want := r.PostForm.Get("lvl." + fid)
		if want == own[fid] {
			continue
		}
		if want == "" {
			_, err = c.svc.DeleteFolderLevel(r.Context(), s.Caller(), fid, id)
		} else {
			var lv domain.Level
			if lv, err = domain.ParseLevel(want); err == nil {
				_, _, err = c.svc.SetFolderLevel(r.Context(), s.Caller(), fid, id, lv)
			}
		}
		if err != nil {
			failed(w, r, back, err)
			return
		}
		changed++
	}
	done(w, r, back, "Folder permissions saved ("+plural(changed, "change")+").")
}
