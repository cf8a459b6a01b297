package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/declarative"
)

func (a *app) exportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the server's whole configuration as YAML (configuration as code)",
		Long: "Export writes users (without secrets), roles, groups and their members, projects, folder types,\n" +
			"folders, folder levels and rules as YAML, sorted by name so that two exports diff meaningfully.\n" +
			"Apply the file with `gatehouse apply -f FILE`. See docs/configuration-as-code.md.",
		Args: nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			cur, err := declarative.NewRemote(c, nil).Load(cmd.Context())
			if err != nil {
				return explain(c, err)
			}
			b, err := declarative.Encode(declarative.Export(cur))
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			// Written beside the target and renamed, so that a failed
			// export never leaves half a file in its place.
			tmp := out + ".tmp"
			if err := os.WriteFile(tmp, b, 0o600); err != nil {
				return fmt.Errorf("writing %s: %w", out, err)
			}
			if err := os.Rename(tmp, out); err != nil {
				os.Remove(tmp)
				return fmt.Errorf("writing %s: %w", out, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	return cmd
}
