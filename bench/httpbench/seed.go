package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/engine/enginegen"
	"github.com/gatehouse/gatehouse/internal/store"
)

// writesPerTx bounds a seeding transaction: large enough that the
// per-commit cost (fsync, change-log row) is amortized, small enough that
// one transaction's change-log document stays a few MB.
const writesPerTx = 5000

// seed writes a generated data set into a bootstrapped store through the
// store's own write methods, so the rows, change log and revisions are the
// ones the server would have written. The built-in roles, groups and
// folder type are already there from service.Bootstrap and are skipped.
func seed(ctx context.Context, st store.Store, d *enginegen.Data) error {
	s := d.Snapshot
	type table struct {
		name string
		n    int
		put  func(ctx context.Context, tx store.Tx, i int) error
	}
	var groups []*domain.Group
	for i := range s.Groups {
		if s.Groups[i].Builtin == domain.BuiltinNone {
			groups = append(groups, &s.Groups[i])
		}
	}
	var types []*domain.FolderType
	for i := range s.FolderTypes {
		if s.FolderTypes[i].ID != domain.FolderTypeFolderID {
			types = append(types, &s.FolderTypes[i])
		}
	}
	// In dependency order: a row's references exist before it is written;
	// folders are generated level by level, so parents come first.
	tables := []table{
		{"folder types", len(types), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateFolderType(ctx, types[i]) }},
		{"projects", len(s.Projects), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateProject(ctx, &s.Projects[i]) }},
		{"groups", len(groups), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateGroup(ctx, groups[i]) }},
		{"users", len(s.Users), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateUser(ctx, &s.Users[i]) }},
		{"memberships", len(s.Memberships), func(ctx context.Context, tx store.Tx, i int) error {
			return tx.PutMembership(ctx, &s.Memberships[i])
		}},
		{"project grants", len(s.ProjectGrants), func(ctx context.Context, tx store.Tx, i int) error {
			return tx.PutProjectGrant(ctx, &s.ProjectGrants[i])
		}},
		{"domain grants", len(s.DomainGrants), func(ctx context.Context, tx store.Tx, i int) error {
			return tx.PutDomainGrant(ctx, &s.DomainGrants[i])
		}},
		{"folders", len(s.Folders), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateFolder(ctx, &s.Folders[i]) }},
		{"folder levels", len(s.FolderLevels), func(ctx context.Context, tx store.Tx, i int) error {
			return tx.PutFolderLevel(ctx, &s.FolderLevels[i])
		}},
		{"rules", len(s.Rules), func(ctx context.Context, tx store.Tx, i int) error { return tx.CreateRule(ctx, &s.Rules[i]) }},
	}
	for _, tb := range tables {
		for first := 0; first < tb.n; first += writesPerTx {
			last := min(first+writesPerTx, tb.n)
			_, err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				for i := first; i < last; i++ {
					if err := tb.put(ctx, tx, i); err != nil {
						return fmt.Errorf("%s #%d: %w", tb.name, i, err)
					}
				}
				// Every transaction that writes needs an audit record
				// (R29); one per batch says what the batch was.
				return tx.Audit(ctx, &domain.AuditEvent{ActorName: "httpbench", Action: "bench.seed", TargetKind: "system",
					Outcome: domain.OutcomeSuccess, At: time.Now(), Detail: fmt.Sprintf("%s %d-%d", tb.name, first, last-1)})
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
