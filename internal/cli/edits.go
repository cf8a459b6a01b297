package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The edits that export/apply or curl were once the only way to make:
// profiles, passwords, preferences, project rights, domains, imports,
// and the PATCH/PUT of groups, roles, projects, folder types and rules.
// Each is one apiSpec: resolve the names, build the body, print.

// rightsFlags are --role and --permissions of a project grant.
type rightsFlags struct{ role, perms string }

func (r *rightsFlags) add(f *pflag.FlagSet, whose string) {
	f.StringVar(&r.role, "role", "", whose+" project role (id or name; none or absent: no role)")
	f.StringVar(&r.perms, "permissions", "", whose+" project permissions, comma-separated (e.g. project.read)")
}

// resolve returns the role's id ("" for none) and the permissions.
func (r *rightsFlags) resolve(ctx context.Context, c *gatehouse.Client) (string, []string, error) {
	perms := splitList(r.perms)
	if perms == nil {
		perms = []string{} // none is a list: the grant keeps a member with no access
	}
	if r.role == "" || r.role == "none" {
		return "", perms, nil
	}
	role, err := resolveRole(ctx, c, r.role)
	return role.ID, perms, err
}

// grantTable prints project grants, with role names.
func grantTable(w io.Writer, roles map[string]string, gs ...api.ProjectGrant) *table {
	t := newTable(w, "PROJECT", "SUBJECT KIND", "SUBJECT ID", "ROLE", "PERMISSIONS", "UPDATED")
	for _, g := range gs {
		t.row(g.ProjectID, string(g.SubjectKind), g.SubjectID, roleName(roles, g.RoleID), strings.Join(g.Permissions, ","), day(g.UpdatedAt))
	}
	return t
}

// projectRightsCmd completes the spec of a set-project-rights command:
// SUBJECT PROJECT (subject resolving the first), --role and --permissions,
// the grant printed.
func (a *app) projectRightsCmd(s apiSpec, whose string, subject func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error)) *cobra.Command {
	var rf rightsFlags
	s.flags = func(f *pflag.FlagSet) { rf.add(f, whose) }
	s.build = func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
		call, err := subject(cmd, c, args)
		if err != nil {
			return call, err
		}
		p, err := resolveProject(cmd.Context(), c, args[1])
		if err != nil {
			return call, err
		}
		role, perms, err := rf.resolve(cmd.Context(), c)
		call.params = append(call.params, p.ID)
		call.body = map[string]any{"role_id": role, "permissions": perms}
		return call, err
	}
	s.text = as(a.printGrant)
	return a.apiCmd(s)
}

func (a *app) printGrant(cmd *cobra.Command, c *gatehouse.Client, g api.ProjectGrant) error {
	return grantTable(cmd.OutOrStdout(), a.roleNames(cmd, c), g).flush()
}

// userAndProject resolves USER PROJECT (or GROUP PROJECT) into ids.
func userAndProject(ctx context.Context, c *gatehouse.Client, user, project string) ([]string, error) {
	u, err := resolveUser(ctx, c, user)
	if err != nil {
		return nil, err
	}
	p, err := resolveProject(ctx, c, project)
	return []string{u.ID, p.ID}, err
}

