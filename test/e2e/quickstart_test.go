package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testfigures"
)

// TestQuickstart follows docs/quickstart.md literally, from where the
// README leaves a new user: it copies the module into a temporary "clone"
// (what git tracks would be there; .git and ignored files are left out),
// starts the README's run command there (`go run ./cmd/gatehouse serve
// --demo`), and then runs every ```console block's `$ ` lines, in order, in
// one bash session started at the clone's root (so `cd` and shell
// variables carry from one command to the next, as in a terminal). What
// each command prints must match the lines the page shows under it. The
// only liberties taken, so the test can run beside others on a shared
// machine:
//
//   - the documented address 127.0.0.1:8080 is replaced by a free port in
//     commands and expected output (GATEHOUSE_LISTEN and GATEHOUSE_SERVER
//     point there too);
//   - HOME and GOBIN are temporary directories (Go's caches stay the
//     machine's), and GOFLAGS=-trimpath lets the clone's build reuse the
//     compiled packages of the repository's.
//
// Expected output: a line `...` matches any number of lines, and `…` inside
// a line matches any text.
func TestQuickstart(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("quickstart: curl is not installed (CI=true: .ci/run installs it)")
		}
		testfigures.Skip(t, "quickstart: curl is not installed; skipping the quickstart walk-through")
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
	run := readmeRunCommand(t, root)
	if !strings.Contains(string(page), "\n"+run+"\n") {
		t.Fatalf("docs/quickstart.md does not show the README's run command %q", run)
	}

	port := freePort(t)
	addr := "127.0.0.1:" + port
	tmp := t.TempDir()
	clone, home, gobin := filepath.Join(tmp, "clone"), filepath.Join(tmp, "home"), filepath.Join(tmp, "bin")
	copyModule(t, root, clone)
	for _, d := range []string{home, gobin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := quickstartEnv(t, home, gobin, addr)
	sub := func(s string) string { return strings.ReplaceAll(s, "127.0.0.1:8080", addr) }

	startREADMEServer(t, clone, run, env)
	sh := startShell(t, clone, env)
	for i, st := range steps {
		cmdline := sub(st.command)
		want := make([]string, len(st.output))
		for j, l := range st.output {
			want[j] = sub(l)
		}
		t.Logf("step %d: $ %s", i+1, cmdline)
		got, err := sh.run(cmdline, 3*time.Minute)
		if err != nil {
			t.Fatalf("step %d: %q failed: %v\n%s", i+1, cmdline, err, got)
		}
		if !matchLines(got, want) {
			t.Fatalf("step %d: %q printed\n%s\nbut docs/quickstart.md shows\n%s", i+1, cmdline, got, strings.Join(want, "\n"))
		}
	}
	for _, f := range []string{"app-token", "gatehouse.yaml", "demo-backup.gz"} {
		if _, err := os.Stat(filepath.Join(clone, f)); err == nil {
			t.Errorf("the quickstart left %s in the clone; it belongs in the scratch directory", f)
		}
		if _, err := os.Stat(filepath.Join(home, "gatehouse-quickstart", f)); err != nil {
			t.Errorf("the quickstart's scratch directory lacks %s: %v", f, err)
		}
	}
	testfigures.Record(t, fmt.Sprintf("quickstart: the README's server and %d commands of docs/quickstart.md followed literally, all printed what the page shows", len(steps)))
}

// readmeRunCommand is the README's command that starts the server: the
// `go run … serve …` line of its "Run it" section.
func readmeRunCommand(t *testing.T, root string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "go run ") && strings.Contains(line, " serve") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatal("README.md shows no `go run … serve` command")
	return ""
}

// quickstartEnv is the environment of the README's server and of the
// shell: this process's, with HOME, GOBIN and the address replaced and no
// Gatehouse setting of the machine's leaking in.
func quickstartEnv(t *testing.T, home, gobin, addr string) []string {
	t.Helper()
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
	return append(os.Environ(), "GOMODCACHE="+gv[0], "GOCACHE="+gv[1], "GOPATH="+gv[2], "GOFLAGS=-trimpath",
		"HOME="+home, "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GATEHOUSE_LISTEN="+addr, "GATEHOUSE_SERVER=http://"+addr,
		"GATEHOUSE_CONFIG_DIR=", "GATEHOUSE_TOKEN=", "GATEHOUSE_DB=", "GATEHOUSE_ADMIN_PASSWORD=")
}

