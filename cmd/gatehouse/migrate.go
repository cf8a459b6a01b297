package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd(getenv func(string) string) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations this binary embeds, then exit",
		Long: "Apply every database migration this binary embeds that the database lacks. serve does\n" +
			"this too on start; run migrate on its own before upgrading several replicas at once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(cmd.Context()); err != nil {
				return fmt.Errorf("migrate %s: %w", redactDSN(db), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database %s is migrated to this binary's schema\n", redactDSN(db))
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	return cmd
}
