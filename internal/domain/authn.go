package domain

import "time"

// Session is a signed-in browser's login (internal/authn). The secret the
// browser holds in its cookie is never stored: only TokenHash, the hex
// SHA-256 of it, so a copy of the database does not let anyone sign in.
// Sessions are not engine data: they never enter the change log or a
// snapshot.
type Session struct {
	ID         string     `json:"id"`
	TokenHash  string     `json:"-"` // hex SHA-256 of the cookie's secret
	UserID     string     `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`   // the absolute end, whatever the activity
	LastSeenAt time.Time  `json:"last_seen_at"` // for the idle timeout; updated at most about once a minute
	RemoteAddr string     `json:"remote_addr,omitempty"`
	UserAgent  string     `json:"user_agent,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"` // set by logout or a revocation of all the user's sessions
}

// APIToken lets a program act as a user over the API (internal/authn). As
// for sessions, only the hex SHA-256 of the secret is stored; the secret is
// shown once, when the token is created.
type APIToken struct {
	ID        string `json:"id"`
	TokenHash string `json:"-"` // hex SHA-256 of the secret
	UserID    string `json:"user_id"`
	Name      string `json:"name"` // what the token is for, chosen by its owner
	// Permissions, when not empty, limits the token to these system
	// permission keys (for example scim.provision): a request made with the
	// token holds the intersection of the user's permissions and this list.
	// Empty means everything the user holds.
	Permissions []string   `json:"permissions,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"` // nil: no expiry
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Limited reports whether the token is limited to a list of permissions.
func (t *APIToken) Limited() bool { return len(t.Permissions) > 0 }
