// Package console is Gatehouse's server-rendered administration console,
// mounted at "/": sign-in, the groups screens of the five reference
// products (group list, the group editor's General, Privileges, Projects,
// Rules, Folder permissions and Members tabs, the delete dialogs), users
// and a user's page (groups, roles, rights, effective access), roles,
// projects and a project's page (groups, members, settings), folders with
// the folder and folder type editors, the audit log, the access explorer
// and the personal preferences. Every list is paged and searched on the
// server.
//
// It is plain html/template over the service layer, with the signed-in
// user as the caller: the console can never do more than the REST API
// allows, because every read and write goes through the same use cases.
// What the caller may not do is drawn disabled, from the engine's
// effective permissions, rather than failing after a click; the service
// still decides.
//
// Templates and static files are embedded (no build step). Every page works
// without JavaScript; console.js only adds conveniences (R8's auto-check
// of "view", the rules matrix's "Check all", live R9 hints, the rule
// editor's property lists filtered by type, member ticks kept across
// pages). Forms are
// protected against cross-site requests by net/http's
// CrossOriginProtection (the Sec-Fetch-Site / Origin check), and the
// session cookie is SameSite=Lax and HttpOnly (internal/authn/httpauth).
package console

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/authn/oidcauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the console.
type Options struct {
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// PageSize is the number of rows of a page of every list (users,
	// groups, members, projects, pickers); it defaults to 100, and is at
	// most 1000 (the store's maximum).
	PageSize int
	// SecureCookies marks the console's own cookies Secure even on plain
	// HTTP requests: behind a proxy that terminates TLS.
	SecureCookies bool
	// OIDC are the OpenID Connect providers, one sign-in button each
	// (nil: none).
	OIDC *oidcauth.Set
}

// Console serves the administration console.
type Console struct {
	svc   *service.Service
	authn *authn.Authenticator
	auth  *httpauth.Auth
	log   *slog.Logger
	now   func() time.Time
	pages map[string]*template.Template
	mux   *http.ServeMux
	cross *http.CrossOriginProtection
	// pageSize rows per page of the users and members lists.
	pageSize int
	// secureCookies: Options.SecureCookies.
	secureCookies bool
	// oidc and oidcStates: the providers and the sign-ins in progress.
	oidc       *oidcauth.Set
	oidcStates *oidcauth.States
}

// New returns the console. auth should be built with
// AnonymousOnStaleCookie, so that a browser with an expired cookie lands on
// the sign-in page instead of a 401 document.
func New(svc *service.Service, a *authn.Authenticator, auth *httpauth.Auth, o Options) (*Console, error) {
	c := &Console{svc: svc, authn: a, auth: auth, log: o.Log, now: o.Now, mux: http.NewServeMux(),
		cross: http.NewCrossOriginProtection()}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.pageSize = o.PageSize
	c.secureCookies = o.SecureCookies
	c.oidc, c.oidcStates = o.OIDC, oidcauth.NewStates(c.now)
	if c.pageSize <= 0 {
		c.pageSize = 100
	}
	c.pageSize = min(c.pageSize, 1000)
	if err := c.parse(); err != nil {
		return nil, err
	}
	c.routes()
	c.moreRoutes()
	c.projectRoutes()
	c.oidcRoutes()
	return c, nil
}

// ServeHTTP serves a console page. Every request passes the cross-origin
// check first (the sign-in form too, which has no cookie yet), then the
// session middleware.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	// No 'unsafe-inline': the templates carry no inline script, event
	// handler or style attribute (test/e2e/tls_test.go checks the pages
	// load under this policy's headers; docs/security.md).
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := c.cross.Check(r); err != nil {
		c.fail(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Reload the page and try again.")
		return
	}
	c.auth.Middleware(c.mux).ServeHTTP(w, r)
}

// shownTime is how the console shows a time to people: in UTC, saying so
// (a browser's zone is unknown to the server; a date read from a form is
// midnight UTC, as the form's label says).
const shownTime = "2006-01-02 15:04 UTC"

func (c *Console) parse() error {
	funcs := template.FuncMap{
		"join":     strings.Join,
		"has":      func(set map[string]bool, k string) bool { return set[k] },
		"contains": func(list []string, k string) bool { return contains(list, k) },
		"date":     func(t time.Time) string { return t.UTC().Format(shownTime) },
		"dateptr": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format(shownTime)
		},
		"add":         func(a, b int) int { return a + b },
		"opLabel":     opLabel,
		"label":       keyLabel,
		"permLabel":   permLabel,
		"actionLabel": actionLabel,
		"bulkCounts":  bulkCounts,
		"norules":     func(s string) string { return strings.TrimSpace(ruleRefRE.ReplaceAllString(s, "")) },
		"plural":      plural,
		"tabsOf": func(id, tab string, tabs any) map[string]any {
			return map[string]any{"ID": id, "Tab": tab, "Tabs": tabs}
		},
		// indent is a class, not a style attribute: the content security
		// policy allows no inline style.
		"indent": func(depth int) string { return fmt.Sprintf("d%d", min(depth, 9)) },
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("console template %s: %w", n, err)
		}
		c.pages[name] = t
	}
	return nil
}