func (a *app) userEditCmds() []*cobra.Command {
	var profile patch
	update := a.apiCmd(apiSpec{
		op:  "PATCH /api/v1/users/{id}",
		use: "update USER", short: "Edit a user's profile: username, email, display name",
		long: "Edit a user's profile; only the flags given change. --email \"\" clears the email.\n" +
			"A user provisioned over SCIM is the identity provider's to edit.",
		example: "  gatehouse users update alice --email alice@radiology.example.org --display-name \"Alice L.\"\n" +
			"  gatehouse users update alice --username alice.liddell",
		args: nargs("USER"),
		flags: func(f *pflag.FlagSet) {
			profile.add(f, field{"username", "username", "a new username"}, field{"email", "email", "a new email address (\"\" clears it)"},
				field{"display-name", "display_name", "a new display name"})
		},
		build: edit(&profile, byName(resolveUser, func(u api.User) string { return u.ID })),
		text:  as(a.printUser),
	})

	var who string
	password := a.apiCmd(apiSpec{
		op:  "PUT /api/v1/users/{id}/password",
		use: "set-password USER", short: "Set or reset a user's password",
		long: "Set or reset a user's password. It is asked without echo on a terminal, and read\n" +
			"as one line from stdin otherwise; it never appears on the command line. Your own\n" +
			"password needs your current one, asked first (from stdin: the current password on\n" +
			"the first line, the new one on the second).",
		example: "  gatehouse users set-password alice\n" +
			"  printf '%s\\n' \"$NEW_PASSWORD\" | gatehouse users set-password alice",
		args: nargs("USER"),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			u, err := resolveUser(cmd.Context(), c, args[0])
			if err != nil {
				return apiCall{}, err
			}
			who = u.Username
			body := map[string]string{}
			if own, err := a.ownPassword(cmd, c, u); err != nil {
				return apiCall{}, err
			} else if own != "" {
				body["current_password"] = own
			}
			pw, err := a.readPassword(cmd, "New password for "+u.Username+": ")
			if err == nil && isTerminal(cmd.InOrStdin()) { // a typo typed blind is caught here
				again, rerr := a.readPassword(cmd, "Repeat it: ")
				if err = rerr; err == nil && again != pw {
					err = errors.New("the two passwords differ; nothing was changed")
				}
			}
			body["password"] = pw
			return apiCall{params: []string{u.ID}, body: body}, err
		},
		text: say(func(r revision) string { return fmt.Sprintf("Password of %s set (revision %d)", who, r.Revision) }),
	})

	var show bool
	prefs := a.apiCmd(apiSpec{
		op:  "PUT /api/v1/users/{id}/preferences",
		use: "set-preferences USER --show-personal-info=true|false", short: "Set a user's personal-information preference (R18)",
		long: "Set whether a user's email and display name are shown to other users who may not\n" +
			"administer users (R18).",
		example: "  gatehouse users set-preferences alice --show-personal-info=false",
		args:    nargs("USER"),
		flags: func(f *pflag.FlagSet) {
			f.BoolVar(&show, "show-personal-info", false, "show the user's email and display name to other users (R18)")
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if !cmd.Flags().Changed("show-personal-info") {
				return apiCall{}, usage(cmd, "users set-preferences needs --show-personal-info=true or =false")
			}
			u, err := resolveUser(cmd.Context(), c, args[0])
			return apiCall{params: []string{u.ID}, body: map[string]bool{"show_personal_info": show}}, err
		},
		text: say(func(u api.User) string {
			return fmt.Sprintf("User %s: personal information shown to other users: %t", u.Username, u.ShowPersonalInfo)
		}),
	})

	rights := a.projectRightsCmd(apiSpec{
		op:  "PUT /api/v1/users/{id}/projects/{project_id}",
		use: "set-project-rights USER PROJECT [--role ROLE] [--permissions P,Q]", short: "Set a user's individual rights on a project",
		long: "Give a user individual rights on a project: a project role and/or project\n" +
			"permissions, replacing those they had. Neither keeps them in the project with no\n" +
			"access. You grant nothing you do not hold yourself (R22).",
		example: "  gatehouse users set-project-rights alice Radiology --role Viewer\n" +
			"  gatehouse users set-project-rights alice Radiology --permissions project.read,project.write",
		args: nargs("USER", "PROJECT"),
	}, "the user's", byName(resolveUser, func(u api.User) string { return u.ID }))

	remove := a.apiCmd(apiSpec{
		op:  "DELETE /api/v1/users/{id}/projects/{project_id}",
		use: "remove-from-project USER PROJECT", short: "Remove a user's individual grant on a project",
		long: "Remove a user's individual grant on a project. Rights the user holds there through\n" +
			"groups stay.",
		example: "  gatehouse users remove-from-project alice Radiology",
		args:    nargs("USER", "PROJECT"),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			params, err := userAndProject(cmd.Context(), c, args[0], args[1])
			return apiCall{params: params}, err
		},
		text: say(func(r revision) string { return fmt.Sprintf("Individual grant removed (revision %d)", r.Revision) }),
	})
	return []*cobra.Command{update, password, prefs, rights, remove}
}

