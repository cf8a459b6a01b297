package cli

import (
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

func roleTable(w io.Writer, rs ...api.Role) *table {
	t := newTable(w, "ID", "NAME", "SCOPE", "BUILT-IN", "PERMISSIONS")
	for _, r := range rs {
		t.row(r.ID, r.Name, string(r.Scope), strconv.FormatBool(r.Builtin), strings.Join(r.Permissions, ","))
	}
	return t
}

func printRole(cmd *cobra.Command, _ *gatehouse.Client, r api.Role) error {
	return roleTable(cmd.OutOrStdout(), r).flush()
}

func (a *app) rolesCmd() *cobra.Command {
	cmd := group("roles", "List and administer roles")

	var lf listFlags
	var scope string
	list := &cobra.Command{
		Use:   "list",
		Short: "List roles",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scope != "" && scope != "system" && scope != "project" {
				return usage(cmd, "--scope %q: want system or project", scope)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p, err := c.ListRoles(cmd.Context(), scope, lf.options())
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				if err := roleTable(w, p.Items...).flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	lf.add(list)
	list.Flags().StringVar(&scope, "scope", "", "only system or project roles")

	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/roles/{id}",
		use: "get ROLE", short: "Show a role (by id or name)",
		args: nargs("ROLE"), build: byName(resolveRole, func(r api.Role) string { return r.ID }),
		text: as(printRole),
	})

	var nr api.CreateRoleRequest
	var cScope, perms string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a custom role",
		Args:  nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cScope != "system" && cScope != "project" {
				return usage(cmd, "--scope %q: want system or project", cScope)
			}
			nr.Name, nr.Scope, nr.Permissions = args[0], cScope, splitList(perms)
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			rb, err := c.CreateRole(cmd.Context(), nr)
			if err != nil {
				return explain(c, err)
			}
			r := rb.Role
			return a.output(cmd, r, func(w io.Writer) error { return roleTable(w, r).flush() })
		},
	}
	create.Flags().StringVar(&cScope, "scope", "", "system or project (required)")
	create.Flags().StringVar(&perms, "permissions", "", "the role's permissions, comma-separated")
	create.Flags().StringVar(&nr.Description, "description", "", "what the role is for")

	del := &cobra.Command{
		Use:   "delete ROLE",
		Short: "Delete a custom role (refused while it is assigned, naming who holds it: R7)",
		Args:  nargs("ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			r, err := resolveRole(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			rev, err := c.DeleteRole(cmd.Context(), r.ID, 0)
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": r.ID, "revision": rev}, "Role %s (%s) deleted", r.Name, r.ID)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/roles"), get, declare(create, "POST /api/v1/roles"),
		declare(del, "DELETE /api/v1/roles/{id}"), a.roleUpdateCmd())
	return cmd
}

func projectTable(w io.Writer, ps ...api.Project) *table {
	t := newTable(w, "ID", "NAME", "MODE", "DESCRIPTION", "CREATED")
	for _, p := range ps {
		t.row(p.ID, p.Name, string(p.MembershipMode), p.Description, day(p.CreatedAt))
	}
	return t
}

func validMode(m string) bool {
	return m == string(domain.ModeMultiple) || m == string(domain.ModeExclusive)
}

func (a *app) projectsCmd() *cobra.Command {
	cmd := group("projects", "List and administer projects")

	var lf listFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List projects",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p, err := c.ListProjects(cmd.Context(), lf.options())
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				if err := projectTable(w, p.Items...).flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	lf.add(list)

	var np api.CreateProjectRequest
	var mode string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project",
		Args:  nargs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validMode(mode) {
				return usage(cmd, "--mode %q: want multiple or exclusive", mode)
			}
			np.Name, np.MembershipMode = args[0], mode
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			pb, err := c.CreateProject(cmd.Context(), np)
			if err != nil {
				return explain(c, err)
			}
			p := pb.Project
			return a.output(cmd, p, func(w io.Writer) error { return projectTable(w, p).flush() })
		},
	}
	create.Flags().StringVar(&mode, "mode", "multiple", "membership mode: multiple, or exclusive (a user in at most one of its groups, R23)")
	create.Flags().StringVar(&np.Description, "description", "", "what the project is")

	setMode := &cobra.Command{
		Use:   "set-mode PROJECT MODE",
		Short: "Set a project's membership mode (multiple or exclusive)",
		Long: "Set a project's membership mode. Switching to exclusive is refused while users\n" +
			"are in several of its groups; the error lists them (R23).",
		Args: nargs("PROJECT", "MODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !validMode(args[1]) {
				return usage(cmd, "MODE %q: want multiple or exclusive", args[1])
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p, err := resolveProject(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			m := args[1]
			pb, err := c.UpdateProject(cmd.Context(), p.ID, api.UpdateProjectRequest{MembershipMode: &m}, p.Version)
			if err != nil {
				return explain(c, err)
			}
			p = pb.Project
			return a.output(cmd, p, func(w io.Writer) error { return projectTable(w, p).flush() })
		},
	}

	del := &cobra.Command{
		Use:   "delete PROJECT",
		Short: "Delete a project with its groups and grants",
		Args:  nargs("PROJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p, err := resolveProject(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			rev, err := c.DeleteProject(cmd.Context(), p.ID, 0)
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": p.ID, "revision": rev}, "Project %s (%s) deleted", p.Name, p.ID)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/projects"), declare(create, "POST /api/v1/projects"),
		declare(setMode, "PATCH /api/v1/projects/{id}"), declare(del, "DELETE /api/v1/projects/{id}"))
	cmd.AddCommand(a.projectEditCmds()...)
	return cmd
}
