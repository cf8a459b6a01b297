package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// nestingCmds are the members commands of nested groups (issue 20):
// groups as members of a group, and the groups a group is a member of.
func (a *app) nestingCmds() []*cobra.Command {
	groups := &cobra.Command{
		Use:   "groups GROUP",
		Short: "List the groups that are members of a group (nested groups)",
		Args:  nargs("GROUP"),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.listGroupRows(cmd, args[0], false) },
	}
	parents := &cobra.Command{
		Use:   "parents GROUP",
		Short: "List the groups a group is a member of (nested groups)",
		Args:  nargs("GROUP"),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.listGroupRows(cmd, args[0], true) },
	}
	var expires string
	add := &cobra.Command{
		Use:   "add-groups GROUP MEMBER-GROUP...",
		Short: "Add groups as members of a group (or change their expiry with --expires); cycles and chains deeper than the limit are refused",
		Args:  minArgs("GROUP", "MEMBER-GROUP"),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.addGroups(cmd, args, expires) },
	}
	add.Flags().StringVar(&expires, "expires", "", "membership ends then (R6): RFC 3339, a date, or a duration such as 30d")
	remove := &cobra.Command{
		Use:   "remove-groups GROUP MEMBER-GROUP...",
		Short: "Remove groups from a group's members",
		Args:  minArgs("GROUP", "MEMBER-GROUP"),
		RunE:  a.removeGroups,
	}
	return []*cobra.Command{
		declare(groups, "GET /api/v1/groups/{id}/group-members"),
		declare(parents, "GET /api/v1/groups/{id}/parents"),
		declare(add, "POST /api/v1/groups/{id}/group-members"),
		declare(remove, "POST /api/v1/groups/{id}/group-members/remove"),
	}
}

func (a *app) listGroupRows(cmd *cobra.Command, group string, parents bool) error {
	c, err := a.client(cmd)
	if err != nil {
		return err
	}
	g, err := resolveGroup(cmd.Context(), c, group)
	if err != nil {
		return explain(c, err)
	}
	list := c.ListGroupMembers
	if parents {
		list = c.ListGroupParents
	}
	rows, err := list(cmd.Context(), g.ID)
	if err != nil {
		return explain(c, err)
	}
	return a.output(cmd, rows, func(w io.Writer) error {
		t := newTable(w, "GROUP ID", "NAME", "SCOPE", "EXPIRES")
		for _, r := range rows {
			t.row(r.Group.ID, r.Group.Name, string(r.Group.Scope), dayp(r.Membership.ExpiresAt))
		}
		return t.flush()
	})
}

// groupIDs resolves group names or ids.
func groupIDs(cmd *cobra.Command, c *gatehouse.Client, args []string) ([]string, error) {
	ids := make([]string, 0, len(args))
	for _, s := range args {
		g, err := resolveGroup(cmd.Context(), c, s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, g.ID)
	}
	return ids, nil
}

// expiresFlag reads an --expires flag: nil when not given.
func expiresFlag(cmd *cobra.Command, expires string) (*time.Time, error) {
	if expires == "" {
		return nil, nil
	}
	t, err := parseExpiry(expires, time.Now())
	if err != nil {
		return nil, usage(cmd, "--expires: %v", err)
	}
	return &t, nil
}

// clientAndGroups connects and resolves the group arguments.
func (a *app) clientAndGroups(cmd *cobra.Command, args []string) (*gatehouse.Client, []string, error) {
	c, err := a.client(cmd)
	if err != nil {
		return nil, nil, err
	}
	ids, err := groupIDs(cmd, c, args)
	if err != nil {
		return nil, nil, explain(c, err)
	}
	return c, ids, nil
}

func (a *app) addGroups(cmd *cobra.Command, args []string, expires string) error {
	exp, err := expiresFlag(cmd, expires)
	if err != nil {
		return err
	}
	c, ids, err := a.clientAndGroups(cmd, args)
	if err != nil {
		return err
	}
	in := make([]api.GroupMemberInput, 0, len(ids)-1)
	for _, id := range ids[1:] {
		in = append(in, api.GroupMemberInput{GroupID: id, ExpiresAt: exp})
	}
	r, err := c.AddGroupMembers(cmd.Context(), ids[0], in...)
	if err != nil {
		return explain(c, err)
	}
	return a.output(cmd, r, func(w io.Writer) error {
		fmt.Fprintf(w, "Added %d group(s) to %s; %d user(s) are members through them; projects they are now in through it: %s\n",
			len(in), args[0], len(r.Users), orNone(projectNames(r.Projects)))
		for _, d := range r.RightsDropped {
			fmt.Fprintf(w, "Individual rights of user %s in exclusive project %s were replaced by the group's (R23)\n", d.UserID, d.ProjectID)
		}
		return nil
	})
}

func (a *app) removeGroups(cmd *cobra.Command, args []string) error {
	c, ids, err := a.clientAndGroups(cmd, args)
	if err != nil {
		return err
	}
	r, err := c.RemoveGroupMembers(cmd.Context(), ids[0], ids[1:]...)
	if err != nil {
		return explain(c, err)
	}
	return a.done(cmd, r, "Removed %d group(s) from %s; %d user(s) left it; projects where they stay with no rights from it: %s",
		len(ids)-1, args[0], len(r.Users), orNone(projectNames(r.Projects)))
}