// groupAndProjects resolves GROUP PROJECT... into the group and the projects' ids.
func groupAndProjects(ctx context.Context, c *gatehouse.Client, args []string) (api.Group, []string, error) {
	g, err := resolveGroup(ctx, c, args[0])
	if err != nil {
		return g, nil, err
	}
	ps, err := ids(args[1:], func(s string) (api.Project, error) { return resolveProject(ctx, c, s) },
		func(p api.Project) string { return p.ID })
	return g, ps, err
}

// domainsText prints a group's accessible domains.
func domainsText(cmd *cobra.Command, _ *gatehouse.Client, v struct {
	Domains []string `json:"domains"`
}) error {
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "Accessible domains: %s\n", orNone(strings.Join(v.Domains, ", ")))
	return err
}

func (a *app) groupEditCmds() []*cobra.Command {
	var gp patch
	update := a.apiCmd(apiSpec{
		op:  "PATCH /api/v1/groups/{id}",
		use: "update GROUP [--name NAME] [--description TEXT]", short: "Rename a group or edit its description",
		long:    "Rename a group or edit its description; only the flags given change. Its scope\nnever changes (R1).",
		example: "  gatehouse groups update Auditors --name \"Log readers\" --description \"Read the audit log\"",
		args:    nargs("GROUP"),
		flags:   func(f *pflag.FlagSet) { gp.add(f, nameField, descriptionField) },
		build:   edit(&gp, groupParam),
		text:    as(a.printGroup),
	})

	var drf rightsFlags
	defaults := a.apiCmd(apiSpec{
		op:  "PUT /api/v1/groups/{id}/default-project-rights",
		use: "set-default-rights GROUP [--role ROLE] [--permissions P,Q]", short: "Set the rights a system group brings into the projects it is imported into",
		long: "Set a system group's default project rights: the project role and permissions it\n" +
			"gets in a project it is imported into from now on (projects it is already in keep\n" +
			"theirs; change them with groups set-project-rights).",
		example: "  gatehouse groups set-default-rights Radiologists --role Viewer",
		args:    nargs("GROUP"),
		flags:   func(f *pflag.FlagSet) { drf.add(f, "the default") },
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			call, err := groupParam(cmd, c, args)
			if err != nil {
				return call, err
			}
			role, perms, err := drf.resolve(cmd.Context(), c)
			call.body = map[string]any{"default_project_role_id": role, "default_project_permissions": perms}
			return call, err
		},
		text: as(func(cmd *cobra.Command, c *gatehouse.Client, g api.Group) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "Group %s brings into projects: role %s, permissions %s\n",
				g.Name, orNone(roleName(a.roleNames(cmd, c), g.DefaultProjectRoleID)), orNone(strings.Join(g.DefaultProjectPermissions, ",")))
			return err
		}),
	})

	domains := a.apiCmd(apiSpec{
		op:  "GET /api/v1/groups/{id}/domains",
		use: "domains GROUP", short: "List a group's accessible domains",
		long:    "List the named domains a group's members may access (resource domain:<name>).",
		example: "  gatehouse groups domains Radiologists",
		args:    nargs("GROUP"), build: groupParam, text: as(domainsText),
	})

	setDomains := a.apiCmd(apiSpec{
		op:  "PUT /api/v1/groups/{id}/domains",
		use: "set-domains GROUP [DOMAIN...]", short: "Replace a group's accessible domains",
		long:    "Replace a group's accessible domains with the DOMAINs given (none: no domain).",
		example: "  gatehouse groups set-domains Radiologists pacs reporting\n  gatehouse groups set-domains Radiologists    # no domain",
		args:    minArgs("GROUP"),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			call, err := groupParam(cmd, c, args)
			call.body = map[string]any{"domains": append([]string{}, args[1:]...)}
			return call, err
		},
		text: as(domainsText),
	})

	levels := a.apiCmd(apiSpec{
		op:  "GET /api/v1/groups/{id}/folder-levels",
		use: "folder-levels GROUP", short: "List the folder levels a group holds",
		long:    "List the folders on which a group has a level set (R15), with their paths.",
		example: "  gatehouse groups folder-levels Radiologists",
		args:    nargs("GROUP"), build: groupParam,
		text: as(func(cmd *cobra.Command, c *gatehouse.Client, p api.Page[api.FolderLevel]) error {
			t := newTable(cmd.OutOrStdout(), "FOLDER ID", "PATH", "LEVEL")
			for _, l := range p.Items {
				path := ""
				if f, err := c.GetFolder(cmd.Context(), l.FolderID); err == nil {
					path = folderPath(cmd.Context(), c, f.Folder)
				}
				t.row(l.FolderID, path, l.Level)
			}
			return t.flush()
		}),
	})

	var gname string
	imp := a.apiCmd(apiSpec{
		op:  "POST /api/v1/groups/{id}/projects/import",
		use: "import GROUP PROJECT...", short: "Import a system group into projects",
		long: "Import a system group into projects: its members join them with the group's\n" +
			"default project rights (R24).",
		example: "  gatehouse groups import Radiologists Radiology \"Trial ABC\"",
		args:    minArgs("GROUP", "PROJECT"),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			g, ps, err := groupAndProjects(cmd.Context(), c, args)
			gname = g.Name
			return apiCall{params: []string{g.ID}, body: map[string]any{"project_ids": ps}}, err
		},
		text: say(func(r api.MembersBody) string {
			return fmt.Sprintf("Group %s imported into: %s", gname, orNone(projectNames(r.Projects)))
		}),
	})

	var confirm bool
	remove := a.apiCmd(apiSpec{
		op:  "POST /api/v1/groups/{id}/projects/remove",
		use: "remove-from-projects GROUP PROJECT... --yes", short: "Remove a system group from projects (R27)",
		long: "Remove a system group from projects. Its members leave them unless they are there\n" +
			"by another way: say --yes to confirm (R27).",
		example: "  gatehouse groups remove-from-projects Radiologists \"Trial ABC\" --yes",
		args:    minArgs("GROUP", "PROJECT"),
		flags: func(f *pflag.FlagSet) {
			f.BoolVarP(&confirm, "yes", "y", false, "confirm: the group's members leave these projects")
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if !confirm {
				return apiCall{}, usage(cmd, "the group's members leave these projects: add --yes to confirm")
			}
			g, ps, err := groupAndProjects(cmd.Context(), c, args)
			gname = g.Name
			return apiCall{params: []string{g.ID}, body: map[string]any{"project_ids": ps, "confirm": true}}, err
		},
		text: say(func(r api.RemoveGroupBody) string {
			return fmt.Sprintf("Group %s removed from: %s; users who left: %d", gname, orNone(projectNames(r.Projects)), len(r.Users))
		}),
	})

	rights := a.projectRightsCmd(apiSpec{
		op:  "PUT /api/v1/groups/{id}/projects/{project_id}",
		use: "set-project-rights GROUP PROJECT [--role ROLE] [--permissions P,Q]", short: "Set a group's rights in a project where it is present",
		long: "Set the project role and permissions a group's members get in a project where the\n" +
			"group is present (its own project, or one a system group was imported into),\n" +
			"replacing those it had. You grant nothing you do not hold yourself (R22).",
		example: "  gatehouse groups set-project-rights Radiologists Radiology --role Editor\n" +
			"  gatehouse groups set-project-rights Team Radiology --permissions project.read",
		args: nargs("GROUP", "PROJECT"),
	}, "the group's", groupParam)
	return []*cobra.Command{update, defaults, domains, setDomains, levels, imp, remove, rights}
}

