package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/internal/declarative"
)

func (a *app) applyCmd() *cobra.Command {
	var file string
	var dryRun, prune bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the server's configuration match a YAML file (configuration as code)",
		Long: "Apply reads a configuration file (as `gatehouse export` writes it), compares it with the server\n" +
			"and creates, updates and, with --prune, deletes what differs, through the API as the signed-in\n" +
			"user. --dry-run prints the plan and changes nothing. Objects absent from the file are deleted\n" +
			"only with --prune. See docs/configuration-as-code.md.",
		Args: nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usage(cmd, "apply needs -f FILE (- for standard input)")
			}
			data, name, err := readConfig(cmd, file)
			if err != nil {
				return err
			}
			want, err := declarative.Parse(name, data, time.Now())
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			remote := declarative.NewRemote(c, nil)
			cur, err := remote.Load(cmd.Context())
			if err != nil {
				return explain(c, err)
			}
			plan := declarative.Diff(cur, want, declarative.Options{Prune: prune, Self: remote.Self()})
			out := cmd.OutOrStdout()
			if dryRun || len(plan.Conflicts) > 0 {
				if err := plan.Write(out); err != nil {
					return err
				}
				if len(plan.Conflicts) > 0 {
					return fmt.Errorf("nothing applied: %d difference(s) the API cannot make (listed above)", len(plan.Conflicts))
				}
				return nil
			}
			if plan.Empty() {
				_, err := fmt.Fprintln(out, plan.Summary())
				return err
			}
			progress := newProgress(cmd.ErrOrStderr())
			err = declarative.Execute(cmd.Context(), remote, plan, progress.step)
			progress.finish()
			if err != nil {
				return explain(c, err)
			}
			cr, up, del, _ := plan.Counts()
			_, err = fmt.Fprintf(out, "Applied: %d created, %d updated, %d deleted.\n", cr, up, del)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the configuration file (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete objects that are absent from the file")
	return cmd
}

func readConfig(cmd *cobra.Command, file string) ([]byte, string, error) {
	if file == "-" {
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), declarative.MaxFileBytes+1))
		if err != nil {
			return nil, "", fmt.Errorf("reading standard input: %w", err)
		}
		return b, "<stdin>", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", fmt.Errorf("reading the configuration: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, declarative.MaxFileBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", file, err)
	}
	return b, file, nil
}

// progress shows how far apply has got: on a terminal, one bar redrawn in
// place; otherwise one plain line per operation, which a log keeps.
type progress struct {
	w     io.Writer
	tty   bool
	width int
	drawn bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, width: 80}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			p.width = cols
		}
	}
	return p
}

func (p *progress) step(done, total int, op declarative.Op) {
	line := fmt.Sprintf("%s %s %s", op.Action, op.Kind, op.Name)
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", done, total, line)
		return
	}
	p.drawn = true
	fmt.Fprint(p.w, "\r"+bar(done, total, line, p.width))
}

// bar draws "[#####.....] 12/40 create user alice" in width columns.
func bar(done, total int, label string, width int) string {
	const cells = 24
	n := cells
	if total > 0 {
		n = done * cells / total
	}
	s := fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("#", n), strings.Repeat(".", cells-n), done, total, label)
	if r := []rune(s); len(r) > width-1 {
		s = string(r[:width-1])
	}
	return s + strings.Repeat(" ", max(0, width-1-len([]rune(s))))
}

func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
