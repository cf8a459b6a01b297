package gatehouse

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The administrative operations of the REST API, one typed method each,
// over the bodies of pkg/gatehouse/api. A write answers with the object
// and the revision it committed at (the Body types' Revision), or with
// the revision alone; pass it as AtLeast to a check that must see the
// write. Writes are never retried; reads are, as WithRetries says.

// ListOptions page, search and sort a list.
type ListOptions struct {
	Search string // rows whose name fields contain this, case-insensitively
	Sort   string // a column: name, created_at; users: username, display_name, email
	Desc   bool
	Cursor string // NextCursor of the previous page
	Limit  int    // page size; 0: the server's default (100)
}

func (o ListOptions) values() url.Values {
	v := url.Values{}
	setQuery(v, "search", o.Search)
	setQuery(v, "sort", o.Sort)
	if o.Desc {
		v.Set("order", "desc")
	}
	setQuery(v, "cursor", o.Cursor)
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	return v
}

func setQuery(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// seg escapes one path segment (an id).
func seg(s string) string { return url.PathEscape(s) }

// withQuery is path with the query v, if any.
func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// ETag is the entity tag of an object version, as the server sends it.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch is the If-Match header of a write conditional on version (none
// when version is 0): 412 when the object changed since.
func ifMatch(version int64) http.Header {
	if version <= 0 {
		return nil
	}
	return http.Header{"If-Match": {ETag(version)}}
}

// read sends a GET and decodes the answer as a T.
func read[T any](ctx context.Context, c *Client, path string) (T, error) {
	var out T
	_, err := c.do(ctx, call{method: http.MethodGet, path: path, readOnly: true}, &out)
	return out, err
}

// write sends a write (If-Match when version is not 0) and decodes the
// answer as a T.
func write[T any](ctx context.Context, c *Client, method, path string, body any, version int64) (T, error) {
	var out T
	_, err := c.do(ctx, call{method: method, path: path, body: body, header: ifMatch(version)}, &out)
	return out, err
}

// writeRevision sends a write that answers with a revision only.
func writeRevision(ctx context.Context, c *Client, method, path string, body any, version int64) (int64, error) {
	r, err := write[api.RevisionBody](ctx, c, method, path, body, version)
	return r.Revision, err
}

// nonNil sends an empty list as [] rather than null: for the replacing
// PUTs, "none" is a list, not an absent field.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- sign-in and API tokens ----

// Login signs in with a username and password: the session cookie is
// kept in the client's cookie jar (the client's own, or that of the
// http.Client given with WithHTTPClient) and sent with the next requests;
// a token (WithToken) is sent as well and wins. Every failure is the same
// 401; a throttled sign-in is a 429 whose Error.RetryAfter says how long
// to wait.
func (c *Client) Login(ctx context.Context, username, password string) (api.LoginResponse, error) {
	return write[api.LoginResponse](ctx, c, http.MethodPost, "/login", api.LoginRequest{Username: username, Password: password}, 0)
}

// Logout ends the session on the server and drops its cookie.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/logout"}, nil)
	return err
}

// CreateToken makes an API token; its Secret is shown this once.
func (c *Client) CreateToken(ctx context.Context, r api.TokenRequest) (api.NewToken, error) {
	return write[api.NewToken](ctx, c, http.MethodPost, "/tokens", r, 0)
}

// ListTokens lists a user's tokens (userID "": yours), never their secrets.
func (c *Client) ListTokens(ctx context.Context, userID string) ([]api.APIToken, error) {
	v := url.Values{}
	setQuery(v, "user_id", userID)
	p, err := read[api.Page[api.APIToken]](ctx, c, withQuery("/tokens", v))
	return p.Items, err
}

// RevokeToken revokes an API token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, path: "/tokens/" + seg(id)}, nil)
	return err
}

// ---- users ----

// Me is the signed-in user (401 when anonymous).
func (c *Client) Me(ctx context.Context) (api.UserBody, error) {
	return read[api.UserBody](ctx, c, "/me")
}

// ListUsers lists one page of users.
func (c *Client) ListUsers(ctx context.Context, o ListOptions) (api.Page[api.User], error) {
	return read[api.Page[api.User]](ctx, c, withQuery("/users", o.values()))
}