func (a *app) roleUpdateCmd() *cobra.Command {
	var rp patch
	return a.apiCmd(apiSpec{
		op:  "PATCH /api/v1/roles/{id}",
		use: "update ROLE [--name NAME] [--description TEXT] [--permissions P,Q]", short: "Rename a custom role, or edit its description or permissions",
		long: "Edit a custom role; only the flags given change. --permissions replaces the role's\n" +
			"permissions (\"\" for none). Built-in roles cannot be edited, and you grant nothing\n" +
			"you do not hold yourself (R9, R22).",
		example: "  gatehouse roles update \"Report readers\" --permissions project.read,project.write",
		args:    nargs("ROLE"),
		flags: func(f *pflag.FlagSet) {
			rp.add(f, nameField, descriptionField, field{"permissions", "permissions", "the role's permissions, comma-separated (replacing them)"})
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			call, err := edit(&rp, byName(resolveRole, func(r api.Role) string { return r.ID }))(cmd, c, args)
			// The API takes a list: "" is none.
			if body, ok := call.body.(map[string]any); ok {
				if perms, ok := body["permissions"].(string); ok {
					body["permissions"] = append([]string{}, splitList(perms)...)
				}
			}
			return call, err
		},
		text: as(printRole),
	})
}

func printProject(cmd *cobra.Command, _ *gatehouse.Client, p api.Project) error {
	return projectTable(cmd.OutOrStdout(), p).flush()
}

