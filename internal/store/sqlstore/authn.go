package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Sessions and API tokens: written by internal/authn, never part of the
// change log (see "Sessions and API tokens" in the store package doc).

const sessionCols = `id, token_hash, user_id, created_at, expires_at, last_seen_at, remote_addr, user_agent, revoked_at`

func scanSession(sc scanner, s *domain.Session) error {
	var created, expires, seen int64
	var revoked sql.NullInt64
	if err := sc.Scan(&s.ID, &s.TokenHash, &s.UserID, &created, &expires, &seen, &s.RemoteAddr, &s.UserAgent, &revoked); err != nil {
		return err
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeenAt = fromMicros(created), fromMicros(expires), fromMicros(seen)
	s.RevokedAt = optMicros(revoked)
	return nil
}

const apiTokenCols = `id, token_hash, user_id, name, permissions, created_at, expires_at, last_used_at, revoked_at`

func scanAPIToken(sc scanner, t *domain.APIToken) error {
	var created int64
	var expires, used, revoked sql.NullInt64
	var perms []byte
	if err := sc.Scan(&t.ID, &t.TokenHash, &t.UserID, &t.Name, &perms, &created, &expires, &used, &revoked); err != nil {
		return err
	}
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = optMicros(expires), optMicros(used), optMicros(revoked)
	t.Permissions = nil
	return unmarshal(perms, &t.Permissions)
}

func optMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// storeTime is how the store keeps a caller's time: UTC, microseconds.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (r reader) GetSessionByHash(ctx context.Context, tokenHash string) (s domain.Session, err error) {
	// The hash is not in the message: it is as good as the secret for a
	// lookup, so it stays out of logs.
	err = r.getOne(ctx, "store.GetSessionByHash", "session", func(sc scanner) error { return scanSession(sc, &s) },
		`SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, tokenHash)
	return s, err
}

func (r reader) GetAPIToken(ctx context.Context, id string) (t domain.APIToken, err error) {
	err = r.getOne(ctx, "store.GetAPIToken", "API token "+id, func(sc scanner) error { return scanAPIToken(sc, &t) },
		`SELECT `+apiTokenCols+` FROM api_tokens WHERE id = ?`, id)
	return t, err
}

func (r reader) GetAPITokenByHash(ctx context.Context, tokenHash string) (t domain.APIToken, err error) {
	err = r.getOne(ctx, "store.GetAPITokenByHash", "API token", func(sc scanner) error { return scanAPIToken(sc, &t) },
		`SELECT `+apiTokenCols+` FROM api_tokens WHERE token_hash = ?`, tokenHash)
	return t, err
}

func (r reader) ListAPITokens(ctx context.Context, userID string) ([]domain.APIToken, error) {
	var out []domain.APIToken
	err := r.all(ctx, "store.ListAPITokens", func(rows *sql.Rows) error {
		var t domain.APIToken
		if err := scanAPIToken(rows, &t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	}, `SELECT `+apiTokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY created_at, id`, userID)
	return out, err
}

func (t *tx) CreateSession(ctx context.Context, s *domain.Session) error {
	const op = "store.CreateSession"
	if s.ExpiresAt.IsZero() {
		return domain.E(op, domain.KindInvalid, domain.FieldError{Field: "expires_at", Message: "a session must have an end"})
	}
	if s.ID == "" {
		s.ID = domain.NewID()
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t.c.db.clock()
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeenAt = storeTime(s.CreatedAt), storeTime(s.ExpiresAt), storeTime(s.LastSeenAt)
	s.RevokedAt = nil
	_, err := t.c.exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		s.ID, s.TokenHash, s.UserID, s.CreatedAt.UnixMicro(), s.ExpiresAt.UnixMicro(), s.LastSeenAt.UnixMicro(), s.RemoteAddr, s.UserAgent)
	return t.c.db.mapErr(op, err, domain.KindInvalid)
}

