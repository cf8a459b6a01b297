package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func groupTable(w io.Writer, roles map[string]string, gs ...api.Group) *table {
	t := newTable(w, "ID", "NAME", "SCOPE", "PROJECT", "BUILT-IN", "SYSTEM ROLE", "SYSTEM PERMISSIONS")
	for _, g := range gs {
		t.row(g.ID, g.Name, string(g.Scope), g.ProjectID, string(g.Builtin), roleName(roles, g.SystemRoleID), strings.Join(g.SystemPermissions, ","))
	}
	return t
}

func (a *app) printGroup(cmd *cobra.Command, c *gatehouse.Client, g api.Group) error {
	return a.output(cmd, g, func(w io.Writer) error { return groupTable(w, a.roleNames(cmd, c), g).flush() })
}

func projectNames(ps []api.ProjectRef) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func (a *app) groupsCmd() *cobra.Command {
	cmd := group("groups", "List and administer groups")

	var lf listFlags
	var scope, project string
	list := &cobra.Command{
		Use:   "list",
		Short: "List groups",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scope != "" && scope != "system" && scope != "project" {
				return usage(cmd, "--scope %q: want system or project", scope)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			q := gatehouse.GroupQuery{ListOptions: lf.options(), Scope: scope}
			if project != "" {
				p, err := resolveProject(cmd.Context(), c, project)
				if err != nil {
					return explain(c, err)
				}
				q.ProjectID = p.ID
			}
			p, err := c.ListGroups(cmd.Context(), q)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				if err := groupTable(w, a.roleNames(cmd, c), p.Items...).flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	lf.add(list)
	list.Flags().StringVar(&scope, "scope", "", "only system or project groups")
	list.Flags().StringVar(&project, "project", "", "only this project's groups (id or name)")

	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/groups/{id}",
		use: "get GROUP", short: "Show a group (by id or name)",
		args: nargs("GROUP"), build: groupParam, text: as(a.printGroup),
	})

	var ng api.CreateGroupRequest
	var cScope, cProject, cRole, cPerms string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a group (its scope is fixed from then on, R1)",
		Args:  nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cScope != "system" && cScope != "project" {
				return usage(cmd, "--scope %q: want system or project", cScope)
			}
			if (cScope == "project") != (cProject != "") {
				return usage(cmd, "--project is required for a project group, and only for one")
			}
			ng.Name, ng.Scope, ng.SystemPermissions = args[0], cScope, splitList(cPerms)
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if cProject != "" {
				p, err := resolveProject(ctx, c, cProject)
				if err != nil {
					return explain(c, err)
				}
				ng.ProjectID = p.ID
			}
			if cRole != "" {
				r, err := resolveRole(ctx, c, cRole)
				if err != nil {
					return explain(c, err)
				}
				ng.SystemRoleID = r.ID
			}
			g, err := c.CreateGroup(ctx, ng)
			if err != nil {
				return explain(c, err)
			}
			return a.printGroup(cmd, c, g.Group)
		},
	}
	create.Flags().StringVar(&cScope, "scope", "system", "system or project")
	create.Flags().StringVar(&cProject, "project", "", "the project of a project group (id or name)")
	create.Flags().StringVar(&ng.Description, "description", "", "what the group is for")
	create.Flags().StringVar(&cRole, "role", "", "a system group's system role (id or name)")
	create.Flags().StringVar(&cPerms, "permissions", "", "a system group's system permissions, comma-separated")

	var members string
	var confirm bool
	del := &cobra.Command{
		Use:   "delete GROUP",
		Short: "Delete a group",
		Long: "Delete a group. A project group's members stay in the project with no access\n" +
			"(--members keep_users, the default) or leave it (--members remove_users) (R26).\n" +
			"A system group is removed from every project and its members leave them: say\n" +
			"--yes to confirm (R27). Built-in groups cannot be deleted (R2).",
		Args: nargs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if members != "" && members != "keep_users" && members != "remove_users" {
				return usage(cmd, "--members %q: want keep_users or remove_users", members)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			g, err := resolveGroup(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			if g.Scope == api.ScopeSystem && !confirm {
				return usage(cmd, "deleting the system group %q removes it from every project and its members leave them: add --yes to confirm", g.Name)
			}
			r, err := c.DeleteGroup(cmd.Context(), g.ID, gatehouse.DeleteGroupOptions{Members: members, Confirm: confirm})
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, r, "Group %s (%s) deleted; projects concerned: %s; users: %d", g.Name, g.ID, orNone(projectNames(r.Projects)), len(r.Users))
		},
	}
	del.Flags().StringVar(&members, "members", "", "project groups: keep_users (default) or remove_users")
	del.Flags().BoolVarP(&confirm, "yes", "y", false, "confirm the deletion of a system group")

	var spRole string
	setPerms := &cobra.Command{
		Use:   "set-permissions GROUP [PERMISSION...]",
		Short: "Replace a system group's system permissions (and role, with --role)",
		Long: "Replace a system group's permission checkboxes with the PERMISSIONs given (none:\n" +
			"no checkbox). --role sets its system role too (none: no role); without --role the\n" +
			"current role is kept. You grant nothing you do not hold yourself (R22).",
		Args: minArgs("GROUP"),
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
			roleID := g.SystemRoleID
			if cmd.Flags().Changed("role") {
				roleID = ""
				if spRole != "none" && spRole != "" {
					r, err := resolveRole(ctx, c, spRole)
					if err != nil {
						return explain(c, err)
					}
					roleID = r.ID
				}
			}
			var perms []string
			for _, p := range args[1:] {
				perms = append(perms, splitList(p)...)
			}
			if g, err = groupOf(c.SetGroupSystemGrants(ctx, g.ID, api.SystemGrantsRequest{SystemRoleID: roleID, SystemPermissions: perms})); err != nil {
				return explain(c, err)
			}
			return a.printGroup(cmd, c, g)
		},
	}
	setPerms.Flags().StringVar(&spRole, "role", "", "the group's system role (id, name, or none)")

	cmd.AddCommand(declare(list, "GET /api/v1/groups"), get, declare(create, "POST /api/v1/groups"),
		declare(del, "DELETE /api/v1/groups/{id}"), declare(setPerms, "PUT /api/v1/groups/{id}/system-grants"))
	cmd.AddCommand(a.groupEditCmds()...)
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (a *app) membersCmd() *cobra.Command {
	cmd := group("members", "List, add and remove a group's members")

	var search, sort, cursor string
	var limit int
	var effective bool
	list := &cobra.Command{
		Use:   "list GROUP",
		Short: "List a group's members (R28)",
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
			p, err := c.ListMembers(cmd.Context(), g.ID, gatehouse.MemberQuery{Search: search, Sort: sort, Cursor: cursor, Limit: limit, Effective: effective})
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				t := newTable(w, "USER ID", "USERNAME", "DISPLAY NAME", "EMAIL", "EXPIRES", "THROUGH")
				for _, m := range p.Items {
					t.row(m.User.ID, m.User.Username, m.User.DisplayName, firstOf(m.Email, m.User.Email), dayp(m.ExpiresAt), strings.Join(m.Through, " → "))
				}
				if err := t.flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	list.Flags().StringVar(&search, "search", "", "username, display name or email contains this")
	list.Flags().StringVar(&sort, "sort", "", "username (default), display_name, email, created_at or role")
	list.Flags().StringVar(&cursor, "cursor", "", "the next page's cursor")
	list.Flags().IntVar(&limit, "limit", 0, "rows per page")
	list.Flags().BoolVar(&effective, "effective", false, "every member now, through nested groups too, with the groups between (THROUGH)")

	var expires string
	add := &cobra.Command{
		Use:   "add GROUP USER...",
		Short: "Add users to a group (or change their expiry with --expires)",
		Args:  minArgs("GROUP", "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, err := expiresFlag(cmd, expires)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			g, err := resolveGroup(ctx, c, args[0])
			if err != nil {
				return explain(c, err)
			}
			var ms []api.MemberInput
			for _, s := range args[1:] {
				u, err := resolveUser(ctx, c, s)
				if err != nil {
					return explain(c, err)
				}
				ms = append(ms, api.MemberInput{UserID: u.ID, ExpiresAt: exp})
			}
			r, err := c.AddMembers(ctx, g.ID, ms...)
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, r, func(w io.Writer) error {
				fmt.Fprintf(w, "Added %d user(s) to %s", len(ms), g.Name)
				if exp != nil {
					fmt.Fprintf(w, " until %s", day(*exp))
				}
				fmt.Fprintf(w, "; projects they are now in through it: %s\n", orNone(projectNames(r.Projects)))
				for _, d := range r.RightsDropped {
					fmt.Fprintf(w, "Individual rights of user %s in exclusive project %s were replaced by the group's (R23)\n", d.UserID, d.ProjectID)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&expires, "expires", "", "membership ends then (R6): RFC 3339, a date, or a duration such as 30d")

	remove := &cobra.Command{
		Use:   "remove GROUP USER...",
		Short: "Remove users from a group",
		Args:  minArgs("GROUP", "USER"),
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
			var ids []string
			for _, s := range args[1:] {
				u, err := resolveUser(ctx, c, s)
				if err != nil {
					return explain(c, err)
				}
				ids = append(ids, u.ID)
			}
			// One user has an operation of its own; several go in one request.
			var r api.MembersBody
			if len(ids) == 1 {
				r, err = c.RemoveMember(ctx, g.ID, ids[0])
			} else {
				r, err = c.RemoveMembers(ctx, g.ID, ids...)
			}
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, r, "Removed %d user(s) from %s; projects where they stay with no rights from it: %s",
				len(ids), g.Name, orNone(projectNames(r.Projects)))
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/groups/{id}/members"), declare(add, "POST /api/v1/groups/{id}/members"),
		declare(remove, "DELETE /api/v1/groups/{id}/members/{user_id}", "POST /api/v1/groups/{id}/members/remove"))
	cmd.AddCommand(a.nestingCmds()...)
	return cmd
}

// groupOf is the group of a write's answer, without its revision.
func groupOf(b api.GroupBody, err error) (api.Group, error) { return b.Group, err }
