package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The permission queries besides check and explain (batch, resources,
// subjects, effective permissions), who am I, and the audit log over the
// API.

// consistency is the --at-least flag of the queries (R20).
func consistency(q url.Values, atLeast int64) url.Values {
	if atLeast > 0 {
		q.Set("at_least", strconv.FormatInt(atLeast, 10))
	}
	return q
}

func atLeastFlag(v *int64) func(f *pflag.FlagSet) {
	return func(f *pflag.FlagSet) {
		f.Int64Var(v, "at-least", 0, "answer on a revision at least this one (R20), e.g. one a write printed")
	}
}

// lines prints a title and one item per line (or none).
func lines(w io.Writer, title string, items []string) error {
	if len(items) == 0 {
		_, err := fmt.Fprintf(w, "%s: none\n", title)
		return err
	}
	_, err := fmt.Fprintf(w, "%s:\n  %s\n", title, strings.Join(items, "\n  "))
	return err
}

func (a *app) whoamiCmd() *cobra.Command {
	return a.apiCmd(apiSpec{
		op:  "GET /api/v1/me",
		use: "whoami", short: "Show the user you are signed in as",
		long:    "Show the user the stored token (or --token, GATEHOUSE_TOKEN) acts as.",
		example: "  gatehouse whoami\n  gatehouse whoami --json | jq -r .id",
		args:    nargs(),
		build:   func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error) { return apiCall{}, nil },
		text:    as(a.printUser),
	})
}

func (a *app) batchCheckCmd() *cobra.Command {
	var atLeast int64
	return a.apiCmd(apiSpec{
		op:  "POST /api/v1/check/batch",
		use: "batch-check SUBJECT PERMISSION RESOURCE [SUBJECT PERMISSION RESOURCE...]", short: "Ask many checks at once, answered on one revision",
		long: "Ask up to 1000 checks at once, given as triples of arguments; they are answered\n" +
			"in order, on one revision. A check that fails alone (an unknown permission or\n" +
			"user) is reported on its line; the others are still answered.\n\n" + checkArgsHelp,
		example: "  gatehouse batch-check alice audit.view system bob project.read project:Radiology",
		args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%3 != 0 {
				return usage(cmd, "batch-check needs SUBJECT PERMISSION RESOURCE triples; got %d argument(s)", len(args))
			}
			return nil
		},
		flags: atLeastFlag(&atLeast),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			var checks []api.CheckItem
			for i := 0; i < len(args); i += 3 {
				req, err := a.checkRequest(cmd, c, args[i:i+3], 0)
				if err != nil {
					return apiCall{}, err
				}
				checks = append(checks, api.CheckItem{Subject: req.Subject, Permission: req.Permission, Resource: req.Resource})
			}
			return apiCall{body: map[string]any{"checks": checks, "at_least": atLeast}}, nil
		},
		text: as(func(cmd *cobra.Command, _ *gatehouse.Client, r api.BatchCheckResponse) error {
			args := cmd.Flags().Args()
			t := newTable(cmd.OutOrStdout(), "SUBJECT", "PERMISSION", "RESOURCE", "ANSWER")
			for i, res := range r.Results {
				answer := "denied"
				switch {
				case res.Error != nil:
					answer = fmt.Sprintf("error: %s (%d)", res.Error.Detail, res.Error.Status)
				case res.Allowed:
					answer = "allowed"
				}
				if 3*i+2 < len(args) {
					t.row(args[3*i], args[3*i+1], args[3*i+2], answer)
				}
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "(revision %d)\n", r.Revision)
			return err
		}),
	})
}

