package sqlstore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The dump format (docs/backup.md) is gzipped JSON lines:
//
//	{"format":"gatehouse-dump","format_version":1,...}      the header (store.DumpHeader)
//	{"table":"roles","columns":[{"name":"id","kind":"text"},...],"rows":8}
//	["00000000-...","IT Administrator",...]                 one line per row
//	...                                                     further tables
//	{"end":true,"sha256":"..."}                             the trailer
//
// The checksum is the SHA-256 of every byte before the trailer line, so a
// truncated or edited file is refused before anything is written. Values
// are normalized by column kind, which both backends' catalogues name:
// integers as JSON numbers, booleans as true/false (SQLite keeps 0/1),
// text and JSON as strings, times as RFC 3339 strings, bytes as base64.
const (
	dumpFormat        = "gatehouse-dump"
	dumpFormatVersion = 1
)

// dumpSkip are the tables a dump leaves out. Sessions are short-lived
// sign-ins whose holders simply sign in again (and a copied session
// secret hash is worth nothing to keep); the migration bookkeeping is the
// target's own, the header carries the schema version instead.
var dumpSkip = map[string]bool{"goose_db_version": true, "sessions": true}

// dumpOrder is the order tables are written and restored in, referenced
// tables first. A table a later migration adds and this list lacks comes
// after these, in name order (add it here if it references another new
// table). gh_revision, which every migrated database already holds, is
// replaced last.
var dumpOrder = []string{"roles", "users", "projects", "groups", "memberships", "group_memberships", "project_grants",
	"domain_grants", "folder_types", "folders", "folder_levels", "rules", "settings", "changes",
	"audit", "api_tokens", "webhooks", "webhook_deliveries", "gh_revision"}

// seeded are the tables a migration fills with their one row (the
// revision counter, the audit chain head): Restore replaces those rows
// instead of requiring the tables to be empty.
var seeded = map[string]bool{"gh_revision": true, "audit_chain": true}

// maxBatchBytes bounds the dump text behind one multi-row INSERT.
const maxBatchBytes = 8 << 20

// selfRef names the tables whose rows reference rows of the same table
// (child column, parent column): Restore inserts parents first.
var selfRef = map[string][2]string{"folders": {"parent_id", "id"}}

type dumpColumn struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // int, bool, float, text, json, time, bytes
}

type dumpTable struct {
	Table   string       `json:"table"`
	Columns []dumpColumn `json:"columns"`
	Rows    int64        `json:"rows"`
}

type dumpTrailer struct {
	End    bool   `json:"end"`
	SHA256 string `json:"sha256"`
}

// columnKind maps a declared column type (SQLite's declared type or
// PostgreSQL's data_type) to the kind a dump normalizes it to.
func columnKind(decl string) string {
	d := strings.ToLower(decl)
	switch {
	case strings.Contains(d, "bool"):
		return "bool"
	case strings.Contains(d, "int") || d == "serial" || d == "bigserial":
		return "int"
	case strings.Contains(d, "json"):
		return "json"
	case strings.Contains(d, "timestamp") || d == "date":
		return "time"
	case strings.Contains(d, "bytea") || strings.Contains(d, "blob"):
		return "bytes"
	case strings.Contains(d, "real") || strings.Contains(d, "double") || strings.Contains(d, "float") ||
		strings.Contains(d, "numeric") || strings.Contains(d, "decimal"):
		return "float"
	}
	return "text"
}

// querier is what the catalogue readers need: a transaction of either pool.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (db *DB) postgres() bool { return db.d.Numbered }

