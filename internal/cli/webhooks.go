package cli

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// gatehouse webhooks: subscriptions managed through the public Go client
// (pkg/gatehouse), as every command.

func (a *app) webhooksCmd() *cobra.Command {
	cmd := group("webhooks", "Manage webhook subscriptions: the change feed pushed to a URL (webhooks.manage)")
	cmd.AddCommand(a.webhooksListCmd(), a.webhooksShowCmd(), a.webhookConfigCmd(true), a.webhookConfigCmd(false),
		a.webhooksDeleteCmd(), a.webhooksDeliveriesCmd(), a.webhooksRedeliverCmd(), a.webhooksPingCmd())
	return cmd
}

func (a *app) webhooksListCmd() *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Example: "  gatehouse webhooks list\n  gatehouse webhooks list --json | jq '.[] | select(.state.failing)'",
		Short:   "List webhook subscriptions and where their delivery stands",
		Args:    nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			ws, err := g.ListWebhooks(cmd.Context())
			if err != nil {
				return explain(g, err)
			}
			return a.output(cmd, ws, func(w io.Writer) error {
				t := newTable(w, "ID", "NAME", "URL", "ACTIVE", "DELIVERED", "STATUS")
				for _, h := range ws {
					t.row(h.ID, h.Name, h.URL, strconv.FormatBool(h.Active), strconv.FormatInt(h.State.Cursor, 10), hookStatus(h))
				}
				return t.flush()
			})
		},
	}
	return declare(list, "GET /api/v1/webhooks")
}

func hookStatus(h gatehouse.Webhook) string {
	if h.State.Failing {
		return "failing: " + h.State.LastError
	}
	return "ok"
}

func (a *app) printHook(cmd *cobra.Command, h gatehouse.Webhook) error {
	return a.output(cmd, h, func(w io.Writer) error {
		t := newTable(w, "FIELD", "VALUE")
		t.row("id", h.ID)
		t.row("name", h.Name)
		t.row("url", h.URL)
		t.row("active", strconv.FormatBool(h.Active))
		f := h.Filter
		t.row("filter", fmt.Sprintf("entity=%s action=%s group=%s project=%s user=%s", f.Entity, f.Action, f.GroupID, f.ProjectID, f.UserID))
		t.row("owner", h.OwnerID)
		t.row("delivered up to", strconv.FormatInt(h.State.Cursor, 10))
		t.row("status", hookStatus(h))
		if err := t.flush(); err != nil {
			return err
		}
		if h.Secret != "" {
			_, err := fmt.Fprintf(w, "\nSigning secret (shown once, copy it now): %s\n", h.Secret)
			return err
		}
		return nil
	})
}

func (a *app) webhooksShowCmd() *cobra.Command {
	show := &cobra.Command{
		Use:     "show ID",
		Example: "  gatehouse webhooks show 01j9…",
		Short:   "Show a webhook subscription",
		Args:    nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			h, err := g.GetWebhook(cmd.Context(), args[0])
			if err != nil {
				return explain(g, err)
			}
			return a.printHook(cmd, h)
		},
	}
	return declare(show, "GET /api/v1/webhooks/{id}")
}

// hookFlags are the configuration flags of create and update.
type hookFlags struct {
	name, url, secret, entity, action, group, project, user string
	inactive                                                bool
}

func (h *hookFlags) register(f *pflag.FlagSet, create bool) {
	if !create {
		f.StringVar(&h.name, "name", "", "a new name")
	}
	f.StringVar(&h.url, "url", "", "where deliveries are POSTed (https)")
	f.StringVar(&h.secret, "secret", "", "the signing secret, 16 to 200 characters (default: generated on create, kept on update)")
	f.StringVar(&h.entity, "entity", "", "only objects of this kind (user, group, membership, ...)")
	f.StringVar(&h.action, "action", "", "only changes with this audit action (e.g. group.member_add)")
	f.StringVar(&h.group, "group", "", "only objects about this group (id or name)")
	f.StringVar(&h.project, "project", "", "only objects about this project (id or name)")
	f.StringVar(&h.user, "user", "", "only objects about this user (id or username)")
	f.BoolVar(&h.inactive, "inactive", false, "pause delivery")
}

// apply sets the flags given on cmd's line into cfg, resolving names.
func (h *hookFlags) apply(cmd *cobra.Command, c *gatehouse.Client, cfg *gatehouse.WebhookConfig) error {
	f := cmd.Flags()
	changed := func(name string) bool { return f.Changed(name) }
	if changed("name") {
		cfg.Name = h.name
	}
	if changed("url") {
		cfg.URL = h.url
	}
	cfg.Secret = h.secret
	if changed("entity") {
		cfg.Filter.Entity = h.entity
	}
	if changed("action") {
		cfg.Filter.Action = h.action
	}
	if changed("inactive") || cfg.Active == nil {
		active := !h.inactive
		cfg.Active = &active
	}
	q, err := feedQuery(cmd.Context(), c, "", h.group, h.project, h.user)
	if err != nil {
		return err
	}
	if changed("group") {
		cfg.Filter.GroupID = q.Get("group_id")
	}
	if changed("project") {
		cfg.Filter.ProjectID = q.Get("project_id")
	}
	if changed("user") {
		cfg.Filter.UserID = q.Get("user_id")
	}
	return nil
}

