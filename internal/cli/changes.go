package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// feedPage is a page of GET /api/v1/changes (api.ChangesBody) with each
// change kept as the server sent it, so that --json prints it unchanged.
type feedPage struct {
	Changes []json.RawMessage `json:"changes"`
	Next    int64             `json:"next"`
}

// followWait is how long each request of --follow waits for a change.
const followWait = 25 * time.Second

func (a *app) changesCmd() *cobra.Command {
	var after int64
	var follow bool
	var limit int
	var entity, group, project, user string
	cmd := &cobra.Command{
		Use:   "changes [--after REVISION] [--follow] [--entity KIND] [--group G] [--project P] [--user U]",
		Short: "Read the change feed: every committed change after a revision (changes.read)",
		Long: "Print the changes committed after --after (default 0), in revision order: revision,\n" +
			"time, actor, action names and the objects written. --follow keeps waiting for new\n" +
			"changes (long polling) and prints each as it commits, until interrupted; with\n" +
			"--json each change is one JSON line. A revision the server no longer retains\n" +
			"fails with 410 and the oldest available. Needs changes.read.",
		Example: "  gatehouse changes --after 120\n" +
			"  gatehouse changes --follow --group Radiologists --json | jq -c '{revision, actions}'",
		Args: nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			q, err := feedQuery(cmd.Context(), c, entity, group, project, user)
			if err != nil {
				return explain(c, err)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			if follow {
				q.Set("wait_ms", strconv.FormatInt(followWait.Milliseconds(), 10))
			}
			return a.readFeed(cmd, c, q, after, follow)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&after, "after", 0, "print the changes after this revision")
	f.BoolVar(&follow, "follow", false, "keep waiting for new changes until interrupted")
	f.IntVar(&limit, "limit", 0, "changes read per request (default 100, at most 1000)")
	f.StringVar(&entity, "entity", "", "only objects of this kind (user, group, membership, ...)")
	f.StringVar(&group, "group", "", "only objects about this group (id or name)")
	f.StringVar(&project, "project", "", "only objects about this project (id or name)")
	f.StringVar(&user, "user", "", "only objects about this user (id or username)")
	return declare(cmd, "GET /api/v1/changes")
}

// feedQuery turns the filter flags into query parameters, resolving names.
func feedQuery(ctx context.Context, c *gatehouse.Client, entity, group, project, user string) (url.Values, error) {
	q := url.Values{}
	set(q, "entity", entity)
	if group != "" {
		g, err := resolveGroup(ctx, c, group)
		if err != nil {
			return nil, err
		}
		q.Set("group_id", g.ID)
	}
	if project != "" {
		p, err := resolveProject(ctx, c, project)
		if err != nil {
			return nil, err
		}
		q.Set("project_id", p.ID)
	}
	if user != "" {
		u, err := resolveUser(ctx, c, user)
		if err != nil {
			return nil, err
		}
		q.Set("user_id", u.ID)
	}
	return q, nil
}

// readFeed reads pages from after on: one without follow, until the
// command's context ends with it.
func (a *app) readFeed(cmd *cobra.Command, c *gatehouse.Client, q url.Values, after int64, follow bool) error {
	w := cmd.OutOrStdout()
	for {
		q.Set("after", strconv.FormatInt(after, 10))
		raw, err := callAPI(cmd.Context(), c, "GET", "/changes", q, nil)
		if err != nil {
			if follow && cmd.Context().Err() != nil {
				return nil // interrupted
			}
			return explain(c, err)
		}
		var p feedPage
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("the server's answer is not a page of changes: %w", err)
		}
		if err := a.printChanges(w, p, follow); err != nil {
			return err
		}
		after = p.Next
		if !follow {
			return nil
		}
	}
}

// printChanges prints a page: JSON lines with --json when following (a
// stream), the page as it came without; one line per change otherwise.
func (a *app) printChanges(w io.Writer, p feedPage, follow bool) error {
	if a.json && !follow {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return printRaw(w, b)
	}
	for _, raw := range p.Changes {
		if a.json {
			if _, err := fmt.Fprintf(w, "%s\n", raw); err != nil {
				return err
			}
			continue
		}
		var ch api.FeedChange
		if err := json.Unmarshal(raw, &ch); err != nil {
			return fmt.Errorf("the server's answer is not a change: %w", err)
		}
		objs := make([]string, len(ch.Objects))
		for i, o := range ch.Objects {
			objs[i] = o.Op + " " + o.Entity + ":" + o.ID
		}
		if _, err := fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", ch.Revision, ch.At.UTC().Format(time.RFC3339), ch.ActorID,
			strings.Join(ch.Actions, ","), strings.Join(objs, "; ")); err != nil {
			return err
		}
	}
	if !follow && !a.json {
		_, err := fmt.Fprintf(w, "next: --after %d\n", p.Next)
		return err
	}
	return nil
}
