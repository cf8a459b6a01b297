package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// listFlags are the paging flags of the list commands.
type listFlags struct {
	search, sort, cursor string
	desc                 bool
	limit                int
}

func (l *listFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&l.search, "search", "", "only rows whose names contain this")
	f.StringVar(&l.sort, "sort", "", "sort by this column (name, created_at; users: username, display_name, email)")
	f.BoolVar(&l.desc, "desc", false, "sort in descending order")
	f.StringVar(&l.cursor, "cursor", "", "the next page's cursor, printed under the previous page")
	f.IntVar(&l.limit, "limit", 0, "rows per page (default 100, at most 1000)")
}

func (l *listFlags) options() gatehouse.ListOptions {
	return gatehouse.ListOptions{Search: l.search, Sort: l.sort, Desc: l.desc, Cursor: l.cursor, Limit: l.limit}
}

// more tells where the next page is.
func more(w io.Writer, next string) error {
	if next == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "\nMore: --cursor %s\n", next)
	return err
}

func userTable(w io.Writer, roles map[string]string, us ...api.User) *table {
	t := newTable(w, "ID", "USERNAME", "DISPLAY NAME", "EMAIL", "STATUS", "SOURCE", "SYSTEM ROLE")
	for _, u := range us {
		t.row(u.ID, u.Username, u.DisplayName, u.Email, string(u.Status), string(u.Source), roleName(roles, u.SystemRoleID))
	}
	return t
}

func (a *app) printUser(cmd *cobra.Command, c *gatehouse.Client, u api.User) error {
	return a.output(cmd, u, func(w io.Writer) error { return userTable(w, a.roleNames(cmd, c), u).flush() })
}

// roleNames maps role ids to names for the tables, which show names;
// --json keeps the ids. A caller who may not list roles sees ids.
func (a *app) roleNames(cmd *cobra.Command, c *gatehouse.Client) map[string]string {
	if a.json {
		return nil
	}
	p, err := c.ListRoles(cmd.Context(), "", gatehouse.ListOptions{Limit: 1000})
	if err != nil {
		return nil
	}
	m := make(map[string]string, len(p.Items))
	for _, r := range p.Items {
		m[r.ID] = r.Name
	}
	return m
}

func roleName(roles map[string]string, id string) string {
	if n, ok := roles[id]; ok {
		return n
	}
	return id
}

func (a *app) usersCmd() *cobra.Command {
	cmd := group("users", "List and administer users")

	var lf listFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p, err := c.ListUsers(cmd.Context(), lf.options())
			if err != nil {
				return explain(c, err)
			}
			return a.output(cmd, p, func(w io.Writer) error {
				if err := userTable(w, a.roleNames(cmd, c), p.Items...).flush(); err != nil {
					return err
				}
				return more(w, p.NextCursor)
			})
		},
	}
	lf.add(list)

	get := a.apiCmd(apiSpec{
		op:  "GET /api/v1/users/{id}",
		use: "get USER", short: "Show a user (by id or username)",
		args: nargs("USER"), build: byName(resolveUser, func(u api.User) string { return u.ID }), text: as(a.printUser),
	})

	var nu api.CreateUserRequest
	var askPassword bool
	var role string
	create := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user",
		Args:  nargs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			nu.Username = args[0]
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if askPassword {
				if nu.Password, err = a.readPassword(cmd, "Password for "+nu.Username+": "); err != nil {
					return err
				}
			}
			if role != "" {
				r, err := resolveRole(cmd.Context(), c, role)
				if err != nil {
					return explain(c, err)
				}
				nu.SystemRoleID = r.ID
			}
			u, err := c.CreateUser(cmd.Context(), nu)
			if err != nil {
				return explain(c, err)
			}
			return a.printUser(cmd, c, u.User)
		},
	}
	create.Flags().StringVar(&nu.Email, "email", "", "email address")
	create.Flags().StringVar(&nu.DisplayName, "display-name", "", "the name shown")
	create.Flags().BoolVar(&askPassword, "password", false, "ask for a password (without echo; read from stdin when it is not a terminal)")
	create.Flags().StringVar(&role, "role", "", "an individual system role (id or name)")

	status := func(use, short string, st domain.UserStatus) *cobra.Command {
		return declare(&cobra.Command{
			Use:   use + " USER",
			Short: short,
			Args:  nargs("USER"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client(cmd)
				if err != nil {
					return err
				}
				u, err := resolveUser(cmd.Context(), c, args[0])
				if err != nil {
					return explain(c, err)
				}
				if u, err = userOf(c.SetUserStatus(cmd.Context(), u.ID, string(st))); err != nil {
					return explain(c, err)
				}
				return a.printUser(cmd, c, u)
			},
		}, "PUT /api/v1/users/{id}/status")
	}

	del := &cobra.Command{
		Use:   "delete USER",
		Short: "Delete a user",
		Args:  nargs("USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			u, err := resolveUser(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			rev, err := c.DeleteUser(cmd.Context(), u.ID, 0)
			if err != nil {
				return explain(c, err)
			}
			return a.done(cmd, map[string]any{"deleted": u.ID, "revision": rev}, "User %s (%s) deleted", u.Username, u.ID)
		},
	}

	setRole := &cobra.Command{
		Use:   "set-role USER ROLE",
		Short: "Set a user's individual system role (ROLE: id, name, or none)",
		Args:  nargs("USER", "ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			u, err := resolveUser(cmd.Context(), c, args[0])
			if err != nil {
				return explain(c, err)
			}
			roleID := ""
			if args[1] != "none" && args[1] != "" {
				r, err := resolveRole(cmd.Context(), c, args[1])
				if err != nil {
					return explain(c, err)
				}
				roleID = r.ID
			}
			if u, err = userOf(c.SetUserSystemRole(cmd.Context(), u.ID, roleID)); err != nil {
				return explain(c, err)
			}
			return a.printUser(cmd, c, u)
		},
	}
	cmd.AddCommand(declare(list, "GET /api/v1/users"), get, declare(create, "POST /api/v1/users"),
		status("disable", "Disable a user: they hold no permission and are signed out (R11)", domain.UserDisabled),
		status("enable", "Enable a disabled user", domain.UserActive),
		declare(del, "DELETE /api/v1/users/{id}"), declare(setRole, "PUT /api/v1/users/{id}/system-role"))
	cmd.AddCommand(a.userEditCmds()...)
	return cmd
}

// userOf is the user of a write's answer, without its revision.
func userOf(b api.UserBody, err error) (api.User, error) { return b.User, err }
