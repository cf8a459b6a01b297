package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// ---- folder types ----

func folderTypeTable(w io.Writer, ts ...api.FolderType) *table {
	t := newTable(w, "ID", "NAME", "CONTEXTS", "PROPERTIES")
	for _, ft := range ts {
		t.row(ft.ID, ft.Name, strings.Join(ft.Contexts, ","), strings.Join(ft.Properties, ","))
	}
	return t
}

// resolveFolderType finds a folder type by id, then by name (any case).
// The types are few and listed whole, so one list answers both.
func resolveFolderType(ctx context.Context, c *gatehouse.Client, s string) (api.FolderType, error) {
	ts, err := c.ListFolderTypes(ctx)
	if err != nil {
		return api.FolderType{}, err
	}
	return findFolderType(ts, s)
}

func findFolderType(ts []api.FolderType, s string) (api.FolderType, error) {
	for _, t := range ts {
		if t.ID == s {
			return t, nil
		}
	}
	for _, t := range ts {
		if strings.EqualFold(t.Name, s) {
			return t, nil
		}
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return api.FolderType{}, fmt.Errorf("no folder type with the id or name %q; folder types are: %s", s, strings.Join(names, ", "))
}

// folderTypeNames maps type ids to names for the tables; a caller who
// cannot list them sees ids.
func (a *app) folderTypeNames(cmd *cobra.Command, c *gatehouse.Client) map[string]string {
	if a.json {
		return nil
	}
	ts, err := c.ListFolderTypes(cmd.Context())
	if err != nil {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.ID] = t.Name
	}
	return m
}

func (a *app) folderTypesCmd() *cobra.Command {
	cmd := group("folder-types", "List and administer folder types")

	list := &cobra.Command{
		Use:   "list",
		Short: "List folder types",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ts, err := c.ListFolderTypes(cmd.Context())
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, api.Page[api.FolderType]{Items: ts}, func(w io.Writer) error {
				return folderTypeTable(w, ts...).flush()
			})
		},
	}

	var contexts, props string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a folder type with its security contexts and properties",
		Long: "Create a folder type. --contexts lists its security contexts (lower-case\n" +
			"identifiers); root is always one of them, added when not listed. --properties\n" +
			"lists the property names folders of the type may carry, which rules can test.",
		Args: nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctxs := splitList(contexts)
			hasRoot := false
			for _, x := range ctxs {
				hasRoot = hasRoot || x == domain.ContextRoot
			}
			if !hasRoot {
				ctxs = append([]string{domain.ContextRoot}, ctxs...)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			t, err := c.CreateFolderType(cmd.Context(), api.FolderTypeRequest{Name: args[0], Contexts: ctxs, Properties: splitList(props)})
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, t.FolderType, func(w io.Writer) error { return folderTypeTable(w, t.FolderType).flush() })
		},
	}
	create.Flags().StringVar(&contexts, "contexts", "", "security contexts, comma-separated (root is always included)")
	create.Flags().StringVar(&props, "properties", "", "property names, comma-separated")

	del := &cobra.Command{
		Use:   "delete TYPE",
		Short: "Delete a folder type that no folder or rule uses",
		Args:  nargs("TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			t, err := resolveFolderType(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			if _, err := c.DeleteFolderType(cmd.Context(), t.ID); err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": t.ID, "revision": c.Revision()}, "Folder type %s (%s) deleted", t.Name, t.ID)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/folder-types"), declare(create, "POST /api/v1/folder-types"),
		declare(del, "DELETE /api/v1/folder-types/{id}"))
	cmd.AddCommand(a.folderTypeEditCmds()...)
	return cmd
}

// ---- folders ----

// Folders are named by id or by path from the root ("/Image library/
// Public gallery"): names are unique only among siblings, so a path is
// how people name them. Names cannot contain "/" (the server refuses
// it), so the path is unambiguous.

// pathSegments splits a path into its names; empty segments (a doubled
// or trailing slash) are skipped.
func pathSegments(p string) []string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s = strings.TrimSpace(s); s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

// searchLimit keeps a name within the API's search length (256); a
// prefix still finds the name, which is then matched whole.
const searchLimit = 200

