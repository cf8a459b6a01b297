package declarative

import (
	"strings"
	"testing"
)

const hooksFile = `version: 1
users:
  - username: alice
groups:
  - name: Radiologists
webhooks:
  - name: cache
    url: https://cache.example.org/in
    secret_env: CACHE_SECRET
    filter: {entity: membership, group: Radiologists}
  - name: siem
    url: https://siem.example.org/in
    secret_env: SIEM_SECRET
    active: false
    filter: {action: user.delete, user: alice}
`

// Webhooks in a file: validated with their field named, planned after
// what their filters name, updated when their configuration differs,
// deleted only with --prune; the secret is never compared or written.
func TestWebhooksInTheFile(t *testing.T) {
	want := mustParse(t, hooksFile)
	if len(want.Webhooks) != 2 || want.Webhooks[0].Name != "cache" || want.Webhooks[1].active() {
		t.Fatalf("parsed webhooks: %+v", want.Webhooks)
	}
	p := Diff(fresh(), want, Options{})
	ops := p.Changes()
	if i, j := index(t, ops, "webhook cache"), index(t, ops, "group Radiologists"); i < j {
		t.Errorf("the webhook is created before the group its filter names:\n%s", planText(ops))
	}
	cur := mustParse(t, hooksFile)
	cur.Webhooks[0].URL = "https://old.example.org/in"
	cur.Webhooks = append(cur.Webhooks, Webhook{Name: "stale", URL: "https://x.example.org/", SecretEnv: "X"})
	p = Diff(cur, want, Options{})
	if got := names(p.Ops, Update); len(got) != 1 || got[0] != "webhook cache" {
		t.Errorf("updates %v, want the webhook whose url changed", got)
	}
	if got := names(p.Ops, Keep); !strings.Contains(strings.Join(got, ","), "webhook stale") {
		t.Errorf("without --prune the absent webhook is kept: %v", got)
	}
	if got := names(Diff(cur, want, Options{Prune: true}).Ops, Delete); len(got) != 1 || got[0] != "webhook stale" {
		t.Errorf("with --prune: deletes %v", got)
	}
}

func TestWebhookProblemsNameTheField(t *testing.T) {
	cases := map[string]string{
		"webhooks[0].secret_env":     "secret_env: \"not a name\"",
		"webhooks[0].filter.group":   "secret_env: S\n    filter: {group: Nobody}",
		"webhooks[0].filter.action":  "secret_env: S\n    filter: {action: DROP}",
		"webhooks[0].filter.user":    "secret_env: S\n    filter: {user: zed}",
		"webhooks[0].filter.project": "secret_env: S\n    filter: {project: Nowhere}",
	}
	for field, tail := range cases {
		src := "version: 1\nwebhooks:\n  - name: x\n    url: https://x.example.org/\n    " + tail + "\n"
		_, err := Parse("f.yaml", []byte(src), testNow)
		ps := ProblemsOf(err)
		if len(ps) == 0 || ps[0].Field != field {
			t.Errorf("%s: problems %v", field, ps)
		}
	}
	if _, err := Parse("f.yaml", []byte("version: 1\nwebhooks:\n  - name: x\n    url: https://x.example.org/\n    secret: hunter2hunter2hunter2\n"), testNow); err == nil {
		t.Errorf("a secret in clear in the file was accepted")
	}
}