// tables lists the schema's tables in dump order (see dumpOrder).
func (db *DB) tables(ctx context.Context, q querier) ([]string, error) {
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.postgres() {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !dumpSkip[n] {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rank := func(n string) int {
		if i := slices.Index(dumpOrder, n); i >= 0 && n != "gh_revision" {
			return i
		}
		if n == "gh_revision" {
			return len(dumpOrder) + 1
		}
		return len(dumpOrder)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return names, nil
}

// columns lists a table's columns in their declared order.
func (db *DB) columns(ctx context.Context, q querier, table string) ([]dumpColumn, error) {
	query := `SELECT name, type FROM pragma_table_info(?) ORDER BY cid`
	if db.postgres() {
		query = `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []dumpColumn
	for rows.Next() {
		var name, decl string
		if err := rows.Scan(&name, &decl); err != nil {
			return nil, err
		}
		cols = append(cols, dumpColumn{Name: name, Kind: columnKind(decl)})
	}
	return cols, rows.Err()
}

// schemaVersion is the highest migration applied to the database.
func schemaVersion(ctx context.Context, q querier) (int64, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v.Int64, err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Dump writes the database to w in one consistent read transaction.
func (db *DB) Dump(ctx context.Context, w io.Writer) (store.DumpHeader, error) {
	const op = "store.Dump"
	// LoadSnapshot's options: a repeatable-read, read-only transaction on
	// PostgreSQL; on SQLite a read transaction in WAL mode sees one
	// snapshot from its first read to its end, whatever writers commit.
	sqlTx, err := db.r.BeginTx(ctx, db.d.SnapshotTx)
	if err != nil {
		return store.DumpHeader{}, db.mapErr(op, err, domain.KindInvalid)
	}
	defer func() { _ = sqlTx.Rollback() }()

	h := store.DumpHeader{Format: dumpFormat, FormatVersion: dumpFormatVersion, Backend: db.d.Name,
		CreatedAt: db.clock(), Tables: map[string]int64{}}
	if err := sqlTx.QueryRowContext(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&h.Revision); err != nil {
		return h, db.mapErr(op, err, domain.KindInvalid)
	}
	if h.SchemaVersion, err = schemaVersion(ctx, sqlTx); err != nil {
		return h, db.mapErr(op, fmt.Errorf("reading the schema version: %w", err), domain.KindInvalid)
	}
	names, err := db.tables(ctx, sqlTx)
	if err != nil {
		return h, db.mapErr(op, fmt.Errorf("listing tables: %w", err), domain.KindInvalid)
	}
	sections := make([]dumpTable, 0, len(names))
	for _, n := range names {
		cols, err := db.columns(ctx, sqlTx, n)
		if err != nil {
			return h, db.mapErr(op, fmt.Errorf("listing the columns of %s: %w", n, err), domain.KindInvalid)
		}
		var count int64
		if err := sqlTx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(n)).Scan(&count); err != nil {
			return h, db.mapErr(op, fmt.Errorf("counting %s: %w", n, err), domain.KindInvalid)
		}
		h.Tables[n] = count
		sections = append(sections, dumpTable{Table: n, Columns: cols, Rows: count})
	}

	gz := gzip.NewWriter(w)
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(gz, sum), 64<<10)
	line := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = bw.Write(b)
		return err
	}
	if err := line(h); err != nil {
		return h, domain.E(op, err)
	}
	for _, sec := range sections {
		if err := line(sec); err != nil {
			return h, domain.E(op, err)
		}
		if err := db.dumpRows(ctx, sqlTx, sec, line); err != nil {
			return h, db.mapErr(op, err, domain.KindInvalid)
		}
	}
	if err := bw.Flush(); err != nil {
		return h, domain.E(op, domain.KindUnavailable, err)
	}
	tr, _ := json.Marshal(dumpTrailer{End: true, SHA256: hex.EncodeToString(sum.Sum(nil))})
	if _, err := gz.Write(append(tr, '\n')); err != nil {
		return h, domain.E(op, domain.KindUnavailable, err)
	}
	if err := gz.Close(); err != nil {
		return h, domain.E(op, domain.KindUnavailable, err)
	}
	return h, nil
}

// dumpRows writes a table's rows, ordered by every column so that two
// dumps of the same data are the same bytes (ids and keys first in every
// table), and checks the count matches the one in the header.
func (db *DB) dumpRows(ctx context.Context, q querier, sec dumpTable, line func(any) error) error {
	names := make([]string, len(sec.Columns))
	order := make([]string, len(sec.Columns))
	for i, c := range sec.Columns {
		names[i] = quoteIdent(c.Name)
		order[i] = strconv.Itoa(i + 1)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+quoteIdent(sec.Table)+` ORDER BY `+strings.Join(order, ", "))
	if err != nil {
		return fmt.Errorf("reading %s: %w", sec.Table, err)
	}
	defer rows.Close()
	vals := make([]any, len(sec.Columns))
	ptrs := make([]any, len(sec.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]any, len(sec.Columns))
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s: %w", sec.Table, err)
		}
		for i, c := range sec.Columns {
			v, err := dumpValue(c.Kind, vals[i])
			if err != nil {
				return fmt.Errorf("%s.%s: %w", sec.Table, c.Name, err)
			}
			out[i] = v
		}
		if err := line(out); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", sec.Table, err)
	}
	if n != sec.Rows {
		return fmt.Errorf("%s: read %d rows, counted %d in the same transaction", sec.Table, n, sec.Rows)
	}
	return nil
}

// dumpValue normalizes a value read from either driver to its kind's
// portable JSON form.
func dumpValue(kind string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok && kind != "bytes" {
		v = string(b)
	}
	switch kind {
	case "int":
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int:
			return int64(x), nil
		case bool:
			return boolInt(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			return strconv.ParseBool(x)
		}
	case "float":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case "time":
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		case string:
			return x, nil
		}
	case "bytes":
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(x)), nil
		}
	default: // text, json
		switch x := v.(type) {
		case string:
			return x, nil
		case int64, float64, bool:
			return fmt.Sprint(x), nil
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		default:
			// A driver that decodes JSON columns itself.
			b, err := json.Marshal(x)
			return string(b), err
		}
	}
	return nil, fmt.Errorf("a %T cannot be a %s value", v, kind)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// restoreValue converts a dumped value to what the target column, of kind
// kind, takes as a query argument.
func restoreValue(kind string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case "int":
		switch x := v.(type) {
		case json.Number:
			return x.Int64()
		case bool:
			return boolInt(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case json.Number:
			n, err := x.Int64()
			return n != 0, err
		case string:
			return strconv.ParseBool(x)
		}
	case "float":
		switch x := v.(type) {
		case json.Number:
			return x.Float64()
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case "time":
		switch x := v.(type) {
		case string:
			return time.Parse(time.RFC3339Nano, x)
		case json.Number:
			n, err := x.Int64()
			return time.UnixMicro(n).UTC(), err
		}
	case "bytes":
		if x, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(x)
		}
	default: // text, json
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	}
	return nil, fmt.Errorf("a JSON %T cannot be stored in a %s column", v, kind)
}

// dumpReader reads the lines of a dump.
type dumpReader struct {
	r    *bufio.Reader
	line int
}

// next returns the next line without its newline, io.EOF at the end.
func (d *dumpReader) next() ([]byte, error) {
	b, err := d.r.ReadBytes('\n')
	if err == io.EOF && len(b) > 0 {
		return nil, fmt.Errorf("line %d is cut short (no newline): the file is truncated", d.line+1)
	}
	if err != nil {
		return nil, err
	}
	d.line++
	return b[:len(b)-1], nil
}

func invalidDump(format string, args ...any) error {
	return domain.Errorf("store.Restore", domain.KindInvalid, "not a usable Gatehouse dump: "+format, args...)
}

// Restore loads a dump into this empty database (see store.Store).
func (db *DB) Restore(ctx context.Context, r io.Reader) (store.DumpHeader, error) {
	const op = "store.Restore"
	// First pass: decompress into a temporary file while checking the
	// checksum and the structure, so that a damaged file is refused before
	// the database is touched, whatever its size.
	spool, err := os.CreateTemp("", "gatehouse-restore-*.jsonl")
	if err != nil {
		return store.DumpHeader{}, domain.E(op, domain.KindUnavailable, fmt.Errorf("a temporary file for the dump: %w", err))
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	h, sections, err := verifyDump(r, spool)
	if err != nil {
		return h, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return h, domain.E(op, domain.KindUnavailable, err)
	}

	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return h, db.mapErr(op, err, domain.KindInvalid)
	}
	defer func() { _ = sqlTx.Rollback() }()
	if l := db.d.LockSQL; l != "" {
		if _, err := sqlTx.ExecContext(ctx, l); err != nil {
			return h, db.mapErr(op, err, domain.KindInvalid)
		}
	}
	targetCols, err := db.checkTarget(ctx, sqlTx, h, sections)
	if err != nil {
		return h, err
	}

	d := &dumpReader{r: bufio.NewReaderSize(spool, 64<<10)}
	if _, err := d.next(); err != nil { // the header, already checked
		return h, domain.E(op, err)
	}
	for _, sec := range sections {
		if _, err := d.next(); err != nil {
			return h, domain.E(op, err)
		}
		if err := db.restoreTable(ctx, sqlTx, d, sec, targetCols[sec.Table]); err != nil {
			return h, err
		}
	}
	if n := db.d.NotifySQL; n != "" {
		// Wake any replica already following this database.
		if _, err := sqlTx.ExecContext(ctx, db.bind.bind(n), h.Revision); err != nil {
			return h, db.mapErr(op, err, domain.KindInvalid)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return h, db.mapErr(op, err, domain.KindConflict)
	}
	return h, nil
}

// verifyDump copies the decompressed dump to spool and checks its header,
// its sections and row counts, and its checksum.
func verifyDump(r io.Reader, spool io.Writer) (store.DumpHeader, []dumpTable, error) {
	var h store.DumpHeader
	gz, err := gzip.NewReader(r)
	if err != nil {
		return h, nil, invalidDump("not gzip data (%v)", err)
	}
	defer gz.Close()
	sum := sha256.New()
	d := &dumpReader{r: bufio.NewReaderSize(gz, 64<<10)}
	out := bufio.NewWriterSize(spool, 64<<10)
	keep := func(b []byte) error {
		sum.Write(b)
		sum.Write([]byte{'\n'})
		if _, err := out.Write(b); err != nil {
			return domain.E("store.Restore", domain.KindUnavailable, err)
		}
		return out.WriteByte('\n')
	}
	first, err := d.next()
	if err != nil {
		return h, nil, invalidDump("no header (%v)", err)
	}
	if err := json.Unmarshal(first, &h); err != nil || h.Format != dumpFormat {
		return h, nil, invalidDump("the first line is not a %s header", dumpFormat)
	}
	if h.FormatVersion < 1 || h.FormatVersion > dumpFormatVersion {
		return h, nil, invalidDump("format version %d; this binary reads version %d", h.FormatVersion, dumpFormatVersion)
	}
	if err := keep(first); err != nil {
		return h, nil, err
	}
	var sections []dumpTable
	var cur *dumpTable
	var rows int64
	closeSection := func() error {
		if cur != nil && rows != cur.Rows {
			return invalidDump("table %s has %d rows, its section says %d", cur.Table, rows, cur.Rows)
		}
		return nil
	}
	for {
		b, err := d.next()
		if err == io.EOF {
			return h, nil, invalidDump("no trailer: the file is truncated")
		}
		if err != nil {
			return h, nil, invalidDump("%v", err)
		}
		switch {
		case bytes.HasPrefix(b, []byte(`[`)):
			if cur == nil {
				return h, nil, invalidDump("line %d: a row before any table", d.line)
			}
			rows++
		case bytes.HasPrefix(b, []byte(`{"table"`)):
			if err := closeSection(); err != nil {
				return h, nil, err
			}
			var sec dumpTable
			if err := json.Unmarshal(b, &sec); err != nil || sec.Table == "" || len(sec.Columns) == 0 {
				return h, nil, invalidDump("line %d: a malformed table section", d.line)
			}
			if n, ok := h.Tables[sec.Table]; !ok || n != sec.Rows {
				return h, nil, invalidDump("table %s: %d rows in its section, %d in the header", sec.Table, sec.Rows, n)
			}
			sections = append(sections, sec)
			cur, rows = &sections[len(sections)-1], 0
		case bytes.HasPrefix(b, []byte(`{"end"`)):
			if err := closeSection(); err != nil {
				return h, nil, err
			}
			var tr dumpTrailer
			if err := json.Unmarshal(b, &tr); err != nil || !tr.End {
				return h, nil, invalidDump("line %d: a malformed trailer", d.line)
			}
			if got := hex.EncodeToString(sum.Sum(nil)); got != tr.SHA256 {
				return h, nil, invalidDump("checksum mismatch (the file was changed or damaged): computed %s, the file says %s", got, tr.SHA256)
			}
			if _, err := d.next(); err != io.EOF {
				return h, nil, invalidDump("data after the trailer")
			}
			if len(sections) != len(h.Tables) {
				return h, nil, invalidDump("the header lists %d tables, the file holds %d", len(h.Tables), len(sections))
			}
			if err := out.Flush(); err != nil {
				return h, nil, domain.E("store.Restore", domain.KindUnavailable, err)
			}
			return h, sections, nil
		default:
			return h, nil, invalidDump("line %d is neither a row, a table nor the trailer", d.line)
		}
		if err := keep(b); err != nil {
			return h, nil, err
		}
	}
}

// checkTarget refuses a target that cannot take the dump: a schema older
// than the dump's, a table or column it lacks, or data already there. It
// returns each table's column kinds in the target.
func (db *DB) checkTarget(ctx context.Context, tx *sql.Tx, h store.DumpHeader, sections []dumpTable) (map[string]map[string]string, error) {
	const op = "store.Restore"
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return nil, db.mapErr(op, fmt.Errorf("the database is not migrated (run gatehouse migrate): %w", err), domain.KindInvalid)
	}
	if h.SchemaVersion > v {
		return nil, domain.Errorf(op, domain.KindInvalid,
			"the dump is of schema version %d, this database is at version %d: restore it with the gatehouse version that wrote it, or a newer one", h.SchemaVersion, v)
	}
	var rev int64
	if err := tx.QueryRowContext(ctx, `SELECT revision FROM gh_revision WHERE id = 1`).Scan(&rev); err != nil {
		return nil, db.mapErr(op, err, domain.KindInvalid)
	}
	if rev != 0 {
		return nil, domain.Errorf(op, domain.KindConflict, "the database is not empty (revision %d): restore into a new, empty database", rev)
	}
	kinds := map[string]map[string]string{}
	for _, sec := range sections {
		cols, err := db.columns(ctx, tx, sec.Table)
		if err != nil {
			return nil, db.mapErr(op, err, domain.KindInvalid)
		}
		if len(cols) == 0 {
			return nil, domain.Errorf(op, domain.KindInvalid, "the dump has a table %s this database lacks", sec.Table)
		}
		k := map[string]string{}
		for _, c := range cols {
			k[c.Name] = c.Kind
		}
		for _, c := range sec.Columns {
			if _, ok := k[c.Name]; !ok {
				return nil, domain.Errorf(op, domain.KindInvalid, "the dump has a column %s.%s this database lacks", sec.Table, c.Name)
			}
		}
		kinds[sec.Table] = k
		if seeded[sec.Table] {
			continue
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM `+quoteIdent(sec.Table)+` LIMIT 1`).Scan(&one)
		if err == nil {
			return nil, domain.Errorf(op, domain.KindConflict, "the database is not empty (table %s has rows): restore into a new, empty database", sec.Table)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, db.mapErr(op, err, domain.KindInvalid)
		}
	}
	return kinds, nil
}

// restoreTable inserts one section's rows, in batches of several rows per
// statement to save round trips.
func (db *DB) restoreTable(ctx context.Context, tx *sql.Tx, d *dumpReader, sec dumpTable, kinds map[string]string) error {
	const op = "store.Restore"
	if seeded[sec.Table] {
		// Every migrated database holds this row already.
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(sec.Table)); err != nil {
			return db.mapErr(op, err, domain.KindInvalid)
		}
	}
	names := make([]string, len(sec.Columns))
	for i, c := range sec.Columns {
		names[i] = quoteIdent(c.Name)
	}
	per := max(1, min(5000, 30000/len(sec.Columns)))
	stmt := func(n int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(sec.Columns)), ", ") + ")"
		return db.bind.bind(`INSERT INTO ` + quoteIdent(sec.Table) + ` (` + strings.Join(names, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(one+", ", n), ", "))
	}
	var batch [][]any
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		args := make([]any, 0, len(batch)*len(sec.Columns))
		for _, row := range batch {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, stmt(len(batch)), args...); err != nil {
			return db.mapErr(op, fmt.Errorf("writing %s: %w", sec.Table, err), domain.KindInvalid)
		}
		batch, batchBytes = batch[:0], 0
		return nil
	}
	var rows [][]any
	for range sec.Rows {
		b, err := d.next()
		if err != nil {
			return domain.E(op, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var raw []any
		if err := dec.Decode(&raw); err != nil || len(raw) != len(sec.Columns) {
			return invalidDump("line %d: a row of %s that does not match its columns", d.line, sec.Table)
		}
		for i, c := range sec.Columns {
			v, err := restoreValue(kinds[c.Name], raw[i])
			if err != nil {
				return invalidDump("line %d: %s.%s: %v", d.line, sec.Table, c.Name, err)
			}
			raw[i] = v
		}
		if _, ok := selfRef[sec.Table]; ok {
			rows = append(rows, raw) // ordered and written below
			continue
		}
		batch = append(batch, raw)
		// Bounded by bytes too: change-log rows of large transactions
		// are megabytes each.
		if batchBytes += len(b); len(batch) == per || batchBytes >= maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if ref, ok := selfRef[sec.Table]; ok {
		ordered, err := parentsFirst(rows, slices.Index(columnNames(sec), ref[0]), slices.Index(columnNames(sec), ref[1]))
		if err != nil {
			return invalidDump("table %s: %v", sec.Table, err)
		}
		for _, row := range ordered {
			batch = append(batch, row)
			if len(batch) == per {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func columnNames(sec dumpTable) []string {
	out := make([]string, len(sec.Columns))
	for i, c := range sec.Columns {
		out[i] = c.Name
	}
	return out
}

// parentsFirst orders rows so that each row's parent (the row whose key
// column equals its child column) comes before it.
func parentsFirst(rows [][]any, child, key int) ([][]any, error) {
	if child < 0 || key < 0 {
		return rows, nil
	}
	kids := map[any][]int{}
	var out [][]any
	var queue []int
	for i, r := range rows {
		if r[child] == nil {
			queue = append(queue, i)
		} else {
			kids[r[child]] = append(kids[r[child]], i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		out = append(out, rows[i])
		queue = append(queue, kids[rows[i][key]]...)
	}
	if len(out) != len(rows) {
		return nil, fmt.Errorf("%d rows reference a parent that is not in the dump", len(rows)-len(out))
	}
	return out, nil
}
