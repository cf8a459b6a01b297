package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/internal/domain"
)

func (a *app) replicaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replica",
		Short: "The replica snapshot of local mode (replica.read)",
	}
	cmd.AddCommand(a.replicaSnapshotCmd())
	return cmd
}

// snapshotSummary is what replica snapshot prints of a snapshot.
type snapshotSummary struct {
	Revision         int64  `json:"revision"`
	Bytes            int64  `json:"bytes"`
	File             string `json:"file,omitempty"`
	Users            int    `json:"users"`
	Groups           int    `json:"groups"`
	Memberships      int    `json:"memberships"`
	GroupMemberships int    `json:"group_memberships"`
	Projects         int    `json:"projects"`
	Roles            int    `json:"roles"`
	ProjectGrants    int    `json:"project_grants"`
	DomainGrants     int    `json:"domain_grants"`
	FolderTypes      int    `json:"folder_types"`
	Folders          int    `json:"folders"`
	FolderLevels     int    `json:"folder_levels"`
	Rules            int    `json:"rules"`
}

func (a *app) replicaSnapshotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "snapshot [--out FILE]",
		Short: "Download the permission state a local replica starts from (replica.read)",
		Long: "Download the replica snapshot: the permission-relevant state at one revision, in the\n" +
			"replica encoding (docs/api.md), without usernames, emails or other personal fields.\n" +
			"With --out it is saved to FILE (- for standard output); it is always checked whole\n" +
			"and summarized: its revision, size and how many objects of each kind it holds.\n" +
			"Needs replica.read (a token limited to it is enough).",
		Example: "  gatehouse replica snapshot\n" +
			"  gatehouse replica snapshot --out state.ghrepl --json",
		Args: nargs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			w := io.Writer(&buf)
			var f *os.File
			switch out {
			case "":
			case "-":
				w = io.MultiWriter(&buf, cmd.OutOrStdout())
			default:
				if f, err = os.Create(out); err != nil {
					return err
				}
				defer f.Close()
				w = io.MultiWriter(&buf, f)
			}
			body, _, err := c.ReplicaSnapshot(cmd.Context())
			if err != nil {
				return explain(c, err)
			}
			_, err = io.Copy(w, body)
			body.Close()
			if err != nil {
				return fmt.Errorf("reading the snapshot: %w", err)
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return err
				}
			}
			return a.printSnapshotSummary(cmd, buf.Bytes(), out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "save the snapshot to this file (- for standard output)")
	return declare(cmd, "GET /api/v1/replica/snapshot")
}

// printSnapshotSummary decodes a downloaded snapshot, which also proves
// it whole, and prints what it holds.
func (a *app) printSnapshotSummary(cmd *cobra.Command, raw []byte, out string) error {
	s, err := domain.DecodeReplicaSnapshot(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	sum := snapshotSummary{Revision: s.Revision, Bytes: int64(len(raw)), Users: len(s.Users), Groups: len(s.Groups),
		Memberships: len(s.Memberships), GroupMemberships: len(s.GroupMemberships), Projects: len(s.Projects), Roles: len(s.Roles), ProjectGrants: len(s.ProjectGrants),
		DomainGrants: len(s.DomainGrants), FolderTypes: len(s.FolderTypes), Folders: len(s.Folders),
		FolderLevels: len(s.FolderLevels), Rules: len(s.Rules)}
	if out != "-" {
		sum.File = out
	}
	w := cmd.OutOrStdout()
	if out == "-" {
		w = cmd.ErrOrStderr() // standard output carries the snapshot
	}
	if a.json {
		return printJSON(w, sum)
	}
	_, err = fmt.Fprintf(w, "revision %d, %d bytes: %d users, %d groups, %d memberships, %d group memberships, %d projects, %d roles, "+
		"%d project grants, %d domain grants, %d folder types, %d folders, %d folder levels, %d rules\n",
		sum.Revision, sum.Bytes, sum.Users, sum.Groups, sum.Memberships, sum.GroupMemberships, sum.Projects, sum.Roles,
		sum.ProjectGrants, sum.DomainGrants, sum.FolderTypes, sum.Folders, sum.FolderLevels, sum.Rules)
	return err
}
