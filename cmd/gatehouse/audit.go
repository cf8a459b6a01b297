package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The audit commands work on the database directly, like migrate: an
// operator verifies, exports or prunes the audit log with the database's
// credentials, whether or not a server is running (docs/audit.md).

func newAuditCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, export and prune the tamper-evident audit log (works on the database directly)",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for gatehouse audit (see gatehouse audit --help)", args[0])}
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newAuditVerifyCmd(getenv), newAuditExportCmd(getenv), newAuditPruneCmd(getenv))
	return cmd
}

// openChain opens the database without migrating it (these commands must
// not change the schema behind a running server's back) and returns its
// audit chain.
func openChain(cmd *cobra.Command, db string) (backend, store.AuditChain, error) {
	st, err := openStore(cmd.Context(), db, false)
	if err != nil {
		return nil, nil, err
	}
	ac, ok := st.(store.AuditChain)
	if !ok {
		st.Close()
		return nil, nil, fmt.Errorf("the database %s has no hash-chained audit log", redactDSN(db))
	}
	return st, ac, nil
}

// errChainBroken is returned, after the details are printed, so that the
// command exits with status 1.
var errChainBroken = errors.New("the audit chain does not verify")

func newAuditVerifyCmd(getenv func(string) string) *cobra.Command {
	var db, head string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-walk the audit hash chain and report the first record that does not match",
		Long: "Re-walk the audit log's hash chain from the pruning anchor to the head, recomputing each\n" +
			"record's hash. Prints \"OK: N records, chain head POSITION HASH\" and exits 0, or names the\n" +
			"first record that does not match (id, position, time, expected and found) and exits 1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, ac, err := openChain(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := ac.VerifyAudit(cmd.Context())
			if err != nil {
				return fmt.Errorf("verify the audit log of %s: %w", redactDSN(db), err)
			}
			out := cmd.OutOrStdout()
			if b := v.Break; b != nil {
				fmt.Fprintf(out, "BROKEN: %s\n", b.Problem)
				id, at := b.ID, "-"
				if id == "" {
					id = "-"
				}
				if !b.At.IsZero() {
					at = b.At.UTC().Format(store.AuditTimeFormat)
				}
				fmt.Fprintf(out, "  record:   %s\n  position: %d\n  time:     %s\n  expected: %s\n  found:    %s\n", id, b.Seq, at, b.Expected, b.Found)
				return errChainBroken
			}
			if head != "" {
				if err := checkRecordedHead(cmd, ac, v, head); err != nil {
					return err
				}
			}
			fmt.Fprintf(out, "OK: %d records, chain head %d %s", v.Records, v.HeadSeq, v.HeadHash)
			if v.AnchorSeq > 0 {
				fmt.Fprintf(out, ", anchored after pruned position %d %s", v.AnchorSeq, v.AnchorHash)
			}
			fmt.Fprintln(out)
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	cmd.Flags().StringVar(&head, "head", "", "also check that the chain still holds this previously recorded head, POSITION:HASH (from an earlier verify)")
	return cmd
}

