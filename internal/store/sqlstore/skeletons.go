package sqlstore

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/identifier"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Look-alike names (migration 00005, docs/security.md): usernames and
// group, role and project names carry their TR39 skeleton
// (identifier.Skeleton) in a *_skel column with a unique index per scope,
// so the database refuses a name that looks like a taken one atomically,
// whichever replica writes it; the clash is KindExists like a taken name.

// keepSkel is the SET expression of an update's skeleton column, taking
// two arguments, the new name and its skeleton. A row left without a
// skeleton by fillSkeletons (a look-alike that predates the index) keeps
// none while its name stays as it is, so it can still be edited or
// disabled; renaming it gives it the new name's skeleton. In an UPDATE the
// right-hand columns are the row's old values, in both databases.
func keepSkel(col string) string {
	return `CASE WHEN ` + col + `_skel IS NULL AND ` + col + ` = ? THEN NULL ELSE CAST(? AS TEXT) END`
}

// skelTables are the tables with a skeleton: the name column, and the
// expression of the scope the name is unique in.
var skelTables = []struct{ table, col, scope string }{
	{"users", "username", `''`},
	{"projects", "name", `''`},
	{"roles", "name", `scope`},
	{"groups", "name", `scope || ':' || coalesce(project_id, '')`},
}

// lookalike is a row fillSkeletons left without a skeleton.
type lookalike struct{ table, id, name, like string }

// fillSkeletons gives the rows written before migration 00005 their
// skeletons, oldest first, in one write transaction (so no writer on any
// replica interleaves). A row whose skeleton an older row of its scope
// already has is left NULL and logged: two such names were accepted before
// look-alikes were refused, and an administrator should rename one.
// Migrate calls it; it only counts once every row has its skeleton, and
// logs the remaining look-alikes again at every start until they are
// renamed.
func (db *DB) fillSkeletons(ctx context.Context) error {
	var missing int64
	q := `SELECT (SELECT count(*) FROM users WHERE username_skel IS NULL) + (SELECT count(*) FROM projects WHERE name_skel IS NULL) +
(SELECT count(*) FROM roles WHERE name_skel IS NULL) + (SELECT count(*) FROM groups WHERE name_skel IS NULL)`
	if err := db.w.QueryRowContext(ctx, q).Scan(&missing); err != nil {
		return db.mapErr("store.Migrate", err, domain.KindInvalid)
	}
	if missing == 0 {
		return nil
	}
	var found []lookalike
	_, err := db.InTx(ctx, func(ctx context.Context, stx store.Tx) error {
		found = nil
		for _, t := range skelTables {
			l, err := fillTable(ctx, stx.(*tx).c, t.table, t.col, t.scope)
			if err != nil {
				return db.mapErr("store.Migrate", err, domain.KindInvalid)
			}
			found = append(found, l...)
		}
		return nil
	})
	for _, l := range found {
		slog.Default().Warn("look-alike name: it looks like an older one of the same scope (TR39 skeleton), so it is not protected against further look-alikes; rename it",
			"table", l.table, "id", l.id, "name", l.name, "looks_like", l.like)
	}
	return err
}

type skelRow struct{ id, name, scope, skel string }

// fillTable fills one table's missing skeletons; see fillSkeletons.
func fillTable(ctx context.Context, c *conn, table, col, scope string) ([]lookalike, error) {
	rows, err := c.query(ctx, `SELECT id, `+col+`, `+scope+`, coalesce(`+col+`_skel, '') FROM `+table+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	var all []skelRow
	for rows.Next() {
		var r skelRow
		if err := rows.Scan(&r.id, &r.name, &r.scope, &r.skel); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	owner := map[[2]string]string{} // scope, skeleton -> name holding it
	for _, r := range all {
		if r.skel != "" {
			owner[[2]string{r.scope, r.skel}] = r.name
		}
	}
	var found []lookalike
	for _, r := range all {
		if r.skel != "" {
			continue
		}
		k := [2]string{r.scope, identifier.Skeleton(r.name)}
		if like, taken := owner[k]; taken {
			found = append(found, lookalike{table, r.id, r.name, like})
			continue
		}
		owner[k] = r.name
		if _, err := c.exec(ctx, `UPDATE `+table+` SET `+col+`_skel = ? WHERE id = ?`, k[1], r.id); err != nil {
			return nil, err
		}
	}
	return found, nil
}