// webhookConfigCmd is "webhooks create NAME" or "webhooks update ID".
func (a *app) webhookConfigCmd(create bool) *cobra.Command {
	var h hookFlags
	cmd := &cobra.Command{
		Use:   "create NAME --url URL",
		Short: "Create a webhook subscription and print its signing secret (shown once)",
		Args:  nargs("NAME"),
		Example: "  gatehouse webhooks create cache --url https://cache.example.org/gatehouse --entity membership\n" +
			"  gatehouse webhooks create siem --url https://siem.example.org/in --action user.delete",
	}
	if !create {
		cmd.Use, cmd.Short, cmd.Args, cmd.Example = "update ID [--url URL] [--name NAME] ...", "Change a webhook subscription (you become its owner); unset flags keep their value", nargs("ID"),
			"  gatehouse webhooks update 01j9… --url https://cache.example.org/v2\n  gatehouse webhooks update 01j9… --inactive"
	}
	h.register(cmd.Flags(), create)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		g, err := a.client(cmd)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		cfg := gatehouse.WebhookConfig{Name: args[0]}
		if !create {
			cur, err := g.GetWebhook(ctx, args[0])
			if err != nil {
				return explain(g, err)
			}
			active := cur.Active
			cfg = gatehouse.WebhookConfig{Name: cur.Name, URL: cur.URL, Filter: cur.Filter, Active: &active}
		}
		if err := h.apply(cmd, g, &cfg); err != nil {
			return explain(g, err)
		}
		var out gatehouse.Webhook
		if create {
			out, err = g.CreateWebhook(ctx, cfg)
		} else {
			out, err = g.UpdateWebhook(ctx, args[0], cfg)
		}
		if err != nil {
			return explain(g, err)
		}
		return a.printHook(cmd, out)
	}
	if create {
		return declare(cmd, "POST /api/v1/webhooks")
	}
	return declare(cmd, "PUT /api/v1/webhooks/{id}")
}

func (a *app) webhooksDeleteCmd() *cobra.Command {
	del := &cobra.Command{
		Use:     "delete ID",
		Example: "  gatehouse webhooks delete 01j9…",
		Short:   "Delete a webhook subscription and its delivery log",
		Args:    nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			if err := g.DeleteWebhook(cmd.Context(), args[0]); err != nil {
				return explain(g, err)
			}
			return a.done(cmd, map[string]any{"deleted": args[0]}, "Webhook %s deleted", args[0])
		},
	}
	return declare(del, "DELETE /api/v1/webhooks/{id}")
}

func (a *app) webhooksDeliveriesCmd() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "deliveries ID",
		Example: "  gatehouse webhooks deliveries 01j9… --limit 20",
		Short:   "Show a webhook subscription's delivery log, newest first",
		Args:    nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			log, err := g.WebhookDeliveries(cmd.Context(), args[0], limit)
			if err != nil {
				return explain(g, err)
			}
			return a.output(cmd, log, func(w io.Writer) error {
				t := newTable(w, "AT", "REVISIONS", "CHANGES", "ATTEMPT", "STATUS", "LATENCY", "RESULT")
				for _, d := range log {
					revs := fmt.Sprintf("%d-%d", d.FromRevision, d.ToRevision)
					if d.Ping {
						revs = "ping"
					}
					result := "ok"
					if !d.OK {
						result = d.Error
					}
					t.row(d.At.UTC().Format("2006-01-02 15:04:05 UTC"), revs, strconv.Itoa(d.Changes), strconv.Itoa(d.Attempt),
						strconv.Itoa(d.StatusCode), strconv.FormatInt(d.LatencyMS, 10)+"ms", result)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "entries to show (default and most: 500)")
	return declare(cmd, "GET /api/v1/webhooks/{id}/deliveries")
}

func (a *app) webhooksRedeliverCmd() *cobra.Command {
	var from int64
	cmd := &cobra.Command{
		Use:     "redeliver ID --from REVISION",
		Example: "  gatehouse webhooks redeliver 01j9… --from 1200",
		Short:   "Deliver again every change from a revision on, and clear the failing mark",
		Args:    nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from < 1 {
				return usage(cmd, "--from: want a revision, 1 or more")
			}
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			h, err := g.RedeliverWebhook(cmd.Context(), args[0], from)
			if err != nil {
				return explain(g, err)
			}
			return a.done(cmd, h, "Webhook %s will deliver again from revision %d", h.Name, from)
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "the first revision to deliver again")
	return declare(cmd, "POST /api/v1/webhooks/{id}/redeliver")
}

func (a *app) webhooksPingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ping ID",
		Example: "  gatehouse webhooks ping 01j9…",
		Short:   "Send a test delivery and say how it went",
		Args:    nargs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.client(cmd)
			if err != nil {
				return err
			}
			d, err := g.PingWebhook(cmd.Context(), args[0])
			if err != nil {
				return explain(g, err)
			}
			if !d.OK {
				_ = a.output(cmd, d, func(w io.Writer) error { return nil })
				return fmt.Errorf("the test delivery failed after %dms: %s", d.LatencyMS, d.Error)
			}
			return a.done(cmd, d, "Delivered: the receiver answered %d %s in %dms", d.StatusCode, http.StatusText(d.StatusCode), d.LatencyMS)
		},
	}
	return declare(cmd, "POST /api/v1/webhooks/{id}/ping")
}
