package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/store"
)

// newBackupCmd is `gatehouse backup FILE`: a consistent copy of a
// database, taken while the server runs, in the portable dump format
// (docs/backup.md) that restores into either backend.
func newBackupCmd(getenv func(string) string) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent, portable copy of the database to FILE (- for stdout)",
		Long: "Write a gzipped, checksummed dump of the database to FILE while the server keeps running:\n" +
			"every table is read in one consistent read transaction. The dump restores into either\n" +
			"backend with gatehouse restore (SQLite to PostgreSQL and back). Sign-in sessions are left\n" +
			"out; see docs/backup.md.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), db, false)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Ping(cmd.Context()); err != nil {
				return fmt.Errorf("backup of %s: %w", redactDSN(db), err)
			}
			var h store.DumpHeader
			if args[0] == "-" {
				h, err = st.Dump(cmd.Context(), cmd.OutOrStdout())
				if err != nil {
					return fmt.Errorf("backup of %s: %w", redactDSN(db), err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "backup of %s at revision %d written to stdout (%s)\n", redactDSN(db), h.Revision, summary(h))
				return nil
			}
			h, err = writeAtomically(args[0], func(w io.Writer) (store.DumpHeader, error) { return st.Dump(cmd.Context(), w) })
			if err != nil {
				return fmt.Errorf("backup of %s: %w", redactDSN(db), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup of %s at revision %d written to %s (%s)\n", redactDSN(db), h.Revision, args[0], summary(h))
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	return cmd
}

// newRestoreCmd is `gatehouse restore FILE`: load a dump into a new,
// empty database (migrated first). It refuses a database that holds
// anything, so a restore can never merge with or overwrite live data.
func newRestoreCmd(getenv func(string) string) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Load a dump written by gatehouse backup into a new, empty database (- for stdin)",
		Long: "Load a dump written by gatehouse backup into the database --db names, which must be new\n" +
			"and empty (a SQLite file that does not exist yet, or an empty PostgreSQL database); it is\n" +
			"migrated first. The dump's checksum is verified before anything is written, and the whole\n" +
			"restore is one transaction. Restore with the server stopped, then start it on the database.",
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				defer f.Close()
				in = f
			}
			// A SQLite file this command creates is removed again if the
			// restore fails, so a retry does not find a database in the way.
			created := false
			if !isPostgres(db) {
				_, err := os.Stat(db)
				created = os.IsNotExist(err)
			}
			st, err := openStore(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			h, err := st.Restore(cmd.Context(), in)
			st.Close()
			if err != nil {
				if created {
					for _, suffix := range []string{"", "-wal", "-shm"} {
						os.Remove(db + suffix)
					}
				}
				return fmt.Errorf("restore into %s: %w", redactDSN(db), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s into %s: revision %d, from a %s backup of %s (%s)\n",
				args[0], redactDSN(db), h.Revision, h.Backend, h.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), summary(h))
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	return cmd
}

// exactArgs wants n positional arguments and names them in the error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s needs %s (see %s --help)", cmd.Name(), names, cmd.CommandPath())}
		}
		return nil
	}
}

// writeAtomically writes to a temporary file beside path and renames it
// into place, so a failed backup never leaves a half-written FILE (or
// replaces a good one).
func writeAtomically(path string, write func(io.Writer) (store.DumpHeader, error)) (store.DumpHeader, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return store.DumpHeader{}, err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	h, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, err
	}
	return h, os.Rename(f.Name(), path)
}

// summary is the row counts of the main tables, for the command's output.
func summary(h store.DumpHeader) string {
	var parts []string
	for _, t := range []string{"users", "groups", "memberships", "folders", "audit"} {
		if n, ok := h.Tables[t]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, t))
		}
	}
	var total int64
	for _, n := range h.Tables {
		total += n
	}
	parts = append(parts, fmt.Sprintf("%d rows in %d tables", total, len(h.Tables)))
	return strings.Join(parts, ", ")
}
