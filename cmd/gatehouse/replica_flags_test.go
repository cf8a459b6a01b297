package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// The replica flags refuse bad values, from the command line or the
// environment, as usage errors (exit 2) naming the flag or variable,
// before anything is opened.
func TestReplicaFlagsRefuseBadValues(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--poll-interval", "0"}, nil, "--poll-interval 0s: want a positive duration"},
		{[]string{"--ready-max-lag", "-1s"}, nil, "--ready-max-lag -1s"},
		{[]string{"--reload-after", "-5"}, nil, "--reload-after -5"},
		{[]string{"--drain-delay", "-1s"}, nil, "--drain-delay -1s"},
		{nil, map[string]string{"GATEHOUSE_POLL_INTERVAL": "fast"}, `GATEHOUSE_POLL_INTERVAL="fast": want a duration`},
		{nil, map[string]string{"GATEHOUSE_RELOAD_AFTER": "many"}, `GATEHOUSE_RELOAD_AFTER="many": want a whole number`},
		{nil, map[string]string{"GATEHOUSE_METRICS": "maybe"}, `GATEHOUSE_METRICS="maybe": want true or false`},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		getenv := func(k string) string { return c.env[k] }
		args := append([]string{"serve", "--db", t.TempDir() + "/never-opened.db"}, c.args...)
		code := run(context.Background(), args, io.Discard, &stderr, getenv)
		if code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("serve %v with %v: exit %d, stderr %q; want 2 and %q", c.args, c.env, code, stderr.String(), c.want)
		}
	}
}
