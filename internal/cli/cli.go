// Package cli is the gatehouse subcommands that administer a server over
// its REST API (login, logout, whoami, users, groups, members, roles,
// projects, folder types, folders, folder levels, rules, check, explain,
// batch-check, resources, subjects, effective-permissions, tokens, the
// audit log, and export and apply of the whole configuration through
// internal/declarative), through pkg/gatehouse. Every operation of the
// API has a command, which declares it (OperationsAnnotation). The serve,
// migrate and version commands, which work on the database directly, live
// in cmd/gatehouse.
//
// Every command prints a readable table, or with --json the API's JSON.
// Failures are returned as errors for cmd/gatehouse to print on one line;
// a mistake in the command line is returned through the root command's
// flag-error function, so it gets the same usage exit status (2) as a bad
// flag. See docs/cli.md.
package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Env is what the commands take from their surroundings; tests replace it.
type Env struct {
	// Getenv reads GATEHOUSE_SERVER, GATEHOUSE_TOKEN and
	// GATEHOUSE_CONFIG_DIR (default os.Getenv).
	Getenv func(string) string
	// HTTPClient sends the requests (default: the client's own).
	HTTPClient *http.Client
}

// Commands returns the subcommands for the root command.
func Commands(env Env) []*cobra.Command {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	a := &app{env: env}
	cmds := []*cobra.Command{
		// login signs in (a session), makes the CLI's token with it, and
		// signs the session out; with --token it checks the token (GET /me).
		declare(a.loginCmd(), "POST /api/v1/login", "POST /api/v1/tokens", "POST /api/v1/logout", "GET /api/v1/me"),
		// The CLI holds a token, not a session: logout revokes it.
		declare(a.logoutCmd(), "DELETE /api/v1/tokens/{id}"),
		a.whoamiCmd(), a.usersCmd(), a.groupsCmd(), a.membersCmd(), a.rolesCmd(),
		a.projectsCmd(), declare(a.checkCmd(), "POST /api/v1/check"), a.batchCheckCmd(),
		declare(a.explainCmd(), "POST /api/v1/explain"), a.resourcesCmd(), a.subjectsCmd(), a.effectiveCmd(),
		a.tokensCmd(), a.auditLogCmd(), a.changesCmd(), a.webhooksCmd(), a.replicaCmd(),
		// export and apply read and write the whole configuration through
		// many operations, each also a command of its own.
		a.exportCmd(), a.applyCmd(),
		a.folderTypesCmd(), a.foldersCmd(), a.levelsCmd(), a.rulesCmd(),
	}
	for _, c := range cmds {
		a.globalFlags(c)
	}
	document(cmds)
	return cmds
}

// app holds the flags every command shares.
type app struct {
	env    Env
	server string
	token  string
	json   bool
	stdin  *bufio.Reader
	// captured is the API's answer that --json prints (see capture).
	captured *capture
}

func (a *app) globalFlags(c *cobra.Command) {
	f := c.PersistentFlags()
	f.StringVar(&a.server, "server", "", "the server's URL (env GATEHOUSE_SERVER; default: the one you logged in to, else "+defaultServer+")")
	f.StringVar(&a.token, "token", "", "an API token to use instead of the stored one (env GATEHOUSE_TOKEN)")
	f.BoolVar(&a.json, "json", false, "print the API's JSON instead of a table")
}

// usage reports a mistake in the command line through the root command's
// flag-error function, so that it exits as a bad flag does (status 2).
func usage(cmd *cobra.Command, format string, args ...any) error {
	return cmd.FlagErrorFunc()(cmd, fmt.Errorf(format, args...))
}

// path is the command's name under the root ("users create").
func path(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// nargs accepts exactly the named arguments.
func nargs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == len(names):
			return nil
		case len(names) == 0:
			return usage(cmd, "%s takes no argument; got %q", path(cmd), args)
		}
		return usage(cmd, "%s needs %s; got %d argument(s)", path(cmd), strings.Join(names, " "), len(args))
	}
}

// minArgs accepts at least the named arguments, the last repeatable.
func minArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usage(cmd, "%s needs %s...; got %d argument(s)", path(cmd), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// group is a command that only holds subcommands: alone it prints its
// help; with an unknown subcommand it is a usage mistake, as at the root.
func group(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage(cmd, "unknown command %q for %s", args[0], path(cmd))
			}
			return cmd.Help()
		},
	}
}