func (a *app) projectEditCmds() []*cobra.Command {
	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/projects/{id}",
		use: "get PROJECT", short: "Show a project (by id or name)",
		example: "  gatehouse projects get Radiology\n  gatehouse projects get Radiology --json | jq -r .membership_mode",
		args:    nargs("PROJECT"), build: projectParam, text: as(printProject),
	})

	var pp patch
	update := a.apiCmd(apiSpec{
		op:  "PATCH /api/v1/projects/{id}",
		use: "update PROJECT [--name NAME] [--description TEXT] [--mode multiple|exclusive]", short: "Rename a project, or edit its description or membership mode",
		long: "Edit a project; only the flags given change. Switching to exclusive is refused\n" +
			"while users are in several of its groups; the error lists them (R23).",
		example: "  gatehouse projects update Radiology --name \"Radiology dept\" --description \"Imaging\"",
		args:    nargs("PROJECT"),
		flags: func(f *pflag.FlagSet) {
			pp.add(f, nameField, descriptionField, field{"mode", "membership_mode", "the membership mode: multiple or exclusive (R23)"})
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if m, _ := cmd.Flags().GetString("mode"); cmd.Flags().Changed("mode") && !validMode(m) {
				return apiCall{}, usage(cmd, "--mode %q: want multiple or exclusive", m)
			}
			return edit(&pp, projectParam)(cmd, c, args)
		},
		text: as(printProject),
	})

	grants := a.apiCmd(apiSpec{
		op:  "GET /api/v1/projects/{id}/grants",
		use: "grants PROJECT", short: "Who is a member of a project, with which rights",
		long:    "List a project's grants: each group and user in it with its project role and\npermissions (empty: a member with no access).",
		example: "  gatehouse projects grants Radiology",
		args:    nargs("PROJECT"), build: projectParam,
		text: as(func(cmd *cobra.Command, c *gatehouse.Client, p api.Page[api.ProjectGrant]) error {
			return grantTable(cmd.OutOrStdout(), a.roleNames(cmd, c), p.Items...).flush()
		}),
	})
	return []*cobra.Command{get, update, grants}
}

// ruleParam resolves GROUP RULE into the rule, whose id is the path
// parameter.
func ruleParam(cmd *cobra.Command, c *gatehouse.Client, args []string) (api.Rule, error) {
	g, err := resolveGroup(cmd.Context(), c, args[0])
	if err != nil {
		return api.Rule{}, err
	}
	return resolveRule(cmd.Context(), c, g, args[1])
}

func (a *app) printRule(cmd *cobra.Command, c *gatehouse.Client, r api.Rule) error {
	return ruleTable(cmd.OutOrStdout(), a.folderTypeNames(cmd, c), r).flush()
}