// checkRecordedHead answers whether a head recorded earlier (outside the
// database) is still part of the chain: a log rewritten from some record
// on, with every hash recomputed, verifies by itself but no longer holds
// the old head. A head at or before the pruning anchor can only be
// checked if it is the anchor itself.
func checkRecordedHead(cmd *cobra.Command, ac store.AuditChain, v store.AuditVerification, head string) error {
	pos, hash, ok := strings.Cut(head, ":")
	seq, err := strconv.ParseInt(pos, 10, 64)
	if !ok || err != nil || seq < 1 || len(hash) != 64 {
		return usageError{fmt.Errorf("--head %q: want POSITION:HASH as verify printed it, e.g. 1234:9d62…(64 hex digits)", head)}
	}
	out := cmd.OutOrStdout()
	mismatch := func(found string) error {
		fmt.Fprintf(out, "BROKEN: the chain no longer holds the recorded head (the log was rewritten from there on?)\n  position: %d\n  expected: hash %s\n  found:    %s\n", seq, hash, found)
		return errChainBroken
	}
	switch {
	case seq > v.HeadSeq:
		return mismatch(fmt.Sprintf("the chain ends at position %d", v.HeadSeq))
	case seq == v.AnchorSeq:
		if v.AnchorHash != hash {
			return mismatch("anchor hash " + v.AnchorHash)
		}
		return nil
	case seq < v.AnchorSeq:
		fmt.Fprintf(cmd.ErrOrStderr(), "note: position %d was pruned (anchor %d); the recorded head cannot be checked\n", seq, v.AnchorSeq)
		return nil
	}
	found := ""
	stop := errors.New("found")
	err = ac.ExportAudit(cmd.Context(), store.AuditExportQuery{}, func(r *store.AuditRecord) error {
		if r.Seq == seq {
			found = r.Hash
			return stop
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return fmt.Errorf("check --head: %w", err)
	}
	if found == "" {
		return mismatch("no record at that position")
	}
	if found != hash {
		return mismatch("hash " + found)
	}
	return nil
}

// exportLine is one record of `audit export`, every field always present.
// Before and After are the stored JSON text as strings, byte for byte what
// the hash covers, so an outside tool can re-verify the chain from the
// export alone (docs/audit.md).
type exportLine struct {
	Seq        int64  `json:"seq"`
	ID         string `json:"id"`
	Revision   int64  `json:"revision"`
	At         string `json:"at"`
	ActorID    string `json:"actor_id"`
	ActorName  string `json:"actor_name"`
	Action     string `json:"action"`
	TargetKind string `json:"target_kind"`
	TargetID   string `json:"target_id"`
	Outcome    string `json:"outcome"`
	Before     string `json:"before"`
	After      string `json:"after"`
	Detail     string `json:"detail"`
	RemoteAddr string `json:"remote_addr"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

func newAuditExportCmd(getenv func(string) string) *cobra.Command {
	var db, since, until, output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write audit records as JSON lines (one record per line, with its hashes) for SIEM ingestion",
		Long: "Write the audit records with --since <= time < --until, in chain order, as JSON lines to\n" +
			"stdout or --output FILE. Times: RFC 3339 (2026-01-31T12:00:00Z) or a date (2026-01-31, UTC).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var q store.AuditExportQuery
			var err error
			if q.Since, err = parseWhen("--since", since); err != nil {
				return err
			}
			if q.Until, err = parseWhen("--until", until); err != nil {
				return err
			}
			if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
				return usageError{fmt.Errorf("--since (%s) must be before --until (%s)", since, until)}
			}
			st, ac, err := openChain(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if output != "" && output != "-" {
				// Written beside the target and renamed, so a failed export
				// never leaves a truncated file where a complete one was.
				f, err = os.CreateTemp(filepath.Dir(output), ".gatehouse-audit-*")
				if err != nil {
					return fmt.Errorf("--output %s: %w", output, err)
				}
				defer os.Remove(f.Name())
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			n := 0
			err = ac.ExportAudit(cmd.Context(), q, func(r *store.AuditRecord) error {
				n++
				return enc.Encode(exportLine{Seq: r.Seq, ID: r.ID, Revision: r.Revision, At: r.At.UTC().Format(store.AuditTimeFormat),
					ActorID: r.ActorID, ActorName: r.ActorName, Action: r.Action, TargetKind: r.TargetKind, TargetID: r.TargetID,
					Outcome: string(r.Outcome), Before: string(r.Before), After: string(r.After), Detail: r.Detail,
					RemoteAddr: r.RemoteAddr, PrevHash: r.PrevHash, Hash: r.Hash})
			})
			if err == nil {
				err = bw.Flush()
			}
			if err != nil {
				return fmt.Errorf("export the audit log of %s: %w", redactDSN(db), err)
			}
			if f != nil {
				if err := f.Sync(); err != nil {
					return fmt.Errorf("--output %s: %w", output, err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("--output %s: %w", output, err)
				}
				if err := os.Rename(f.Name(), output); err != nil {
					return fmt.Errorf("--output %s: %w", output, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "exported %d audit record(s) to %s\n", n, output)
			}
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	cmd.Flags().StringVar(&since, "since", "", "first time to export (inclusive; RFC 3339 or YYYY-MM-DD)")
	cmd.Flags().StringVar(&until, "until", "", "time to stop before (exclusive; RFC 3339 or YYYY-MM-DD)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

func newAuditPruneCmd(getenv func(string) string) *cobra.Command {
	var db, before, keep string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove old audit records, keeping the rest verifiable; the pruning is itself audited",
		Long: "Remove the audit records older than --before DATE, or than --keep DURATION ago (e.g. 2160h\n" +
			"or 90d). Only the chain's oldest records go: pruning stops at the first record that is not\n" +
			"older. The last removed record's position and hash stay as the anchor the rest verifies\n" +
			"from, and an audit.prune record says what was removed. Export first if you must keep them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var cut time.Time
			switch {
			case (before == "") == (keep == ""):
				return usageError{errors.New("give exactly one of --before DATE and --keep DURATION")}
			case before != "":
				t, err := parseWhen("--before", before)
				if err != nil {
					return err
				}
				cut = t
			default:
				d, err := parseKeep(keep)
				if err != nil {
					return err
				}
				cut = time.Now().Add(-d)
			}
			st, ac, err := openChain(cmd, db)
			if err != nil {
				return err
			}
			defer st.Close()
			e := &domain.AuditEvent{ActorName: cliActor(), Action: "audit.prune", TargetKind: "audit",
				Outcome: domain.OutcomeSuccess, Detail: "gatehouse audit prune (command line, database-direct)"}
			res, err := ac.PruneAudit(cmd.Context(), cut, e)
			if err != nil {
				return fmt.Errorf("prune the audit log of %s: %w", redactDSN(db), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pruned %d audit record(s) older than %s; the chain is anchored at position %d %s\n",
				res.Removed, cut.UTC().Format(time.RFC3339), res.AnchorSeq, res.AnchorHash)
			return nil
		},
	}
	dbFlag(cmd.Flags(), &db, getenv)
	cmd.Flags().StringVar(&before, "before", "", "remove records older than this time (RFC 3339 or YYYY-MM-DD, UTC)")
	cmd.Flags().StringVar(&keep, "keep", "", "remove records older than this long ago (Go duration such as 2160h, or days such as 90d)")
	return cmd
}

// parseWhen reads an RFC 3339 time or a date (midnight UTC); "" is zero.
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, usageError{fmt.Errorf("%s %q: want an RFC 3339 time (2026-01-31T12:00:00Z) or a date (2026-01-31)", flag, s)}
}

// parseKeep reads a positive Go duration or a whole number of days ("90d").
func parseKeep(s string) (time.Duration, error) {
	bad := usageError{fmt.Errorf("--keep %q: want a positive duration such as 2160h or a number of days such as 90d", s)}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100000 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			return 0, bad
		}
	}
	return d, nil
}

// cliActor names who ran a database-direct command in its audit record:
// there is no signed-in Gatehouse user, only the operating-system account.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return "cli:" + name
}