func (a *app) resourcesCmd() *cobra.Command {
	var kind, under string
	var atLeast int64
	return a.apiCmd(apiSpec{
		op:  "GET /api/v1/resources",
		use: "resources SUBJECT PERMISSION --kind project|domain|folder [--under FOLDER]", short: "List the resources SUBJECT may do PERMISSION on",
		long: "List the projects, domains or folders (--kind) on which SUBJECT may do PERMISSION;\n" +
			"--under limits folders to a subtree. Asking about anyone but yourself needs\nusers.view.\n\n" +
			"SUBJECT is a user's id or username, user:<id>, anonymous, or me.",
		example: "  gatehouse resources alice project.read --kind project\n" +
			"  gatehouse resources me root.read --kind folder --under /TMF",
		args: nargs("SUBJECT", "PERMISSION"),
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&kind, "kind", "", "project, domain or folder (required)")
			f.StringVar(&under, "under", "", "folders: only this folder's subtree (id or path)")
			atLeastFlag(&atLeast)(f)
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			if kind != "project" && kind != "domain" && kind != "folder" {
				return apiCall{}, usage(cmd, "--kind %q: want project, domain or folder", kind)
			}
			sub, err := subject(cmd.Context(), c, args[0])
			if err != nil {
				return apiCall{}, err
			}
			q := url.Values{"permission": {args[1]}, "kind": {kind}}
			set(q, "subject", sub)
			if under != "" {
				f, err := resolveFolder(cmd.Context(), c, under)
				if err != nil {
					return apiCall{}, err
				}
				q.Set("under", f.ID)
			}
			return apiCall{query: consistency(q, atLeast)}, nil
		},
		text: as(func(cmd *cobra.Command, _ *gatehouse.Client, r api.ResourcesResponse) error {
			return lines(cmd.OutOrStdout(), fmt.Sprintf("%ss (revision %d)", strings.ToUpper(r.Kind[:1])+r.Kind[1:], r.Revision), r.IDs)
		}),
	})
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func (a *app) subjectsCmd() *cobra.Command {
	var atLeast int64
	return a.apiCmd(apiSpec{
		op:  "GET /api/v1/subjects",
		use: "subjects PERMISSION RESOURCE", short: "List the users allowed PERMISSION on RESOURCE, and through which groups",
		long: "List the users who may do PERMISSION on RESOURCE, each with the groups through\n" +
			"which (- for an individual grant), and whether anonymous requests may too. Needs\nusers.view.\n\n" +
			"RESOURCE is system, project:<id or name>, domain:<name>, folder:<id> or folder:/<path>.",
		example: "  gatehouse subjects audit.view system\n  gatehouse subjects root.read folder:/TMF/ABC-001",
		args:    nargs("PERMISSION", "RESOURCE"),
		flags:   atLeastFlag(&atLeast),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			res, err := resource(cmd.Context(), c, args[1])
			return apiCall{query: consistency(url.Values{"permission": {args[0]}, "resource": {res}}, atLeast)}, err
		},
		text: as(func(cmd *cobra.Command, c *gatehouse.Client, s api.SubjectsResponse) error {
			t := newTable(cmd.OutOrStdout(), "USER ID", "USERNAME", "THROUGH")
			names := groupNames(cmd, c)
			for _, u := range s.Users {
				through := make([]string, len(u.Groups))
				for i, g := range u.Groups {
					through[i] = firstOf(names[g], g, "(individually)")
				}
				t.row(u.UserID, u.Username, strings.Join(through, ", "))
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "Anonymous allowed: %t (revision %d)\n", s.Anonymous, s.Revision)
			return err
		}),
	})
}

// groupNames maps group ids to names for a table; a caller who may not
// list groups sees ids.
func groupNames(cmd *cobra.Command, c *gatehouse.Client) map[string]string {
	m := map[string]string{}
	for cursor := ""; ; {
		p, err := c.ListGroups(cmd.Context(), gatehouse.GroupQuery{ListOptions: gatehouse.ListOptions{Limit: 1000, Cursor: cursor}})
		if err != nil {
			return m
		}
		for _, g := range p.Items {
			m[g.ID] = g.Name
		}
		if cursor = p.NextCursor; cursor == "" {
			return m
		}
	}
}

func (a *app) effectiveCmd() *cobra.Command {
	var atLeast int64
	return a.apiCmd(apiSpec{
		op:  "GET /api/v1/effective-permissions",
		use: "effective-permissions SUBJECT RESOURCE", short: "List every permission SUBJECT holds on RESOURCE",
		long:    "List every permission SUBJECT holds on RESOURCE (R19 explains any one of them).\n\n" + checkArgsHelp,
		example: "  gatehouse effective-permissions alice project:Radiology\n  gatehouse effective-permissions me system",
		args:    nargs("SUBJECT", "RESOURCE"),
		flags:   atLeastFlag(&atLeast),
		build: func(cmd *cobra.Command, c *gatehouse.Client, args []string) (apiCall, error) {
			ctx := cmd.Context()
			sub, err := subject(ctx, c, args[0])
			if err != nil {
				return apiCall{}, err
			}
			res, err := resource(ctx, c, args[1])
			q := url.Values{"resource": {res}}
			set(q, "subject", sub)
			return apiCall{query: consistency(q, atLeast)}, err
		},
		text: as(func(cmd *cobra.Command, _ *gatehouse.Client, e api.EffectiveResponse) error {
			return lines(cmd.OutOrStdout(), fmt.Sprintf("Permissions of %s on %s (revision %d)", e.Subject, e.Resource, e.Revision), e.Permissions)
		}),
	})
}