func (a *app) ruleEditCmds() []*cobra.Command {
	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/rules/{id}",
		use: "get GROUP RULE", short: "Show a group's rule (by id or name)",
		example: "  gatehouse rules get Radiologists \"Phase 2 studies\" --json",
		args:    nargs("GROUP", "RULE"),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			r, err := ruleParam(cmd, c, args)
			return apiCall{params: []string{r.ID}}, err
		},
		text: as(a.printRule),
	})

	var name string
	var criteria, grants []string
	update := a.apiCmd(apiSpec{
		op:    "PUT /api/v1/rules/{id}",
		use:   "update GROUP RULE [--name NAME] [--criterion 'TYPE.PROPERTY OP VALUE'...] [--grant CONTEXT.ACTION...]",
		short: "Rename a rule, or replace its criteria or grants (R16)",
		long: "Edit a group's rule: --name renames it; --criterion, when given, replaces all its\n" +
			"criteria and --grant all its grants (same forms as rules create); what is not\n" +
			"given stays.",
		example: "  gatehouse rules update Radiologists \"Phase 2 studies\" --criterion 'GRT Study.phase in 2,3,4'\n" +
			"  gatehouse rules update Radiologists \"Phase 2 studies\" --name \"Late phases\" --grant data.read",
		args: nargs("GROUP", "RULE"),
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&name, "name", "", "a new name")
			f.StringArrayVar(&criteria, "criterion", nil, "a condition 'TYPE.PROPERTY OP VALUE' (repeatable; replaces the criteria)")
			f.StringArrayVar(&grants, "grant", nil, "an action granted, CONTEXT.ACTION (repeatable; replaces the grants)")
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if name == "" && len(criteria) == 0 && len(grants) == 0 {
				return apiCall{}, usage(cmd, "rules update changes nothing: give --name, --criterion or --grant")
			}
			r, err := ruleParam(cmd, c, args)
			if err != nil {
				return apiCall{}, err
			}
			req := api.RuleRequest{Name: firstOf(name, r.Name), Criteria: r.Criteria, Grants: r.Grants}
			err = ruleBody(cmd, c, &req, criteria, grants)
			return apiCall{params: []string{r.ID}, body: req}, err
		},
		text: as(a.printRule),
	})
	return []*cobra.Command{get, update}
}

func printFolderType(cmd *cobra.Command, _ *gatehouse.Client, t api.FolderType) error {
	return folderTypeTable(cmd.OutOrStdout(), t).flush()
}

func (a *app) folderTypeEditCmds() []*cobra.Command {
	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/folder-types/{id}",
		use: "get TYPE", short: "Show a folder type (by id or name)",
		example: "  gatehouse folder-types get \"GRT Study\"",
		args:    nargs("TYPE"), build: folderTypeParam, text: as(printFolderType),
	})

	var name, contexts, props string
	update := a.apiCmd(apiSpec{
		op:  "PUT /api/v1/folder-types/{id}",
		use: "update TYPE [--name NAME] [--add-contexts C,D] [--add-properties P,Q]", short: "Rename a folder type or add contexts and properties",
		long: "Rename a folder type, or add security contexts and properties to it. None can be\n" +
			"removed: folder permissions and rules may name them.",
		example: "  gatehouse folder-types update \"GRT Study\" --add-contexts analysis --add-properties site",
		args:    nargs("TYPE"),
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&name, "name", "", "a new name")
			f.StringVar(&contexts, "add-contexts", "", "security contexts to add, comma-separated")
			f.StringVar(&props, "add-properties", "", "property names to add, comma-separated")
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if name == "" && contexts == "" && props == "" {
				return apiCall{}, usage(cmd, "folder-types update changes nothing: give --name, --add-contexts or --add-properties")
			}
			t, err := resolveFolderType(cmd.Context(), c, args[0])
			req := api.FolderTypeRequest{Name: firstOf(name, t.Name),
				Contexts: append(t.Contexts, splitList(contexts)...), Properties: append(t.Properties, splitList(props)...)}
			return apiCall{params: []string{t.ID}, body: req}, err
		},
		text: as(printFolderType),
	})
	return []*cobra.Command{get, update}
}
