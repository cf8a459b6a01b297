// Command gatehouse is the Gatehouse server and its administration tool:
// one binary with subcommands (serve, migrate, version). It is the only
// place where concrete storage backends are chosen.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ error }

// run executes the command line and returns the exit status: 0 on success,
// 1 when the command failed, 2 for a usage mistake. Errors are printed as
// one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	completionCmd(root) // after SetOut: its scripts are written where it says
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "gatehouse: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func newRootCmd(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Gatehouse: group and permission management server",
		Long: "Gatehouse keeps users, groups and grants for applications, administers them over\n" +
			"its web console and APIs, and answers: may this subject do this on that resource, and why?",
		SilenceUsage:  true,
		SilenceErrors: true,
		// ArbitraryArgs routes an unknown subcommand to RunE below, so it
		// is reported as a usage mistake (exit 2) like a bad flag.
		Args: cobra.ArbitraryArgs,
		// A bare "gatehouse" prints help rather than doing something surprising.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q (see gatehouse --help)", args[0])}
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	root.AddCommand(newServeCmd(getenv), newMigrateCmd(getenv), newVersionCmd())
	root.AddCommand(newBackupCmd(getenv), newRestoreCmd(getenv))
	root.AddCommand(newAuditCmd(getenv))
	root.AddCommand(cli.Commands(cli.Env{Getenv: getenv})...)
	return root
}

// completionCmd adds cobra's "completion bash|zsh|fish|powershell" before
// Execute would, so that, like every command holding
// subcommands, it answers an unknown shell as a usage mistake (exit 2)
// instead of printing its help and exiting 0.
func completionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = "  gatehouse completion bash > /etc/bash_completion.d/gatehouse\n" +
				"  gatehouse completion zsh > \"${fpath[1]}/_gatehouse\"\n" +
				"  gatehouse completion fish > ~/.config/fish/completions/gatehouse.fish"
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usageError{fmt.Errorf("unknown shell %q for gatehouse completion: want bash, zsh, fish or powershell", args[0])}
				}
				return cmd.Help()
			}
		}
	}
}

// envOr returns the environment variable's value, or def when unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