// childNamed finds the child of parentID ("" for the roots) named name,
// any case; nil when there is none the caller may see.
func childNamed(ctx context.Context, c *gatehouse.Client, parentID, name string) (*api.Folder, error) {
	search := name
	if r := []rune(search); len(r) > searchLimit {
		search = string(r[:searchLimit])
	}
	cursor := ""
	for {
		p, err := c.ListFolders(ctx, parentID, gatehouse.ListOptions{Search: search, Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, f := range p.Items {
			if strings.EqualFold(f.Name, name) {
				return &f, nil
			}
		}
		if p.NextCursor == "" {
			return nil, nil
		}
		cursor = p.NextCursor
	}
}

// walkPath finds the folder at a path from the root, one level at a time.
// The error names the first segment not found and where it was looked for.
func walkPath(ctx context.Context, c *gatehouse.Client, p string) (api.Folder, error) {
	segs := pathSegments(p)
	if len(segs) == 0 {
		return api.Folder{}, fmt.Errorf("%q is the root of the tree, not a folder: give a folder's path, such as /Images", p)
	}
	var f api.Folder
	for i, name := range segs {
		child, err := childNamed(ctx, c, f.ID, name)
		if err != nil {
			return api.Folder{}, err
		}
		if child == nil {
			where := "at the root"
			if i > 0 {
				where = "in /" + strings.Join(segs[:i], "/")
			}
			return api.Folder{}, fmt.Errorf("folder path %q: no folder %q %s (or you may not see it)", p, name, where)
		}
		f = *child
	}
	return f, nil
}

// resolveFolder finds a folder by path (starting with /) or by id; an id
// that is not one is then tried as a path from the root, so a root
// folder's bare name works too.
func resolveFolder(ctx context.Context, c *gatehouse.Client, s string) (api.Folder, error) {
	if strings.HasPrefix(s, "/") {
		return walkPath(ctx, c, s)
	}
	fb, err := c.GetFolder(ctx, s)
	if err == nil || !gatehouse.IsNotFound(err) || len(pathSegments(s)) == 0 {
		return fb.Folder, err
	}
	f, perr := walkPath(ctx, c, "/"+s)
	var ce *gatehouse.Error
	if perr != nil && !strings.Contains(s, "/") && !errors.As(perr, &ce) {
		return f, fmt.Errorf("no folder with the id or root name %q (or you may not see it); give an id or a path such as /Parent/Child", s)
	}
	return f, perr
}

// resolveParent reads a --parent value: "/" (or "") is the roots ("").
func resolveParent(ctx context.Context, c *gatehouse.Client, s string) (string, error) {
	if len(pathSegments(s)) == 0 {
		return "", nil
	}
	f, err := resolveFolder(ctx, c, s)
	return f.ID, err
}

// folderPath is the folder's path from the root, read up its parents;
// "" when an ancestor cannot be read (the caller may see a folder but not
// its parent).
func folderPath(ctx context.Context, c *gatehouse.Client, f api.Folder) string {
	names := []string{f.Name}
	// The bound stops a cycle the server should never have; depth beyond it
	// is not a tree anyone reads by path.
	for i := 0; f.ParentID != "" && i < 1000; i++ {
		p, err := c.GetFolder(ctx, f.ParentID)
		if err != nil {
			return ""
		}
		names = append(names, p.Name)
		f = p.Folder
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return "/" + strings.Join(names, "/")
}

func properties(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ",")
}

func typeName(types map[string]string, id string) string {
	if n, ok := types[id]; ok {
		return n
	}
	return id
}

// folderRow is a folder with its path, as the tables show it.
type folderRow struct {
	f    api.Folder
	path string
}

func folderTable(w io.Writer, types map[string]string, rows ...folderRow) *table {
	t := newTable(w, "ID", "PATH", "TYPE", "PROJECT", "PROPERTIES")
	for _, r := range rows {
		t.row(r.f.ID, firstOf(r.path, r.f.Name), typeName(types, r.f.TypeID), r.f.ProjectID, properties(r.f.Properties))
	}
	return t
}

func (a *app) printFolder(cmd *cobra.Command, c *gatehouse.Client, f api.Folder) error {
	return a.output(cmd, f, func(w io.Writer) error {
		return folderTable(w, a.folderTypeNames(cmd, c), folderRow{f, folderPath(cmd.Context(), c, f)}).flush()
	})
}

// parseProperty reads KEY=VALUE.
func parseProperty(s string) (string, string, bool) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	return k, v, ok && k != ""
}

func (a *app) foldersCmd() *cobra.Command {
	cmd := group("folders", "List and administer the folder tree")
	folderArg := "FOLDER is a folder's id or its path from the root (/Images/CT; any case)."

	var lf listFlags
	var parent string
	list := &cobra.Command{
		Use:   "list",
		Short: "List a folder's children (--parent), or the root folders",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			parentID, base := "", ""
			if len(pathSegments(parent)) > 0 {
				pf, err := resolveFolder(ctx, c, parent)
				if err != nil {
					return explain(c, err)
				}
				parentID, base = pf.ID, folderPath(ctx, c, pf)
			}
			p, err := c.ListFolders(ctx, parentID, lf.options())
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				rows := make([]folderRow, len(p.Items))
				for i, f := range p.Items {
					rows[i] = folderRow{f: f}
					// Without the parent's path (an ancestor hidden from the
					// caller) the row shows the bare name.
					if parentID == "" || base != "" {
						rows[i].path = base + "/" + f.Name
					}
				}
				if err := folderTable(w, a.folderTypeNames(cmd, c), rows...).flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	lf.add(list)
	list.Flags().StringVar(&parent, "parent", "", "list this folder's children (id or path); default: the root folders")

	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/folders/{id}",
		use: "get FOLDER", short: "Show a folder",
		long: "Show a folder: its id, path, type, project and properties.\n\n" + folderArg,
		args: nargs("FOLDER"), build: byName(resolveFolder, func(f api.Folder) string { return f.ID }), text: as(a.printFolder),
	})

	var cParent, cType, cProject string
	var cProps []string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Register a folder",
		Long: "Register a folder named NAME under --parent (default: at the root), of --type\n" +
			"(default: the built-in type folder), with properties the type declares.",
		Args: nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			nf := api.CreateFolderRequest{Name: args[0]}
			for _, p := range cProps {
				k, v, ok := parseProperty(p)
				if !ok {
					return usage(cmd, "--property %q: want KEY=VALUE", p)
				}
				if nf.Properties == nil {
					nf.Properties = map[string]string{}
				}
				nf.Properties[k] = v
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if nf.ParentID, err = resolveParent(ctx, c, cParent); err != nil {
				return explain(c, err)
			}
			if cType != "" {
				t, err := resolveFolderType(ctx, c, cType)
				if err != nil {
					return explain(c, err)
				}
				nf.TypeID = t.ID
			}
			if cProject != "" {
				p, err := resolveProject(ctx, c, cProject)
				if err != nil {
					return explain(c, err)
				}
				nf.ProjectID = p.ID
			}
			f, err := c.CreateFolder(ctx, nf)
			if err != nil {
				return explain(c, err)
			}
			return a.printFolder(cmd, c, f.Folder)
		},
	}
	create.Flags().StringVar(&cParent, "parent", "", "the parent folder (id or path); default: at the root")
	create.Flags().StringVar(&cType, "type", "", "the folder type (id or name); default: folder")
	create.Flags().StringArrayVar(&cProps, "property", nil, "a property KEY=VALUE (repeatable)")
	create.Flags().StringVar(&cProject, "project", "", "the project the folder belongs to (id or name)")

	var mParent string
	move := &cobra.Command{
		Use:   "move FOLDER --parent PARENT",
		Short: "Move a folder with its subtree under another (--parent /: to the root)",
		Long: "Move a folder with its subtree under PARENT (an id or path; / moves it to the\n" +
			"root). Moving a folder below itself is refused. Levels set on the folder move with\n" +
			"it; those it inherited now come from its new ancestors (R15).\n\n" + folderArg,
		Args: nargs("FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("parent") {
				return usage(cmd, "folders move needs --parent (a folder's id or path, or / for the root)")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			pid, err := resolveParent(ctx, c, mParent)
			if err != nil {
				return explain(c, err)
			}
			if f, err = folderOf(c.UpdateFolder(ctx, f.ID, api.UpdateFolderRequest{ParentID: &pid}, f.Version)); err != nil {
				return explain(c, err)
			}
			return a.printFolder(cmd, c, f)
		},
	}
	move.Flags().StringVar(&mParent, "parent", "", "the new parent (id or path; / for the root)")

	var unset []string
	setProp := &cobra.Command{
		Use:   "set-property FOLDER KEY=VALUE...",
		Short: "Set (or with --remove, remove) properties of a folder",
		Long: "Set properties of a folder, keeping the others; --remove KEY removes one. The\n" +
			"folder's type must declare each property. Rules test properties, so this can\n" +
			"change who may see the folder (R16).\n\n" + folderArg,
		Args: minArgs("FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && len(unset) == 0 {
				return usage(cmd, "folders set-property needs FOLDER KEY=VALUE... (or --remove KEY)")
			}
			set := map[string]string{}
			for _, p := range args[1:] {
				k, v, ok := parseProperty(p)
				if !ok {
					return usage(cmd, "property %q: want KEY=VALUE", p)
				}
				set[k] = v
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			props := map[string]string{}
			for k, v := range f.Properties {
				props[k] = v
			}
			for _, k := range unset {
				delete(props, strings.TrimSpace(k))
			}
			for k, v := range set {
				props[k] = v
			}
			if f, err = folderOf(c.UpdateFolder(ctx, f.ID, api.UpdateFolderRequest{Properties: &props}, f.Version)); err != nil {
				return explain(c, err)
			}
			return a.printFolder(cmd, c, f)
		},
	}
	setProp.Flags().StringArrayVar(&unset, "remove", nil, "remove this property (repeatable)")

	del := &cobra.Command{
		Use:   "delete FOLDER",
		Short: "Delete a folder and its whole subtree",
		Long:  "Delete a folder with its subtree and the levels set on them.\n\n" + folderArg,
		Args:  nargs("FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			path := firstOf(folderPath(ctx, c, f), f.Name)
			rev, err := c.DeleteFolder(ctx, f.ID, 0)
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": f.ID, "revision": rev}, "Folder %s (%s) deleted with its subtree", path, f.ID)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/folders"), get, declare(create, "POST /api/v1/folders"),
		declare(move, "PATCH /api/v1/folders/{id}"), declare(setProp, "PATCH /api/v1/folders/{id}"), declare(del, "DELETE /api/v1/folders/{id}"))
	return cmd
}