// queryOf builds a query string from key, value pairs, skipping empty
// values; html/template escapes it where it is used.
func queryOf(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// session is what every page knows about the request: who is signed in,
// what they may do, and the flash message of the previous action.
type session struct {
	ID    authn.Identity
	User  domain.User
	Sys   map[string]bool // the caller's effective system permissions
	Flash string
	Error string
	Path  string
}

func (s *session) Caller() service.Caller { return s.ID.Principal }

// Can reports whether the caller holds a system permission (R8-closed, and
// R18's preference applied, by the engine).
func (s *session) Can(key string) bool { return s.Sys[key] }

// ShowPI reports whether personal information may be shown (R18).
func (s *session) ShowPI() bool { return s.Sys[domain.PermPersonalInfoView] }

// Mask hides a piece of personal information when the caller may not see
// it (R18). A username is an account name, not personal information.
func (s *session) Mask(v string) string {
	if v == "" || s.ShowPI() {
		return v
	}
	return "•••••"
}

// page is the data of a rendered page.
type page struct {
	*session
	Title string
	Nav   string
	Data  any
}

func (c *Console) sessionOf(w http.ResponseWriter, r *http.Request) *session {
	id, _ := httpauth.FromContext(r.Context())
	s := &session{ID: id, Sys: map[string]bool{}, Path: r.URL.Path}
	if id.UserID != "" {
		e, err := c.svc.EffectivePermissions(r.Context(), id.Principal, service.EffectiveQuery{Resource: "system"})
		if err == nil {
			for _, k := range e.Permissions {
				s.Sys[k] = true
			}
		}
		if u, err := c.svc.GetUser(r.Context(), id.Principal, id.UserID); err == nil {
			s.User = u
		} else {
			s.User = domain.User{ID: id.UserID, Username: id.Username}
		}
	}
	s.Flash, s.Error = readFlash(w, r)
	return s
}

const flashCookie = "gatehouse_flash"

// setFlash carries a message to the page the browser is redirected to
// (post/redirect/get, so a reload never sends a form twice).
func setFlash(w http.ResponseWriter, kind, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

func readFlash(w http.ResponseWriter, r *http.Request) (ok, bad string) {
	ck, err := r.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	v, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return "", ""
	}
	kind, msg, _ := strings.Cut(v, ":")
	if kind == "error" {
		return "", msg
	}
	return msg, ""
}

// done redirects after a successful form with a success message.
func done(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		setFlash(w, "ok", msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// failed redirects back after a refused form with the service's message.
func failed(w http.ResponseWriter, r *http.Request, to string, err error) {
	setFlash(w, "error", message(err))
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// message turns a service error into a sentence for a person: the
// service's errors already say what was wrong and why (field errors name
// the field), so the console shows them, as service.Describe reads them,
// rather than a status code.
func message(err error) string {
	if err == nil {
		return ""
	}
	d := service.Describe(err)
	if len(d.Fields) > 0 {
		parts := make([]string, 0, len(d.Fields))
		for _, f := range d.Fields {
			parts = append(parts, fieldLabel(f.Field)+": "+f.Message)
		}
		return sentence(strings.Join(parts, "; "))
	}
	switch d.Kind {
	case domain.KindNotFound:
		return "Not found, or not visible to you."
	case domain.KindForbidden:
		return "You may not do this: " + sentence(d.Message)
	}
	return sentence(d.Message)
}

// ruleRefRE matches the model's rule numbers in a service message, "(R22)"
// or "R9: ": they are for the API's readers and the code, not for a
// person at the console.
var ruleRefRE = regexp.MustCompile(`\s*\((R\d{1,2}\b[,; ]*(and )?)+\)|\bR\d{1,2}\b('s)?:?\s*`)

// sentence drops the rule numbers and starts the message with a capital.
func sentence(s string) string {
	s = strings.TrimSpace(ruleRefRE.ReplaceAllString(s, ""))
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// render writes a page. A template error after headers are sent cannot
// become an error page, so the page is rendered into memory first.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title, nav string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, http.StatusInternalServerError, "This page is missing.")
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", page{session: s, Title: title, Nav: nav, Data: data}); err != nil {
		c.log.Error("console: rendering a page", "page", name, "err", err)
		c.fail(w, r, http.StatusInternalServerError, "Something went wrong while drawing this page. It has been logged.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail answers with a plain, styled error page rather than a raw one.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, struct {
		Status int
		Text   string
		Msg    string
	}{status, http.StatusText(status), msg})
}

var errorPage = template.Must(template.New("err").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Text}} · Gatehouse</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/console.css"></head><body><main class="narrow">
<h1>{{.Text}}</h1><p class="msg error" role="alert">{{.Msg}}</p><p><a href="/">Back to the console</a></p></main></body></html>`))

// handler is a console page handler with its session.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// signedIn wraps a page that needs a signed-in user: anonymous browsers go
// to the sign-in page and come back afterwards.
func (c *Console) signedIn(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Anonymous: to the sign-in page, before the flash message is
		// read, so that the sign-in page shows it.
		if id, _ := httpauth.FromContext(r.Context()); id.UserID == "" {
			http.Redirect(w, r, "/login"+queryOf("next", r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		s := c.sessionOf(w, r)
		if !c.readForm(w, r, input.MaxBodyBytes) {
			return
		}
		h(w, r, s)
	}
}

// readForm parses a POST's form (at most limit bytes) and refuses, with
// the error page, a form or query whose names or values are not UTF-8
// (the check every transport shares, internal/api/input): browsers send
// UTF-8, and replacement characters must not be stored in its place.
func (c *Console) readForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := r.ParseForm(); err != nil {
			c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
			return false
		}
		form = r.Form
	}
	if e := input.CheckForm(form); e != nil {
		msg := "The form holds text that is not valid UTF-8; nothing was changed."
		if e.Location != "" {
			msg = fmt.Sprintf("The form field %q is not valid UTF-8 text; nothing was changed.", e.Location)
		}
		c.fail(w, r, http.StatusBadRequest, msg)
		return false
	}
	return true
}

func (c *Console) routes() {
	m := c.mux
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	m.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		// A missing file (or a directory, or a path trying to climb out)
		// gets the console's error page rather than net/http's
		// plain-text 404 or a directory listing.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(static, name); !fs.ValidPath(name) || err != nil || st.IsDir() {
			c.fail(w, r, http.StatusNotFound, "There is no such file.")
			return
		}
		files.ServeHTTP(w, r)
	})
	// Browsers ask for /favicon.ico whatever the page says.
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=86400")
		http.ServeFileFS(w, r, static, "favicon.svg")
	})
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.login)
	m.HandleFunc("POST /logout", c.logout)
	m.HandleFunc("GET /{$}", c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/admin/groups", http.StatusSeeOther)
	}))

	m.HandleFunc("GET /admin/groups", c.signedIn(c.groupList))
	m.HandleFunc("GET /admin/groups/new", c.signedIn(c.groupNew))
	m.HandleFunc("POST /admin/groups", c.signedIn(c.groupCreate))
	m.HandleFunc("GET /admin/groups/{id}", c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/admin/groups/"+url.PathEscape(r.PathValue("id"))+"/general", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /admin/groups/{id}/{tab}", c.signedIn(c.groupTab))
	m.HandleFunc("POST /admin/groups/{id}/general", c.signedIn(c.groupSaveGeneral))
	m.HandleFunc("POST /admin/groups/{id}/privileges", c.signedIn(c.groupSavePrivileges))
	m.HandleFunc("POST /admin/groups/{id}/projects", c.signedIn(c.groupSaveProjects))
	m.HandleFunc("POST /admin/groups/{id}/import", c.signedIn(c.groupImport))
	m.HandleFunc("POST /admin/groups/{id}/remove", c.signedIn(c.groupRemove))
	m.HandleFunc("POST /admin/groups/{id}/members", c.signedIn(c.groupSaveMembers))
	m.HandleFunc("POST /admin/groups/{id}/nesting", c.signedIn(c.groupSaveNesting))
	m.HandleFunc("POST /admin/groups/{id}/bulk", c.signedIn(c.groupBulk))
	m.HandleFunc("POST /admin/groups/{id}/folders", c.signedIn(c.groupSaveFolders))
	m.HandleFunc("GET /admin/groups/{id}/rules/{rule}", c.signedIn(c.ruleEditor))
	m.HandleFunc("POST /admin/groups/{id}/rules/{rule}", c.signedIn(c.ruleSave))
	m.HandleFunc("POST /admin/groups/{id}/rules/{rule}/delete", c.signedIn(c.ruleDelete))
	m.HandleFunc("POST /admin/groups/{id}/delete", c.signedIn(c.groupDelete))

	m.HandleFunc("GET /admin/users", c.signedIn(c.userList))
	m.HandleFunc("POST /admin/users", c.signedIn(c.userCreate))
	m.HandleFunc("POST /admin/users/{id}/status", c.signedIn(c.userStatus))
	m.HandleFunc("GET /admin/roles", c.signedIn(c.roleList))
	m.HandleFunc("GET /admin/roles/{id}", c.signedIn(c.roleEditor))
	m.HandleFunc("POST /admin/roles/{id}", c.signedIn(c.roleSave))
	m.HandleFunc("POST /admin/roles/{id}/delete", c.signedIn(c.roleDelete))
	m.HandleFunc("GET /admin/projects", c.signedIn(c.projectList))
	m.HandleFunc("POST /admin/projects", c.signedIn(c.projectCreate))
	m.HandleFunc("POST /admin/projects/{id}", c.signedIn(c.projectUpdate))
	m.HandleFunc("GET /admin/folders", c.signedIn(c.folderPage))
	m.HandleFunc("POST /admin/folder-types", c.signedIn(c.folderTypeCreate))
	m.HandleFunc("POST /admin/folders", c.signedIn(c.folderCreate))
	m.HandleFunc("GET /admin/audit", c.signedIn(c.auditPage))
	m.HandleFunc("GET /admin/access", c.signedIn(c.accessPage))
	c.webhookRoutes(m)

	m.HandleFunc("GET /preferences", c.signedIn(c.prefsPage))
	m.HandleFunc("POST /preferences/personal-info", c.signedIn(c.prefsPI))
	m.HandleFunc("POST /preferences/password", c.signedIn(c.prefsPassword))
	m.HandleFunc("POST /preferences/tokens", c.signedIn(c.prefsTokenCreate))
	m.HandleFunc("POST /preferences/tokens/{id}/revoke", c.signedIn(c.prefsTokenRevoke))

	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no such page.")
	})
}

// loginPage shows the sign-in form, or goes on when already signed in.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	s := c.sessionOf(w, r)
	if s.ID.UserID != "" {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, s, http.StatusOK, "login", "Sign in", "", map[string]any{"Next": r.URL.Query().Get("next"), "Providers": c.providerButtons()})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if !c.readForm(w, r, 64<<10) {
		return
	}
	next := r.PostForm.Get("next")
	ns, err := c.authn.Login(r.Context(), strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password"),
		httpauth.RemoteIP(r), r.UserAgent())
	if err != nil {
		s := c.sessionOf(w, r)
		s.Error = "Sign-in failed: " + message(err)
		if domain.KindOf(err) == domain.KindUnauthenticated {
			s.Error = "The username or password is not right, or the account is disabled."
		}
		if d := authn.RetryAfterOf(err); d > 0 {
			s.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", int(d.Seconds()+0.5))
		}
		c.render(w, r, s, http.StatusUnauthorized, "login", "Sign in", "",
			map[string]any{"Next": next, "Username": r.PostForm.Get("username"), "Providers": c.providerButtons()})
		return
	}
	c.auth.SetSessionCookie(w, r, ns)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") || strings.HasPrefix(n, "/login") {
		return "/admin/groups"
	}
	return n
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if secret := httpauth.SessionSecret(r); secret != "" {
		if err := c.authn.Logout(r.Context(), secret, httpauth.RemoteIP(r)); err != nil && domain.KindOf(err) != domain.KindUnauthenticated {
			c.log.Warn("console: sign-out", "err", err)
		}
	}
	c.auth.ClearSessionCookie(w, r)
	if to, name := c.oidcLogoutURL(w, r); to != "" {
		// RP-initiated logout: the provider ends its own session too,
		// then sends the browser back to the sign-in page.
		c.toProviderLogout(w, to, name)
		return
	}
	done(w, r, "/login", "You are signed out.")
}

func contains(list []string, k string) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// areas groups catalog permissions of a scope by area, in catalog order.
type area struct {
	Name  string
	Perms []domain.Permission
}

func areasOf(scope domain.Scope) []area {
	var out []area
	idx := map[string]int{}
	for _, p := range domain.Catalog() {
		if p.Scope != scope {
			continue
		}
		i, ok := idx[p.Area]
		if !ok {
			i = len(out)
			idx[p.Area] = i
			out = append(out, area{Name: p.Area})
		}
		out[i].Perms = append(out[i].Perms, p)
	}
	return out
}
