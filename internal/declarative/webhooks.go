package declarative

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse"
)

// Webhook subscriptions as configuration (docs/configuration-as-code.md,
// "Webhooks"). A subscription's secret never appears in a file: the file
// names the environment variable apply reads it from when it creates the
// subscription. An existing subscription's secret is left as it is
// (rotate it with gatehouse webhooks update --secret).

// KindWebhook is the plan's kind of webhook subscriptions: they run last
// (their filters name groups, projects and users) and are deleted first.
const KindWebhook = "webhook"

// Webhook is a subscription.
type Webhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// SecretEnv names the environment variable holding the signing
	// secret, read by apply when it creates the subscription.
	SecretEnv string         `yaml:"secret_env"`
	Active    *bool          `yaml:"active,omitempty"` // omitted: true
	Filter    *WebhookFilter `yaml:"filter,omitempty"`

	line int
}

// WebhookFilter is the feed filter of a subscription, by name: a system
// group's name or "Project/Group", a project's name, a username.
type WebhookFilter struct {
	Entity  string `yaml:"entity,omitempty"`
	Action  string `yaml:"action,omitempty"`
	Group   string `yaml:"group,omitempty"`
	Project string `yaml:"project,omitempty"`
	User    string `yaml:"user,omitempty"`
}

func (x *Webhook) UnmarshalYAML(n *yaml.Node) error {
	type plain Webhook
	return strict(n, "a webhook", (*plain)(x), &x.line)
}

func (w *Webhook) active() bool { return w.Active == nil || *w.Active }

func (w *Webhook) filter() WebhookFilter {
	if w.Filter == nil {
		return WebhookFilter{}
	}
	return *w.Filter
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// SecretEnvFor is the variable export names for a subscription's secret.
func SecretEnvFor(name string) string {
	up := strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(name, "_"))
	return "GATEHOUSE_WEBHOOK_SECRET_" + strings.Trim(up, "_")
}

func (v *validator) webhooks(ws []Webhook) {
	seen := map[string]bool{}
	for i := range ws {
		w := &ws[i]
		f := at("webhooks", i)
		v.name(w.line, f+".name", "name", w.Name, domain.MaxNameLen)
		if seen[key(w.Name)] {
			v.add(w.line, f+".name", "the webhook %q is listed twice", w.Name)
		}
		seen[key(w.Name)] = true
		if w.URL == "" {
			v.add(w.line, f+".url", "url is required")
		}
		if !envName.MatchString(w.SecretEnv) {
			v.add(w.line, f+".secret_env", "name the environment variable holding the signing secret (letters, digits, _), e.g. %s: secrets are never written in the file", SecretEnvFor(w.Name))
		}
		fl := w.filter()
		dw := domain.Webhook{Name: w.Name, URL: w.URL, Secret: strings.Repeat("x", domain.MinWebhookSecretLen),
			Filter: domain.WebhookFilter{Entity: fl.Entity, Action: fl.Action}}
		v.fields(w.line, f, dw.Validate())
		if fl.User != "" && !v.users[key(fl.User)] {
			v.add(w.line, f+".filter.user", "no user %q in the file", fl.User)
		}
		if fl.Project != "" && v.projects[key(fl.Project)] == nil {
			v.add(w.line, f+".filter.project", "no project %q in the file", fl.Project)
		}
		if fl.Group != "" && !v.knowsGroup(fl.Group) {
			v.add(w.line, f+".filter.group", "no group %q in the file (a system group's name, or Project/Group)", fl.Group)
		}
	}
}

// knowsGroup reports whether ref names a system group or "Project/Group"
// of the file.
func (v *validator) knowsGroup(ref string) bool {
	if _, ok := v.sysGroups[key(ref)]; ok {
		return true
	}
	p, g, ok := strings.Cut(ref, "/")
	return ok && v.projGroups[key(p)][key(g)]
}