// startREADMEServer runs the README's command in the clone, in a process
// group of its own (go run starts the server as its child), waits for the
// demo's administrator login in its log (the build comes first: up to
// five minutes on a busy machine), and stops the group with SIGTERM when
// the test ends.
func startREADMEServer(t *testing.T, clone, run string, env []string) {
	t.Helper()
	var out lockedBuffer
	c := exec.Command("bash", "-c", "exec "+run)
	c.Dir, c.Env, c.Stdout, c.Stderr = clone, env, &out, &out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = c.Wait(); close(exited) }()
	t.Cleanup(func() {
		// go run may exit before the server it started: wait for the
		// whole group, so the clone is not removed under a live server.
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		deadline := time.Now().Add(20 * time.Second)
		for syscall.Kill(-c.Process.Pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	want := []string{`msg="demo login" username=admin password=demo-admin`}
	deadline := time.Now().Add(5 * time.Minute)
	for !containsInOrder(out.String(), want) {
		select {
		case <-exited:
			t.Fatalf("the README's %q exited before serving:\n%s", run, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the README's %q: no demo login in its log after five minutes:\n%s", run, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// copyModule copies the files of the repository a clone would hold into
// dir: everything but .git and what .gitignore keeps out of a clone
// (databases, built binaries, test artefacts).
func copyModule(t *testing.T, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if notInClone(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying the module for the quickstart: %v", err)
	}
}

// notInClone says whether a path (relative to the repository's root) is
// one git does not carry: .git itself and the .gitignore'd kinds of file.
func notInClone(rel string, dir bool) bool {
	base := filepath.Base(rel)
	if dir {
		return base == ".git" || rel == "bin" || base == "node_modules"
	}
	for _, suffix := range []string{".db", ".db-wal", ".db-shm", ".test", ".out", ".prof"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return rel == "gatehouse" || rel == "docserver" || rel == ".test-figures"
}

// shell is one bash session fed commands on its standard input, like a
// terminal: the working directory and variables carry from one command to
// the next. Each command's output goes to a file, and a marker line with
// its exit status to the shell's standard output.
type shell struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	out   string // the file each command's output goes to
	n     int
}

func startShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	sh := &shell{cmd: exec.Command("bash", "--noprofile", "--norc"), out: filepath.Join(t.TempDir(), "out")}
	sh.cmd.Dir, sh.cmd.Env = dir, env
	sh.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var err error
	if sh.stdin, err = sh.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := sh.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sh.lines = bufio.NewScanner(stdout)
	if err := sh.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
		_ = sh.cmd.Wait()
	})
	if _, err := fmt.Fprintf(sh.stdin, "set -o pipefail\n"); err != nil {
		t.Fatal(err)
	}
	return sh
}

// run runs one command line and returns what it printed (stdout and
// stderr); a non-zero status, or no answer within timeout, is an error.
func (sh *shell) run(cmdline string, timeout time.Duration) (string, error) {
	sh.n++
	marker := fmt.Sprintf("__quickstart_done_%d", sh.n)
	// The command reads no terminal: its standard input is empty unless it
	// pipes one in itself.
	script := fmt.Sprintf("{ %s\n} >%q 2>&1 </dev/null; echo %s $?\n", cmdline, sh.out, marker)
	if _, err := io.WriteString(sh.stdin, script); err != nil {
		return "", err
	}
	type result struct {
		status string
		ok     bool
	}
	done := make(chan result, 1)
	go func() {
		for sh.lines.Scan() {
			if st, ok := strings.CutPrefix(sh.lines.Text(), marker+" "); ok {
				done <- result{st, true}
				return
			}
		}
		done <- result{}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-sh.cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return "", fmt.Errorf("no answer within %s", timeout)
	}
	got, err := os.ReadFile(sh.out)
	if err != nil {
		return "", err
	}
	if !res.ok {
		return string(got), fmt.Errorf("the shell ended")
	}
	if res.status != "0" {
		return string(got), fmt.Errorf("exit status %s", res.status)
	}
	return string(got), nil
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
