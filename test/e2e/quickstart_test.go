package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// TestQuickstart follows docs/quickstart.md literally: every ```console
// block's `$ ` lines are run with bash, in order, and what they print must
// match the lines the page shows under them. The only liberties taken, so
// the test can run beside others on a shared machine:
//
//   - the documented address 127.0.0.1:8080 is replaced by a free port in
//     commands and expected output (GATEHOUSE_LISTEN and GATEHOUSE_SERVER
//     point there too);
//   - HOME, GOBIN and the working directory are temporary directories, and
//     `go …` commands run in the repository root, as the page says to;
//   - a command ending in `&` runs in the background, and its expected
//     lines are waited for in its output (up to a minute); it is stopped
//     with SIGTERM at the end.
//
// Expected output: a line `...` matches any number of lines, and `…` inside
// a line matches any text.
func TestQuickstart(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("quickstart: curl is not installed (CI=true: .ci/run installs it)")
		}
		t.Skip("quickstart: curl is not installed; skipping the quickstart walk-through")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(root, "docs", "quickstart.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := parseConsoleBlocks(string(page))
	if len(steps) < 5 {
		t.Fatalf("docs/quickstart.md has %d console commands; expected a walk-through", len(steps))
	}

	port := freePort(t)
	addr := "127.0.0.1:" + port
	tmp := t.TempDir()
	home, work, gobin := filepath.Join(tmp, "home"), filepath.Join(tmp, "work"), filepath.Join(tmp, "bin")
	for _, d := range []string{home, work, gobin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// HOME is a new directory, so Go's caches would move with it: keep the
	// machine's (a newcomer's go install uses theirs, too).
	goenv, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	gv := strings.Split(strings.TrimSpace(string(goenv)), "\n")
	if len(gv) != 3 {
		t.Fatalf("go env printed %q", goenv)
	}
	env := append(os.Environ(), "GOMODCACHE="+gv[0], "GOCACHE="+gv[1], "GOPATH="+gv[2],
		"HOME="+home, "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GATEHOUSE_LISTEN="+addr, "GATEHOUSE_SERVER=http://"+addr,
		"GATEHOUSE_CONFIG_DIR=", "GATEHOUSE_TOKEN=", "GATEHOUSE_DB=")
	sub := func(s string) string { return strings.ReplaceAll(s, "127.0.0.1:8080", addr) }

	var background []*exec.Cmd
	defer func() {
		for _, c := range background {
			_ = c.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = c.Process.Kill()
			}
		}
	}()

	for i, st := range steps {
		cmdline := sub(st.command)
		want := make([]string, len(st.output))
		for j, l := range st.output {
			want[j] = sub(l)
		}
		dir := work
		if strings.HasPrefix(cmdline, "go ") {
			dir = root
		}
		t.Logf("step %d: $ %s", i+1, cmdline)
		if bg, ok := strings.CutSuffix(cmdline, "&"); ok {
			var out lockedBuffer
			c := exec.Command("bash", "-c", "exec "+strings.TrimSpace(bg))
			c.Dir, c.Env, c.Stdout, c.Stderr = dir, env, &out, &out
			if err := c.Start(); err != nil {
				t.Fatalf("step %d: %v", i+1, err)
			}
			background = append(background, c)
			deadline := time.Now().Add(time.Minute)
			for !containsInOrder(out.String(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("step %d: %q: after a minute its output lacks the documented lines\nwant (in order):\n%s\ngot:\n%s",
						i+1, cmdline, strings.Join(want, "\n"), out.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmdline)
		c.Dir, c.Env = dir, env
		got, err := c.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("step %d: %q failed: %v\n%s", i+1, cmdline, err, got)
		}
		if !matchLines(string(got), want) {
			t.Fatalf("step %d: %q printed\n%s\nbut docs/quickstart.md shows\n%s", i+1, cmdline, got, strings.Join(want, "\n"))
		}
	}
	testfigures.Record(t, fmt.Sprintf("quickstart: %d commands of docs/quickstart.md followed literally, all printed what the page shows", len(steps)))
}

type consoleStep struct {
	command string
	output  []string
}

// parseConsoleBlocks returns the `$ ` commands of every ```console block,
// each with the lines shown under it.
func parseConsoleBlocks(page string) []consoleStep {
	var steps []consoleStep
	in := false
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```console":
			in = true
		case in && strings.TrimSpace(line) == "```":
			in = false
		case in && strings.HasPrefix(line, "$ "):
			steps = append(steps, consoleStep{command: strings.TrimPrefix(line, "$ ")})
		case in && len(steps) > 0:
			steps[len(steps)-1].output = append(steps[len(steps)-1].output, line)
		}
	}
	return steps
}