func (t *tx) RevokeSession(ctx context.Context, id string) error {
	// COALESCE keeps the first revocation's time: signing out twice is
	// not a second event.
	return t.execOne(ctx, "store.RevokeSession", "session "+id, domain.KindInvalid,
		`UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, t.c.db.clock().UnixMicro(), id)
}

func (t *tx) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	const op = "store.RevokeUserSessions"
	res, err := t.c.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, t.c.db.clock().UnixMicro(), userID)
	if err != nil {
		return 0, t.c.db.mapErr(op, err, domain.KindInvalid)
	}
	n, err := res.RowsAffected()
	return int(n), t.c.db.mapErr(op, err, domain.KindInvalid)
}

func (t *tx) CreateAPIToken(ctx context.Context, k *domain.APIToken) error {
	const op = "store.CreateAPIToken"
	if k.ID == "" {
		k.ID = domain.NewID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = t.c.db.clock()
	}
	k.CreatedAt = storeTime(k.CreatedAt)
	if k.ExpiresAt != nil {
		e := storeTime(*k.ExpiresAt)
		k.ExpiresAt = &e
	}
	k.LastUsedAt, k.RevokedAt = nil, nil
	perms := k.Permissions
	if perms == nil {
		perms = []string{}
	}
	_, err := t.c.exec(ctx, `INSERT INTO api_tokens (`+apiTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
		k.ID, k.TokenHash, k.UserID, k.Name, mustJSON(perms), k.CreatedAt.UnixMicro(), nullTime(k.ExpiresAt))
	return t.c.db.mapErr(op, err, domain.KindInvalid)
}

func (t *tx) RevokeAPIToken(ctx context.Context, id string) error {
	return t.execOne(ctx, "store.RevokeAPIToken", "API token "+id, domain.KindInvalid,
		`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, t.c.db.clock().UnixMicro(), id)
}

// execHousekeeping runs one statement on the write pool in autocommit,
// outside InTx: it neither waits for nor takes the write-transaction lock
// (LockSQL), and it records no mutation and no audit event. Only the
// Touch*, PruneSessions and PruneChanges methods use it (see the store package doc).
// It runs unprepared: these statements run about once a minute per
// session, not per request.
func (db *DB) execHousekeeping(ctx context.Context, op string, q string, args ...any) (int64, error) {
	res, err := db.w.ExecContext(ctx, db.bind.bind(q), args...)
	if err != nil {
		return 0, db.mapErr(op, err, domain.KindInvalid)
	}
	n, err := res.RowsAffected()
	return n, db.mapErr(op, err, domain.KindInvalid)
}

// touch moves a last-used column forward to at, never back.
func (db *DB) touch(ctx context.Context, op, table, col, what, id string, at time.Time) error {
	us := storeTime(at).UnixMicro()
	n, err := db.execHousekeeping(ctx, op,
		`UPDATE `+table+` SET `+col+` = CASE WHEN `+col+` IS NULL OR `+col+` < ? THEN ? ELSE `+col+` END WHERE id = ?`, us, us, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.Errorf(op, domain.KindNotFound, "%s %s not found", what, id)
	}
	return nil
}

// TouchSession records that a session was used at at (housekeeping).
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.touch(ctx, "store.TouchSession", "sessions", "last_seen_at", "session", id, at)
}

// TouchAPIToken records that a token was used at at (housekeeping).
func (db *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	return db.touch(ctx, "store.TouchAPIToken", "api_tokens", "last_used_at", "API token", id, at)
}

// PruneSessions deletes sessions that ended before the instant given.
func (db *DB) PruneSessions(ctx context.Context, before time.Time) (int, error) {
	us := storeTime(before).UnixMicro()
	n, err := db.execHousekeeping(ctx, "store.PruneSessions",
		`DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, us, us)
	return int(n), err
}

// PruneChanges deletes change-log rows committed before the instant
// given, keeping the newest so the log always tells the head revision.
func (db *DB) PruneChanges(ctx context.Context, before time.Time) (int, error) {
	n, err := db.execHousekeeping(ctx, "store.PruneChanges",
		`DELETE FROM changes WHERE at < ? AND revision < (SELECT MAX(revision) FROM changes)`, storeTime(before).UnixMicro())
	return int(n), err
}

// OpenID Connect links (migration 00007): written by the service when a
// sign-in links or creates a user, never part of the change log.

const oidcLinkCols = `issuer, subject, user_id, provider, created_at`

func scanOIDCLink(sc scanner, l *domain.OIDCLink) error {
	var created int64
	if err := sc.Scan(&l.Issuer, &l.Subject, &l.UserID, &l.Provider, &created); err != nil {
		return err
	}
	l.CreatedAt = fromMicros(created)
	return nil
}

func (r reader) GetOIDCLink(ctx context.Context, issuer, subject string) (l domain.OIDCLink, err error) {
	err = r.getOne(ctx, "store.GetOIDCLink", "link to an OpenID Connect subject", func(sc scanner) error { return scanOIDCLink(sc, &l) },
		`SELECT `+oidcLinkCols+` FROM oidc_links WHERE issuer = ? AND subject = ?`, issuer, subject)
	return l, err
}

func (r reader) ListOIDCLinks(ctx context.Context, userID string) ([]domain.OIDCLink, error) {
	var out []domain.OIDCLink
	err := r.all(ctx, "store.ListOIDCLinks", func(rows *sql.Rows) error {
		var l domain.OIDCLink
		err := scanOIDCLink(rows, &l)
		out = append(out, l)
		return err
	}, `SELECT `+oidcLinkCols+` FROM oidc_links WHERE user_id = ? ORDER BY issuer, subject`, userID)
	return out, err
}

func (t *tx) CreateOIDCLink(ctx context.Context, l *domain.OIDCLink) error {
	const op = "store.CreateOIDCLink"
	if l.Issuer == "" || l.Subject == "" || l.UserID == "" {
		return domain.E(op, domain.KindInvalid, domain.FieldError{Field: "subject", Message: "a link needs an issuer, a subject and a user"})
	}
	l.CreatedAt = storeTime(t.c.db.clock())
	_, err := t.c.exec(ctx, `INSERT INTO oidc_links (`+oidcLinkCols+`) VALUES (?, ?, ?, ?, ?)`,
		l.Issuer, l.Subject, l.UserID, l.Provider, l.CreatedAt.UnixMicro())
	return t.c.db.mapErr(op, err, domain.KindInvalid)
}
