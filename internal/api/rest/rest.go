package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Limits of the API, documented in docs/api.md and the OpenAPI document.
const (
	// MaxBodyBytes is the largest request body accepted (413 beyond),
	// the same for every transport.
	MaxBodyBytes = input.MaxBodyBytes
	// MaxBatch is the most checks one batch check may hold.
	MaxBatch = 1000
	// DefaultWait and MaxWait bound how long a query waits for at_least.
	DefaultWait = 2 * time.Second
	MaxWait     = 30 * time.Second
	// RevisionHeader carries the revision an answer was computed on, or
	// the revision a write committed at.
	RevisionHeader = "X-Gatehouse-Revision"
)

// Authenticator says who a request acts as: a signed-in user (API token
// or session cookie) or anonymous (authn.Anonymous) when it carries no
// credentials. Credentials that are present but bad are an error, answered
// with httpauth.WriteError (401 with WWW-Authenticate, 403 for a
// cross-origin use of the cookie, 429 when throttled).
// *httpauth.Auth is the real one.
type Authenticator interface {
	Identify(r *http.Request) (authn.Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (authn.Identity, error)

// Identify calls f.
func (f AuthenticatorFunc) Identify(r *http.Request) (authn.Identity, error) { return f(r) }

// Options configure the API.
type Options struct {
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Version is the API document's version; default "dev".
	Version string
	// Now defaults to time.Now; the engine's queries evaluate expiries at it.
	Now func() time.Time
	// Sessions and Cookies, when both set, add the sign-in, sign-out and
	// API token endpoints (*authn.Authenticator and *httpauth.Auth); see
	// RegisterAuth.
	Sessions Sessions
	Cookies  Cookies
	// Checks, if set, is told about every check answered (metrics).
	Checks CheckObserver
	// CursorKey authenticates list cursors (cursor.go). Replicas on one
	// database must share it: gatehouse serve passes the database's
	// (service.CursorKey). Without one, the API makes its own, so its
	// cursors work on this process only.
	CursorKey []byte
	// Streams, when it ends, ends the change feed's event streams and
	// long polls (the server passes its lifetime, so they do not hold up
	// a shutdown); nil means never.
	Streams context.Context
}

// API is the REST API's state: the service and how to authenticate.
type API struct {
	svc  *service.Service
	auth Authenticator
	log  *slog.Logger
	now  func() time.Time
	huma huma.API
	mux  *http.ServeMux
	// streams ends the change feed's streams and long polls.
	streams context.Context
	// cookies clears a dead session's cookie on sign-out; nil without
	// the sign-in endpoints.
	cookies   Cookies
	checks    CheckObserver
	cursorKey []byte
	// lean serves plain checks and batches on the lean path (checklean.go); the
	// tests turn it off to compare it with the generic one.
	lean bool
	// lastRevision is the revision header of the lean path's last answer.
	lastRevision atomic.Pointer[sharedRevision]
}

// New builds the API over svc. The handler serves every path under
// /api/v1 (mount it at "/api/v1/" on the server's mux).
func New(svc *service.Service, auth Authenticator, opts Options) *API {
	a := &API{svc: svc, auth: auth, log: opts.Log, now: opts.Now, mux: http.NewServeMux(), lean: true}
	a.checks = opts.Checks
	a.cursorKey = opts.CursorKey
	if len(a.cursorKey) == 0 {
		a.cursorKey = newCursorKey()
	}
	if a.checks == nil {
		a.checks = noObserver{}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	a.streams = opts.Streams
	if a.streams == nil {
		a.streams = context.Background()
	}
	a.huma = humago.New(a.mux, config(version))
	// Before any operation is registered: huma binds the middlewares then.
	a.huma.UseMiddleware(a.edge)
	a.register()
	// Every error is a Problem (huma's ErrorModel plus kind, holders and
	// revision): say so in the document's error schema.
	reg := a.huma.OpenAPI().Components.Schemas
	ps := reg.Schema(reflect.TypeFor[api.Problem](), false, "Problem")
	ps.Description = "An RFC 9457 problem (application/problem+json); see docs/api.md, Errors."
	reg.Map()["ErrorModel"] = ps
	if opts.Sessions != nil && opts.Cookies != nil {
		a.cookies = opts.Cookies
		a.RegisterAuth(opts.Sessions, opts.Cookies)
	}
	return a
}

// OpenAPI returns the API's OpenAPI 3.1 document as indented JSON.
func (a *API) OpenAPI() ([]byte, error) {
	b, err := json.MarshalIndent(a.huma.OpenAPI(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func config(version string) huma.Config {
	cfg := huma.DefaultConfig("Gatehouse API", version)
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	// huma's own validation errors carry huma.ErrorDetail; the document
	// shows the API's one ErrorDetail, which has the same fields.
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[huma.ErrorDetail](), reflect.TypeFor[api.ErrorDetail]())
	cfg.Info.Description = "Group and permission management: administration (users, groups, members, roles, " +
		"projects, folders, audit log) and permission checks. See docs/api.md for conventions: errors are " +
		"RFC 9457 problem+json; ETag/If-Match on versioned objects; cursor pagination; at_least (R20)."
	// No $schema links in bodies and no docs UI: the document is the API.
	cfg.CreateHooks = nil
	cfg.Transformers = []huma.Transformer{problemTransformer}
	cfg.OpenAPIPath = Prefix + "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer", Description: "An API token (gh_…) in Authorization: Bearer."},
		"session": {Type: "apiKey", In: "cookie", Name: "gatehouse_session", Description: "A sign-in session cookie."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
	return cfg
}

// ServeHTTP authenticates the request, recovers from panics and serves it.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.logPanic(r, v, debug.Stack())
			writeProblem(w, newProblem(http.StatusInternalServerError, domain.KindOther.String(),
				"internal error; the server log has the details"))
		}
	}()
	id, err := a.auth.Identify(r)
	if err != nil {
		var f *httpauth.Failure
		if a.cookies != nil && r.Method == http.MethodPost && r.URL.Path == Prefix+"/logout" &&
			errors.As(err, &f) && f.Status == http.StatusUnauthorized && !f.Bearer {
			// Signing out with a session that already ended succeeds: the
			// browser's stale cookie is cleared all the same.
			a.cookies.ClearSessionCookie(w, r)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		httpauth.WriteError(w, err)
		return
	}
	if id.RemoteAddr == "" {
		id.RemoteAddr = httpauth.RemoteIP(r)
	}
	if route := leanRoute(r); a.lean && route != "" {
		// The lean path hands the caller to the service itself: the
		// identity goes into a context (two allocations) only for the
		// generic path.
		s := getCheckScratch()
		defer s.release()
		if a.serveLean(route, w, r, id.Principal, s) {
			return
		}
	}
	ctx := httpauth.WithIdentity(r.Context(), id)
	if wantsEventStream(r) {
		a.streamChanges(w, r.WithContext(ctx))
		return
	}
	a.mux.ServeHTTP(a.revisionWriter(w), r.WithContext(ctx))
}

// schemaNames are the document's names of the API types that differ from
// their Go names: the names the document had before the types moved to
// pkg/gatehouse/api, kept so that the document does not change.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[api.UserStatusRequest]():    "StatusInBody",
	reflect.TypeFor[api.PasswordRequest]():      "PasswordInBody",
	reflect.TypeFor[api.UserRoleRequest]():      "UserRoleInBody",
	reflect.TypeFor[api.PreferencesRequest]():   "PrefInBody",
	reflect.TypeFor[api.ImportGroupRequest]():   "ProjectIDsInBody",
	reflect.TypeFor[api.RemoveGroupRequest]():   "RemoveFromProjectsInBody",
	reflect.TypeFor[api.DomainsRequest]():       "DomainsInBody",
	reflect.TypeFor[api.RemoveMembersRequest](): "RemoveMembersInBody",
	reflect.TypeFor[api.LevelRequest]():         "LevelInBody",
	reflect.TypeFor[api.GrantPath]():            "PathJSON",
	reflect.TypeFor[api.TokenRequest]():         "TokenRequestBody",
	reflect.TypeFor[api.WebhooksBody]():         "WebhookListOutBody",
	reflect.TypeFor[api.WebhookAttempt]():       "WebhookDelivery",
	reflect.TypeFor[api.WebhookAttemptsBody]():  "DeliveriesOutBody",
	reflect.TypeFor[api.RedeliverRequest]():     "RedeliverInBody",
}

// schemaName names a type's schema: its Go name (huma's default), or its
// entry in schemaNames.
func schemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := schemaNames[t]; ok {
		return n
	}
	return huma.DefaultSchemaNamer(t, hint)
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// register adds every operation but the sign-in ones (RegisterAuth).
func (a *API) register() {
	a.registerQueries()
	register(a.huma, a.userRoutes()...)
	register(a.huma, a.groupRoutes()...)
	register(a.huma, a.memberRoutes()...)
	register(a.huma, a.roleRoutes()...)
	register(a.huma, a.projectRoutes()...)
	register(a.huma, a.folderTypeRoutes()...)
	register(a.huma, a.folderRoutes()...)
	register(a.huma, a.ruleRoutes()...)
	register(a.huma, a.auditRoutes()...)
	a.registerChanges()
	register(a.huma, a.webhookRoutes()...)
	a.registerReplica()
	a.registerNesting()
}

// caller is the request's principal, set by ServeHTTP.
func caller(ctx context.Context) service.Caller {
	id, _ := httpauth.FromContext(ctx)
	return id.Principal
}

// ---- conventions shared by the handlers ----

// etag is the entity tag of an object version.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch parses an If-Match header: the version it demands, or 0 when the
// header is absent or "*" (a missing If-Match is allowed: the write is then
// unconditional). A malformed header is a 400 naming it.
func ifMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return 0, nil
	}
	v := strings.TrimPrefix(h, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	p := newProblem(http.StatusBadRequest, domain.KindInvalid.String(), "If-Match must be an ETag from a previous answer, such as \"3\"")
	p.Errors = []*api.ErrorDetail{{Location: "header.If-Match", Message: "not an ETag of this API", Value: h}}
	return 0, p
}

// revision is what an answer carries (R20): for a write, the revision
// its own transaction committed, as the service returned it; for a read
// (committed 0), or a write that changed nothing, the one the engine is at.
func (a *API) revision(committed int64) int64 {
	if committed > 0 {
		return committed
	}
	return a.svc.Revision()
}

// op fills an operation's common fields.
func op(id, method, path, summary string, tags ...string) huma.Operation {
	return huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         Prefix + path,
		Summary:      summary,
		Tags:         tags,
		MaxBodyBytes: MaxBodyBytes,
		Errors:       []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}
}

// ListParams are the query parameters of a paged list, and the request
// its cursor is bound to.
type ListParams struct {
	HTTPRequest
	Search string `query:"search" maxLength:"256" doc:"Keep rows whose name fields contain this, case-insensitively."`
	Sort   string `query:"sort" maxLength:"64" doc:"Column to sort by (name or created_at; users: username, display_name, email, created_at)."`
	Order  string `query:"order" enum:"asc,desc," doc:"asc (default) or desc."`
	Cursor string `query:"cursor" maxLength:"1024" doc:"next_cursor of the previous page; empty for the first."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" doc:"Page size: 1 to 1000; without it, 100."`
}

func (l ListParams) query() service.ListQuery {
	return service.ListQuery{Search: l.Search, Sort: l.Sort, Desc: l.Order == "desc", Cursor: l.Cursor, Limit: l.Limit}
}

// Revisioned is the revision part of an answer.
type Revisioned struct {
	Revision int64 `header:"X-Gatehouse-Revision" doc:"The revision the answer was computed on, or the write committed at."`
}