func (d *differ) webhooks(cur, want []Webhook) {
	pairs, absent := pairUp(cur, want, func(w *Webhook) string { return key(w.Name) })
	for _, p := range pairs {
		c, w := p[0], p[1]
		if c == nil {
			d.add(Op{Action: Create, Kind: KindWebhook, Name: w.Name, Webhook: w})
			continue
		}
		var ch changes
		ch.cmp("name", c.Name, w.Name)
		ch.cmp("url", c.URL, w.URL)
		ch.cmp("active", c.active(), w.active())
		cf, wf := c.filter(), w.filter()
		ch.cmp("filter", fmt.Sprintf("%+v", cf), fmt.Sprintf("%+v", wf))
		if o, ok := ch.op(Op{Kind: KindWebhook, Name: w.Name, Webhook: w}); ok {
			d.add(o)
		}
	}
	for _, c := range absent {
		d.absent(Op{Kind: KindWebhook, Name: c.Name, Webhook: c})
	}
}

// loadWebhooks reads the subscriptions, their filters by name. A caller
// without webhooks.manage gets none (and apply leaves them alone).
func (r *Remote) loadWebhooks(ctx context.Context, cfg *Config, userName, groupName, projectName map[string]string) error {
	list, err := r.c.ListWebhooks(ctx)
	if gatehouse.IsForbidden(err) {
		r.noWebhooks = true
		return nil
	}
	if err != nil {
		return err
	}
	r.webhookID = map[string]string{}
	for _, h := range list {
		r.webhookID[key(h.Name)] = h.ID
		w := Webhook{Name: h.Name, URL: h.URL, SecretEnv: SecretEnvFor(h.Name)}
		if !h.Active {
			f := false
			w.Active = &f
		}
		fl := WebhookFilter{Entity: h.Filter.Entity, Action: h.Filter.Action, Group: groupName[h.Filter.GroupID],
			Project: projectName[h.Filter.ProjectID], User: userName[h.Filter.UserID]}
		if fl != (WebhookFilter{}) {
			w.Filter = &fl
		}
		cfg.Webhooks = append(cfg.Webhooks, w)
	}
	return nil
}

func (r *Remote) applyWebhook(ctx context.Context, op Op) error {
	w := op.Webhook
	if r.noWebhooks {
		return domain.Errorf("declarative.Apply", domain.KindForbidden, "missing permission %s: webhook subscriptions cannot be read or changed", domain.PermWebhooksManage)
	}
	if op.Action == Delete {
		id, err := r.id(r.webhookID, "webhook", key(w.Name), w.Name)
		if err != nil {
			return err
		}
		return r.c.DeleteWebhook(ctx, id)
	}
	cfg, err := r.webhookConfig(w)
	if err != nil {
		return err
	}
	if op.Action == Create {
		secret := os.Getenv(w.SecretEnv)
		if secret == "" {
			return domain.Errorf("declarative.Apply", domain.KindInvalid, "the environment variable %s (secret_env of webhook %q) is not set: put the signing secret there", w.SecretEnv, w.Name)
		}
		cfg.Secret = secret
		out, err := r.c.CreateWebhook(ctx, cfg)
		if err != nil {
			return err
		}
		r.webhookID[key(out.Name)] = out.ID
		return nil
	}
	id, err := r.id(r.webhookID, "webhook", key(w.Name), w.Name)
	if err != nil {
		return err
	}
	_, err = r.c.UpdateWebhook(ctx, id, cfg)
	return err
}

// webhookConfig is the API's form of a subscription, names resolved.
func (r *Remote) webhookConfig(w *Webhook) (gatehouse.WebhookConfig, error) {
	fl := w.filter()
	active := w.active()
	cfg := gatehouse.WebhookConfig{Name: w.Name, URL: w.URL, Active: &active,
		Filter: gatehouse.WebhookFilter{Entity: fl.Entity, Action: fl.Action}}
	var err error
	if fl.Group != "" {
		ref := GroupRef{Name: fl.Group}
		if p, g, ok := strings.Cut(fl.Group, "/"); ok {
			if _, sys := r.groupID[key(fl.Group)]; !sys {
				ref = GroupRef{Project: p, Name: g}
			}
		}
		if cfg.Filter.GroupID, err = r.group(ref); err != nil {
			return cfg, err
		}
	}
	if fl.Project != "" {
		if cfg.Filter.ProjectID, err = r.id(r.projectID, "project", key(fl.Project), fl.Project); err != nil {
			return cfg, err
		}
	}
	if fl.User != "" {
		if cfg.Filter.UserID, err = r.id(r.userID, "user", key(fl.User), fl.User); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}