// auditVerify is GET /audit/verify's answer.
type auditVerify struct {
	OK       bool   `json:"ok"`
	Records  int64  `json:"records"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	Unsealed int64  `json:"unsealed"`
	Break    *struct {
		Seq      int64      `json:"seq"`
		ID       string     `json:"id"`
		At       *time.Time `json:"at"`
		Problem  string     `json:"problem"`
		Expected string     `json:"expected"`
		Found    string     `json:"found"`
	} `json:"break"`
}

// errAuditBroken makes audit-log verify exit 1 after printing the break.
var errAuditBroken = errors.New("the audit chain does not verify")

func (a *app) auditLogCmd() *cobra.Command {
	cmd := group("audit-log", "Read and verify the audit log over the API (audit.view)")
	var actor, action, kind, target, since, until, cursor string
	var limit int
	list := a.apiCmd(apiSpec{
		op:  "GET /api/v1/audit",
		use: "list [--actor USER] [--action A] [--target-kind K] [--target-id ID] [--since T] [--until T]", short: "List the audit log, newest first",
		long: "List one page of the audit log, newest first, filtered by the flags given. --since\n" +
			"and --until take RFC 3339, a date, or a duration into the past (24h, 7d). Needs\n" +
			"audit.view. The gatehouse audit commands work on the database instead.",
		example: "  gatehouse audit-log list --action group.create --since 7d\n" +
			"  gatehouse audit-log list --actor alice --limit 20 --json | jq '.items[].action'",
		args: nargs(),
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&actor, "actor", "", "only what this user did (id or username)")
			f.StringVar(&action, "action", "", "only this action (group.create, member.add, ...)")
			f.StringVar(&kind, "target-kind", "", "only changes to this kind of object (user, group, ...)")
			f.StringVar(&target, "target-id", "", "only changes to this object (id)")
			f.StringVar(&since, "since", "", "from this time: RFC 3339, a date, or a duration ago (7d)")
			f.StringVar(&until, "until", "", "up to this time: RFC 3339, a date, or a duration ago")
			f.StringVar(&cursor, "cursor", "", "the next page's cursor")
			f.IntVar(&limit, "limit", 0, "rows per page")
		},
		build: func(cmd *cobra.Command, c *gatehouse.Client, _ []string) (apiCall, error) {
			q := url.Values{}
			for flag, v := range map[string]string{"since": since, "until": until} {
				if v != "" {
					t, err := parsePast(v, time.Now())
					if err != nil {
						return apiCall{}, usage(cmd, "--%s: %v", flag, err)
					}
					q.Set(flag, t.UTC().Format(time.RFC3339Nano))
				}
			}
			if actor != "" {
				u, err := resolveUser(cmd.Context(), c, actor)
				if err != nil {
					return apiCall{}, err
				}
				q.Set("actor_id", u.ID)
			}
			set(q, "action", action)
			set(q, "target_kind", kind)
			set(q, "target_id", target)
			set(q, "cursor", cursor)
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			return apiCall{query: q}, nil
		},
		text: as(func(cmd *cobra.Command, _ *gatehouse.Client, p api.Page[api.AuditEvent]) error {
			w := cmd.OutOrStdout()
			t := newTable(w, "AT", "REVISION", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL")
			for _, e := range p.Items {
				t.row(e.At.UTC().Format(time.RFC3339), strconv.FormatInt(e.Revision, 10), e.ActorName, e.Action,
					strings.Trim(e.TargetKind+":"+e.TargetID, ":"), string(e.Outcome), e.Detail)
			}
			if err := t.flush(); err != nil {
				return err
			}
			return more(w, p.NextCursor)
		}),
	})

	verify := a.apiCmd(apiSpec{
		op:  "GET /api/v1/audit/verify",
		use: "verify", short: "Re-walk the audit log's hash chain on the server",
		long: "Ask the server to re-walk the audit log's hash chain. Prints OK with the number of\n" +
			"records and the chain head (record it elsewhere to detect a rewritten log later),\n" +
			"or the first record that does not match, and then exits 1. Needs audit.view.",
		example: "  gatehouse audit-log verify\n  gatehouse audit-log verify --json | jq -r .head_hash",
		args:    nargs(),
		build:   func(*cobra.Command, *gatehouse.Client, []string) (apiCall, error) { return apiCall{}, nil },
		text: as(func(cmd *cobra.Command, _ *gatehouse.Client, v auditVerify) error {
			w := cmd.OutOrStdout()
			if v.OK {
				_, err := fmt.Fprintf(w, "OK: %d records, chain head %d %s\n", v.Records, v.HeadSeq, v.HeadHash)
				return err
			}
			if b := v.Break; b != nil {
				_, err := fmt.Fprintf(w, "BROKEN at record %s (position %d): %s; expected %s, found %s\n", b.ID, b.Seq, b.Problem, b.Expected, b.Found)
				return err
			}
			return nil
		}),
		// With --json too, a chain that does not verify exits 1.
		fail: as(func(_ *cobra.Command, _ *gatehouse.Client, v auditVerify) error {
			if !v.OK {
				return errAuditBroken
			}
			return nil
		}),
	})
	cmd.AddCommand(list, verify)
	return cmd
}

// parsePast reads a time as parseExpiry does, but a duration counts back
// from now (7d: a week ago).
func parsePast(s string, now time.Time) (time.Time, error) {
	t, err := parseExpiry(s, now)
	if err != nil || strings.ContainsAny(s, "-:") { // an error, a time or a date
		return t, err
	}
	return now.Add(-t.Sub(now)), nil
}