// lineRE turns an expected line into a regular expression: `…` is any text.
func lineRE(want string) *regexp.Regexp {
	parts := strings.Split(strings.TrimRight(want, " "), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// matchLines reports whether got's lines match want's exactly, `...` lines
// matching any run of lines.
func matchLines(got string, want []string) bool {
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if strings.TrimSpace(got) == "" {
		lines = nil
	}
	for len(want) > 0 && strings.TrimSpace(want[len(want)-1]) == "" {
		want = want[:len(want)-1]
	}
	var match func(g, w []string) bool
	match = func(g, w []string) bool {
		if len(w) == 0 {
			return len(g) == 0
		}
		if strings.TrimSpace(w[0]) == "..." {
			for k := 0; k <= len(g); k++ {
				if match(g[k:], w[1:]) {
					return true
				}
			}
			return false
		}
		return len(g) > 0 && lineRE(w[0]).MatchString(strings.TrimRight(g[0], " \r")) && match(g[1:], w[1:])
	}
	return match(lines, want)
}

// containsInOrder reports whether every expected line (but `...`) occurs,
// as part of a line, in order in out. Used for background commands' logs,
// whose lines carry times.
func containsInOrder(out string, want []string) bool {
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "..." || strings.TrimSpace(w) == "" {
			continue
		}
		re := regexp.MustCompile(strings.Join(quoteAll(strings.Split(w, "…")), ".*"))
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			return false
		}
		i++
	}
	return true
}

func quoteAll(ss []string) []string {
	for i, s := range ss {
		ss[i] = regexp.QuoteMeta(s)
	}
	return ss
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// lockedBuffer is a bytes.Buffer safe for a process writing while the test
// reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestQuickstartMatcher(t *testing.T) {
	for _, c := range []struct {
		got  string
		want []string
		ok   bool
	}{
		{"a\nb\n", []string{"a", "b"}, true},
		{"a\nb\n", []string{"a"}, false},
		{"a\nx\ny\nb\n", []string{"a", "...", "b"}, true},
		{"allowed (revision 42)\n", []string{"allowed (revision …)"}, true},
		{"denied (revision 42)\n", []string{"allowed (revision …)"}, false},
		{"", nil, true},
		{"", []string{"..."}, true},
	} {
		if got := matchLines(c.got, c.want); got != c.ok {
			t.Errorf("matchLines(%q, %q) = %v, want %v", c.got, c.want, got, c.ok)
		}
	}
	if !containsInOrder("t=1 msg=a\nt=2 msg=\"b c\" url=x\n", []string{"msg=a", "...", `msg="b c" url=…`}) {
		t.Error("containsInOrder missed lines that are there")
	}
	if containsInOrder("t=2 msg=b\nt=1 msg=a\n", []string{"msg=a", "msg=b"}) {
		t.Error("containsInOrder ignored the order")
	}
	steps := parseConsoleBlocks("text\n```console\n$ echo hi\nhi\n$ true\n```\n```sh\n$ not me\n```\n")
	if len(steps) != 2 || steps[0].command != "echo hi" || len(steps[0].output) != 1 || steps[1].command != "true" {
		t.Errorf("parseConsoleBlocks = %+v", steps)
	}
}