// GetUser reads a user; its Version is the ETag for conditional writes.
func (c *Client) GetUser(ctx context.Context, id string) (api.UserBody, error) {
	return read[api.UserBody](ctx, c, "/users/"+seg(id))
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, u api.CreateUserRequest) (api.UserBody, error) {
	return write[api.UserBody](ctx, c, http.MethodPost, "/users", u, 0)
}

// UpdateUser edits a user's profile; version, when not 0, makes the write
// conditional (412 when the user changed since).
func (c *Client) UpdateUser(ctx context.Context, id string, u api.UpdateUserRequest, version int64) (api.UserBody, error) {
	return write[api.UserBody](ctx, c, http.MethodPatch, "/users/"+seg(id), u, version)
}

// DeleteUser deletes a user; it returns the revision of the change.
func (c *Client) DeleteUser(ctx context.Context, id string, version int64) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/users/"+seg(id), nil, version)
}

// SetUserStatus disables (api.UserDisabled) or enables a user. A disabled
// user holds no permission and is signed out (R11).
func (c *Client) SetUserStatus(ctx context.Context, id, status string) (api.UserBody, error) {
	return write[api.UserBody](ctx, c, http.MethodPut, "/users/"+seg(id)+"/status", api.UserStatusRequest{Status: status}, 0)
}

// SetPassword sets or resets a user's password (their sessions end). To
// change your own, send your current password too.
func (c *Client) SetPassword(ctx context.Context, id string, r api.PasswordRequest) (int64, error) {
	return writeRevision(ctx, c, http.MethodPut, "/users/"+seg(id)+"/password", r, 0)
}

// SetUserSystemRole sets a user's individual system role ("" for none).
func (c *Client) SetUserSystemRole(ctx context.Context, id, roleID string) (api.UserBody, error) {
	return write[api.UserBody](ctx, c, http.MethodPut, "/users/"+seg(id)+"/system-role", api.UserRoleRequest{RoleID: roleID}, 0)
}

// SetShowPersonalInfo sets a user's personal-information preference (R18).
func (c *Client) SetShowPersonalInfo(ctx context.Context, id string, show bool) (api.UserBody, error) {
	return write[api.UserBody](ctx, c, http.MethodPut, "/users/"+seg(id)+"/preferences", api.PreferencesRequest{ShowPersonalInfo: show}, 0)
}

// SetUserProjectRights sets a user's individual rights on a project.
func (c *Client) SetUserProjectRights(ctx context.Context, userID, projectID string, r api.RightsRequest) (api.GrantBody, error) {
	return write[api.GrantBody](ctx, c, http.MethodPut, "/users/"+seg(userID)+"/projects/"+seg(projectID), r, 0)
}

// RemoveUserFromProject removes a user's individual grant on a project.
func (c *Client) RemoveUserFromProject(ctx context.Context, userID, projectID string) (int64, error) {
	return writeRevision(ctx, c, http.MethodDelete, "/users/"+seg(userID)+"/projects/"+seg(projectID), nil, 0)
}

// ---- audit ----

// AuditQuery filters the audit log (newest first).
type AuditQuery struct {
	ActorID    string
	TargetKind string
	TargetID   string
	Action     string // e.g. group.create
	Since      time.Time
	Until      time.Time
	Cursor     string
	Limit      int
}

// ListAudit lists one page of the audit log, newest first (audit.view).
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (api.Page[api.AuditEvent], error) {
	v := url.Values{}
	setQuery(v, "actor_id", q.ActorID)
	setQuery(v, "target_kind", q.TargetKind)
	setQuery(v, "target_id", q.TargetID)
	setQuery(v, "action", q.Action)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	setQuery(v, "cursor", q.Cursor)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return read[api.Page[api.AuditEvent]](ctx, c, withQuery("/audit", v))
}

// VerifyAudit re-walks the audit log's hash chain (audit.view).
func (c *Client) VerifyAudit(ctx context.Context) (api.AuditVerifyBody, error) {
	return read[api.AuditVerifyBody](ctx, c, "/audit/verify")
}