// ---- folder levels ----

func (a *app) levelsCmd() *cobra.Command {
	cmd := group("levels", "List and set the groups' access levels on folders (R15)")
	levelHelp := "LEVEL is one of, lowest first: " + strings.Join(domain.Levels(), ", ") + ";\n" +
		"none is an entry that stops inheritance. FOLDER is an id or a path (/Images/CT);\n" +
		"GROUP a group's id or name."

	list := &cobra.Command{
		Use:   "list FOLDER",
		Short: "List the levels set on a folder (inherited ones are not listed)",
		Args:  nargs("FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			ls, err := c.ListFolderLevels(ctx, f.ID)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, api.Page[api.FolderLevel]{Items: ls}, func(w io.Writer) error {
				t := newTable(w, "GROUP ID", "GROUP", "LEVEL")
				names := map[string]string{}
				for _, l := range ls {
					if _, ok := names[l.GroupID]; !ok {
						// A group the caller may not read shows by id.
						if g, err := c.GetGroup(ctx, l.GroupID); err == nil {
							names[l.GroupID] = g.Name
						}
					}
					t.row(l.GroupID, names[l.GroupID], l.Level)
				}
				return t.flush()
			})
		},
	}

	set := &cobra.Command{
		Use:   "set FOLDER GROUP LEVEL",
		Short: "Set a group's level on a folder; its subtree inherits it (R15, R22)",
		Long: "Set a group's access level on a folder. The folder's subtree inherits it until a\n" +
			"nearer entry overrides it (R15); you grant no level you do not hold (R22).\n\n" + levelHelp,
		Args: nargs("FOLDER", "GROUP", "LEVEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			level, err := domain.ParseLevel(args[2])
			if err != nil {
				return usage(cmd, "LEVEL: %v", err)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			g, err := resolveGroup(ctx, c, args[1])
			if err != nil {
				return explain(c, err)
			}
			lb, err := c.SetFolderLevel(ctx, f.ID, g.ID, level.String())
			if err != nil {
				return explain(c, err)
			}
			l := lb.FolderLevel
			return a.done(cmd, l, "Group %s has level %s on %s", g.Name, l.Level, firstOf(folderPath(ctx, c, f), f.ID))
		},
	}

	remove := &cobra.Command{
		Use:   "remove FOLDER GROUP",
		Short: "Remove a group's entry on a folder: the level is inherited again",
		Long:  "Remove a group's entry on a folder; the folder inherits the group's level from its\nancestors again (R15).\n\n" + levelHelp,
		Args:  nargs("FOLDER", "GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			f, err := resolveFolder(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			g, err := resolveGroup(ctx, c, args[1])
			if err != nil {
				return explain(c, err)
			}
			if _, err := c.DeleteFolderLevel(ctx, f.ID, g.ID); err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"folder_id": f.ID, "group_id": g.ID, "revision": c.Revision()},
				"Removed the level of group %s on %s; it inherits again", g.Name, firstOf(folderPath(ctx, c, f), f.ID))
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/folders/{id}/levels"), declare(set, "PUT /api/v1/folders/{id}/levels/{group_id}"),
		declare(remove, "DELETE /api/v1/folders/{id}/levels/{group_id}"))
	return cmd
}

// folderOf is the folder of a write's answer, without its revision.
func folderOf(b api.FolderBody, err error) (api.Folder, error) { return b.Folder, err }
