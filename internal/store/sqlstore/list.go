package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// listSpec describes one keyset-paginated list. The order is (sort
// column, id column), which is total, so a cursor holding the last row's
// pair resumes exactly after it whatever was inserted or deleted since.
type listSpec struct {
	op     string
	cols   string            // selected columns, scanned by the caller
	from   string            // table or join
	idCol  string            // the tie-breaker column
	sorts  map[string]string // ListQuery.Sort -> column; "" is the default
	ints   map[string]bool   // sorts whose column is an integer
	search []string          // *_key columns searched with LIKE
	where  []string          // fixed conditions, with ? placeholders
	args   []any             // their arguments
}

type cursor struct {
	S string `json:"s,omitempty"`
	N int64  `json:"n,omitempty"`
	I string `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && c.I == "" {
		err = fmt.Errorf("no id")
	}
	return c, err
}

// likePattern makes a case-insensitive substring pattern of a search
// string, escaping LIKE's wildcards so they match themselves.
func likePattern(s string) string {
	s = domain.NameKey(s)
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// list runs spec with q. scan reads one row's columns plus, as its last
// destination, the sort value, and appends the item; it returns the row's
// id for the cursor.
func (r reader) list(ctx context.Context, spec listSpec, q store.ListQuery, scan func(rows *sql.Rows, sortDest any) (string, error)) (string, error) {
	search := spec.search
	if q.AccountOnly && len(search) > 1 {
		// The account column comes first; the others are personal (R18).
		search = search[:1]
		if q.Sort == "display_name" || q.Sort == "email" {
			return "", domain.Errorf(spec.op, domain.KindInvalid, "cannot sort by %q: it is personal information you may not see (R18)", q.Sort)
		}
	}
	col, ok := spec.sorts[q.Sort]
	if !ok {
		names := make([]string, 0, len(spec.sorts))
		for k := range spec.sorts {
			if k != "" {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		return "", domain.Errorf(spec.op, domain.KindInvalid, "cannot sort by %q; sort by one of: %s", q.Sort, strings.Join(names, ", "))
	}
	isInt := spec.ints[q.Sort]
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)

	where := append([]string(nil), spec.where...)
	args := append([]any(nil), spec.args...)
	if s := strings.TrimSpace(q.Search); s != "" {
		p := likePattern(s)
		ors := make([]string, len(search))
		for i, c := range search {
			ors[i] = c + ` LIKE ? ESCAPE '\'`
			args = append(args, p)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	cmp, dir := ">", ""
	if q.Desc {
		cmp, dir = "<", " DESC"
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return "", domain.Errorf(spec.op, domain.KindInvalid, "the cursor is not one this list returned: %v", err)
		}
		where = append(where, fmt.Sprintf("(%s, %s) %s (?, ?)", col, spec.idCol, cmp))
		if isInt {
			args = append(args, c.N, c.I)
		} else {
			args = append(args, c.S, c.I)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s, %s FROM %s", spec.cols, col, spec.from)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	fmt.Fprintf(&b, " ORDER BY %s%s, %s%s LIMIT ?", col, dir, spec.idCol, dir)
	args = append(args, limit+1)

	rows, err := r.c.query(ctx, b.String(), args...)
	if err != nil {
		return "", r.c.db.mapErr(spec.op, err, domain.KindInvalid)
	}
	defer rows.Close()
	var last cursor
	n := 0
	more := false
	for rows.Next() {
		if n == limit {
			more = true
			break
		}
		var sv cursor
		var dest any = &sv.S
		if isInt {
			dest = &sv.N
		}
		id, err := scan(rows, dest)
		if err != nil {
			return "", r.c.db.mapErr(spec.op, err, domain.KindInvalid)
		}
		sv.I = id
		last = sv
		n++
	}
	if err := rows.Err(); err != nil {
		return "", r.c.db.mapErr(spec.op, err, domain.KindInvalid)
	}
	if !more {
		return "", nil
	}
	return encodeCursor(last), nil
}

var (
	nameSorts = map[string]string{"": "name_key", "name": "name_key", "created_at": "created_at"}
	nameInts  = map[string]bool{"created_at": true}
	userSorts = map[string]string{"": "username_key", "username": "username_key", "display_name": "display_name_key", "email": "email_key", "created_at": "created_at"}
	// memberSorts qualify the user columns, joined to memberships.
	memberSorts = map[string]string{"": "u.username_key", "username": "u.username_key", "display_name": "u.display_name_key", "email": "u.email_key", "created_at": "u.created_at"}
)
