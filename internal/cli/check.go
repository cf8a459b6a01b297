package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

const checkArgsHelp = "SUBJECT is a user's id or username, user:<id>, anonymous, or me.\n" +
	"PERMISSION is a catalog key (project.read) or a folder permission (root.read).\n" +
	"RESOURCE is system, project:<id or name>, domain:<name>, folder:<id> or\n" +
	"folder:/<path> (a folder's path from the root, /Images/CT)."

// checkRequest reads SUBJECT PERMISSION RESOURCE.
func (a *app) checkRequest(cmd *cobra.Command, c *gatehouse.Client, args []string, atLeast int64) (gatehouse.CheckRequest, error) {
	ctx := cmd.Context()
	sub, err := subject(ctx, c, args[0])
	if err != nil {
		return gatehouse.CheckRequest{}, err
	}
	res, err := resource(ctx, c, args[2])
	if err != nil {
		return gatehouse.CheckRequest{}, err
	}
	return gatehouse.CheckRequest{Subject: sub, Permission: args[1], Resource: res,
		Consistency: gatehouse.Consistency{AtLeast: atLeast}}, nil
}

func (a *app) checkCmd() *cobra.Command {
	var atLeast int64
	cmd := &cobra.Command{
		Use:   "check SUBJECT PERMISSION RESOURCE",
		Short: "May SUBJECT do PERMISSION on RESOURCE?",
		Long:  "Ask the server whether SUBJECT may do PERMISSION on RESOURCE; prints allowed or denied\nand the revision the answer was computed on.\n\n" + checkArgsHelp,
		Args:  nargs("SUBJECT", "PERMISSION", "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			req, err := a.checkRequest(cmd, c, args, atLeast)
			if err != nil {
				return explain(c, err)
			}
			r, err := c.Check(cmd.Context(), req)
			if err != nil {
				return explain(c, err)
			}
			verdict := "denied"
			if r.Allowed {
				verdict = "allowed"
			}
			return a.done(cmd, r, "%s (revision %d)", verdict, r.Revision)
		},
	}
	cmd.Flags().Int64Var(&atLeast, "at-least", 0, "answer on a revision at least this one (R20), e.g. one a write printed")
	return cmd
}

func (a *app) explainCmd() *cobra.Command {
	var atLeast int64
	cmd := &cobra.Command{
		Use:   "explain SUBJECT PERMISSION RESOURCE",
		Short: "Why may SUBJECT (not) do PERMISSION on RESOURCE?",
		Long: "Explain a check (R19): every grant path when allowed; what was considered and what\nwould allow it when denied.\n\n" +
			checkArgsHelp,
		Args: nargs("SUBJECT", "PERMISSION", "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			req, err := a.checkRequest(cmd, c, args, atLeast)
			if err != nil {
				return explain(c, err)
			}
			x, err := c.Explain(cmd.Context(), req)
			if err != nil {
				return explain(c, err)
			}
			who := x.Subject
			switch {
			case args[0] == "me" || args[0] == "":
				who = "you (" + x.Subject + ")"
			case args[0] != x.Subject:
				who = args[0] + " (" + x.Subject + ")"
			}
			return a.output(cmd, x, func(w io.Writer) error {
				// Say the resource as the user named it (a path, a project's
				// name) with the id the server answered about.
				shown := x
				if req.Resource != args[2] {
					shown.Resource = args[2] + " (" + x.Resource + ")"
				}
				return printExplanation(w, who, shown)
			})
		},
	}
	cmd.Flags().Int64Var(&atLeast, "at-least", 0, "answer on a revision at least this one (R20)")
	return cmd
}

// printExplanation prints x; who is the subject as the user named it.
func printExplanation(w io.Writer, who string, x api.ExplainResponse) error {
	verdict := "denied"
	if x.Allowed {
		verdict = "allowed"
	}
	may := "may not"
	if x.Allowed {
		may = "may"
	}
	fmt.Fprintf(w, "%s %s %s on %s: %s (revision %d)\n", who, may, x.Permission, x.Resource, verdict, x.Revision)
	if x.Reason != "" {
		fmt.Fprintf(w, "Reason: %s\n", x.Reason)
	}
	if len(x.Paths) > 0 {
		fmt.Fprintln(w, "\nGranted through:")
		t := newTable(w, "VIA", "GROUP", "ROLE", "PERMISSION", "FOLDER", "LEVEL", "RULE")
		for _, p := range x.Paths {
			group := p.GroupName
			if group == "" && p.GroupID == "" {
				group = "(individually)"
			}
			t.row(p.Via, group, p.RoleName, p.Permission, p.FolderID, p.Level, p.RuleName)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n  %s\n", title, strings.Join(items, "\n  "))
	}
	list("Considered", x.Considered)
	list("Would allow it", x.Suggestions)
	return nil
}