// target is where to connect and with what token: flags, then the
// environment, then the stored credentials.
func (a *app) target() (server, token string, cred *credentials, err error) {
	server = firstOf(a.server, a.env.Getenv("GATEHOUSE_SERVER"))
	token = firstOf(a.token, a.env.Getenv("GATEHOUSE_TOKEN"))
	cred, err = a.loadCredentials()
	if err != nil {
		return "", "", nil, err
	}
	if cred != nil {
		if server == "" {
			server = cred.Server
		}
		// The stored token is for the server it was made on only.
		if token == "" && sameServer(server, cred.Server) {
			token = cred.Token
		}
	}
	if server == "" {
		server = defaultServer
	}
	return server, token, cred, nil
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func sameServer(a, b string) bool {
	return strings.TrimSuffix(strings.TrimSpace(a), "/") == strings.TrimSuffix(strings.TrimSpace(b), "/")
}

// client returns a client of the target server. A malformed server URL
// is a mistake in the command line (or the environment): exit status 2.
func (a *app) client(cmd *cobra.Command) (*gatehouse.Client, error) {
	server, token, _, err := a.target()
	if err != nil {
		return nil, err
	}
	hc := a.env.HTTPClient
	if a.json && len(Operations(cmd)) > 0 {
		a.captured = &capture{ops: Operations(cmd)}
		hc = a.captured.httpClient(hc)
	}
	c, err := newClient(server, token, hc)
	if err != nil {
		return nil, usage(cmd, "%v", err)
	}
	return c, nil
}

// ---- output ----

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		// A tab or newline in a name would break the columns.
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
		if cells[i] == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// output prints, with --json, the API's answer as it came (v when the
// command kept none: an empty answer, or one it did not call), else runs
// the table printer.
func (a *app) output(cmd *cobra.Command, v any, text func(w io.Writer) error) error {
	if a.json {
		if raw := a.captured.answer(); raw != nil {
			return printRaw(cmd.OutOrStdout(), raw)
		}
		return printJSON(cmd.OutOrStdout(), v)
	}
	return text(cmd.OutOrStdout())
}

// done prints a one-line confirmation, or v as JSON.
func (a *app) done(cmd *cobra.Command, v any, format string, args ...any) error {
	return a.output(cmd, v, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, format+"\n", args...)
		return err
	})
}

// day shows a time to people: in UTC, saying so, whatever the machine's
// zone (--json keeps RFC 3339).
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func dayp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}

// ---- input ----

func (a *app) reader(cmd *cobra.Command) *bufio.Reader {
	if a.stdin == nil {
		a.stdin = bufio.NewReader(cmd.InOrStdin())
	}
	return a.stdin
}

// readLine asks for one line (the prompt goes to stderr, so that stdout
// stays clean for --json).
func (a *app) readLine(cmd *cobra.Command, prompt string) (string, error) {
	if isTerminal(cmd.InOrStdin()) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
	}
	s, err := a.reader(cmd).ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", fmt.Errorf("reading %s: %w", strings.TrimSuffix(strings.ToLower(prompt), ": "), err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// readPassword asks for a secret without echo on a terminal; from a pipe
// it reads one line, so scripts can pass it on stdin.
func (a *app) readPassword(cmd *cobra.Command, prompt string) (string, error) {
	if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(b), nil
	}
	s, err := a.readLine(cmd, prompt)
	if err != nil {
		return "", err
	}
	return s, nil
}

// ownPassword asks for the current password when u is the signed-in user,
// whose own password the server changes only with it; for anyone else it
// returns "".
func (a *app) ownPassword(cmd *cobra.Command, c *gatehouse.Client, u api.User) (string, error) {
	me, err := c.Me(cmd.Context())
	if err != nil || me.ID != u.ID {
		return "", err
	}
	return a.readPassword(cmd, "Current password of "+u.Username+": ")
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseExpiry reads an expiry: RFC 3339, a date (2026-12-31, midnight
// UTC), or a duration from now (90m, 12h, 30d).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && fmt.Sprint(days) == n {
			return now.Add(time.Duration(days) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-12-31T18:00:00Z), a date (2026-12-31) or a duration (12h, 30d)", s)
}

// splitList reads a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
