// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643, RFC
// 7644) under /scim/v2: discovery, Users, Groups (system groups whose
// members are users and groups), filters, PATCH, Bulk, /Me and ETags, so that an
// identity provider such as Okta or Microsoft Entra ID can provision
// users and group memberships.
//
// It is a transport only: every read and write goes through
// internal/service, which authorizes the caller (R21, R22), keeps the
// invariants and writes the audit log (R29) exactly as for the REST API.
// A request needs a bearer API token whose user holds scim.provision; see
// service.SCIMCaller and docs/scim.md for what the token may then do.
//
// Resources are handled in their JSON form (map[string]any): filters
// (filter.go, parsed here by hand), sorting, attribute selection and
// PATCH (patch.go) work on it generically; resources.go converts to and
// from Gatehouse's objects and decides what is kept.
package scim

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/api/input"
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/authn/httpauth"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// Prefix is where the SCIM service is mounted.
const Prefix = "/scim/v2"

// Limits, advertised in /ServiceProviderConfig.
const (
	MaxBodyBytes     = input.MaxBodyBytes // also Bulk's maxPayloadSize; the same for every transport
	MaxBulkOps       = 1000
	DefaultPageCount = 100
	MaxPageCount     = 1000
)

// Authenticator says who a request acts as (*httpauth.Auth).
type Authenticator interface {
	Identify(r *http.Request) (authn.Identity, error)
}

// Options configure the handler.
type Options struct {
	Log *slog.Logger // default slog.Default()
}

// Handler serves /scim/v2.
type Handler struct {
	svc  *service.Service
	auth Authenticator
	log  *slog.Logger
}

// New returns the SCIM handler; mount it at Prefix+"/".
func New(svc *service.Service, auth Authenticator, o Options) *Handler {
	h := &Handler{svc: svc, auth: auth, log: o.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// req is one request's context: who calls and where the service lives.
type req struct {
	r      *http.Request
	ctx    context.Context
	caller service.Caller
	base   string // absolute URL of /scim/v2, for meta.location and $ref
}

// ServeHTTP authenticates, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("scim: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeSCIMError(w, &scimError{http.StatusInternalServerError, "", "internal error; the server log has the cause"})
		}
	}()
	id, err := h.auth.Identify(r)
	if err != nil {
		status := http.StatusUnauthorized
		var f *httpauth.Failure
		if errors.As(err, &f) {
			status = f.Status
			if f.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token"`)
			}
		}
		writeSCIMError(w, &scimError{Status: status, Detail: publicDetail(err)})
		return
	}
	// SCIM is for programs: a bearer token only. A browser's session
	// cookie is refused, so no cross-site request can provision.
	if id.Anonymous() || id.TokenID == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeSCIMError(w, &scimError{Status: http.StatusUnauthorized, Detail: "SCIM needs an API token (Authorization: Bearer gh_…) whose user holds scim.provision"})
		return
	}
	caller, err := h.svc.SCIMCaller(r.Context(), id.Principal)
	if err != nil {
		writeSCIMError(w, h.fromService(r, err))
		return
	}
	q := &req{r: r, ctx: r.Context(), caller: caller, base: baseURL(r)}
	if r.Body != nil && r.Method != http.MethodGet {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	h.route(w, q)
}

func publicDetail(err error) string {
	var f *httpauth.Failure
	if errors.As(err, &f) && f.Detail != "" {
		return f.Detail
	}
	return "authentication failed"
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

func (h *Handler) route(w http.ResponseWriter, q *req) {
	path := strings.TrimPrefix(q.r.URL.Path, Prefix)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch len(segs) {
	case 1:
		h.routeTop(w, q, segs[0])
	case 2:
		h.routeOne(w, q, segs[0], segs[1])
	default:
		writeSCIMError(w, errNotFound("no such endpoint: "+q.r.URL.Path))
	}
}

// allowed answers 405 unless the request's method is method.
func allowed(w http.ResponseWriter, q *req, method string) bool {
	if q.r.Method != method {
		notAllowed(w, q)
		return false
	}
	return true
}

func notAllowed(w http.ResponseWriter, q *req) {
	writeSCIMError(w, &scimError{Status: http.StatusMethodNotAllowed, Detail: q.r.Method + " is not supported on " + q.r.URL.Path})
}

// routeTop serves /scim/v2/<seg>: the discovery documents, the
// resource lists, search, /Me and bulk.
func (h *Handler) routeTop(w http.ResponseWriter, q *req, seg string) {
	switch strings.ToLower(seg) {
	case "serviceproviderconfig", "serviceconfiguration":
		if allowed(w, q, http.MethodGet) {
			writeJSON(w, http.StatusOK, serviceProviderConfig(q.base))
		}
	case "resourcetypes":
		if allowed(w, q, http.MethodGet) {
			writeJSON(w, http.StatusOK, listOf(resourceTypes(q.base)))
		}
	case "schemas":
		if allowed(w, q, http.MethodGet) {
			writeJSON(w, http.StatusOK, listOf(schemas(q.base)))
		}
	case "users", "groups":
		h.routeList(w, q, kindOf(seg))
	case ".search":
		if allowed(w, q, http.MethodPost) {
			h.searchPost(w, q, []string{"Users", "Groups"})
		}
	case "me":
		h.me(w, q)
	case "bulk":
		if allowed(w, q, http.MethodPost) {
			h.bulk(w, q)
		}
	default:
		writeSCIMError(w, errNotFound("no such endpoint: "+q.r.URL.Path))
	}
}

// routeList serves /scim/v2/Users and /Groups: search and create.
func (h *Handler) routeList(w http.ResponseWriter, q *req, kind string) {
	switch q.r.Method {
	case http.MethodGet:
		sp, e := searchFromQuery(q.r)
		if e != nil {
			writeSCIMError(w, e)
			return
		}
		h.search(w, q, []string{kind}, sp)
	case http.MethodPost:
		h.create(w, q, kind)
	default:
		notAllowed(w, q)
	}
}

// routeOne serves /scim/v2/<seg>/<id>: one resource, one resource type
// or one schema.
func (h *Handler) routeOne(w http.ResponseWriter, q *req, seg, id string) {
	switch strings.ToLower(seg) {
	case "users", "groups":
		h.routeResource(w, q, kindOf(seg), id)
	case "resourcetypes":
		for _, rt := range resourceTypes(q.base) {
			if strings.EqualFold(rt["id"].(string), id) {
				writeJSON(w, http.StatusOK, rt)
				return
			}
		}
		writeSCIMError(w, errNotFound("no resource type "+id))
	case "schemas":
		for _, s := range schemas(q.base) {
			if strings.EqualFold(s["id"].(string), id) {
				writeJSON(w, http.StatusOK, s)
				return
			}
		}
		writeSCIMError(w, errNotFound("no schema "+id))
	default:
		writeSCIMError(w, errNotFound("no such endpoint: "+q.r.URL.Path))
	}
}

// routeResource serves one user or group, and the kind's .search.
func (h *Handler) routeResource(w http.ResponseWriter, q *req, kind, id string) {
	if id == ".search" {
		if allowed(w, q, http.MethodPost) {
			h.searchPost(w, q, []string{kind})
		}
		return
	}
	switch q.r.Method {
	case http.MethodGet:
		h.get(w, q, kind, id)
	case http.MethodPut:
		h.replace(w, q, kind, id)
	case http.MethodPatch:
		h.patch(w, q, kind, id)
	case http.MethodDelete:
		h.delete(w, q, kind, id)
	default:
		notAllowed(w, q)
	}
}

func kindOf(seg string) string {
	if strings.EqualFold(seg, "users") {
		return "Users"
	}
	return "Groups"
}

func schemaOf(kind string) *resourceSchema {
	if kind == "Users" {
		return userSchema
	}
	return groupSchema
}

// readBody reads a request body: at most MaxBodyBytes, sent as
// application/scim+json or application/json (RFC 7644 §3.1; 415
// otherwise, a missing Content-Type too).
func (h *Handler) readBody(q *req) ([]byte, *scimError) {
	raw, err := input.ReadBody(q.r.Body, q.r.ContentLength, MaxBodyBytes)
	if err != nil {
		if errors.Is(err, input.ErrTooLarge) {
			return nil, &scimError{Status: http.StatusRequestEntityTooLarge, Detail: "the body is larger than 1 MiB"}
		}
		return nil, errInvalidSyntax("cannot read the body")
	}
	if len(raw) > 0 && !input.MediaType(q.r.Header.Get("Content-Type"), "application/scim+json", "application/json") {
		return nil, &scimError{Status: http.StatusUnsupportedMediaType, Detail: "send the body as Content-Type: application/scim+json or application/json"}
	}
	return raw, nil
}

// ---- single resources ----

// load returns a resource's full JSON form and version.
func (h *Handler) load(q *req, kind, id string) (map[string]any, int64, error) {
	if kind == "Users" {
		u, err := h.svc.GetSCIMUser(q.ctx, q.caller, id)
		if err != nil {
			return nil, 0, err
		}
		gs, err := h.svc.SCIMUserGroups(q.ctx, q.caller, id)
		if err != nil && !domain.Is(err, domain.KindForbidden) {
			return nil, 0, err
		}
		// A caller who may not see groups gets users without groups.
		return userJSON(u, gs, q.base), u.Version, nil
	}
	g, err := h.svc.GetSCIMGroup(q.ctx, q.caller, id)
	if err != nil {
		return nil, 0, err
	}
	return groupJSON(g, q.base), g.Group.Version, nil
}

// respond writes one resource, narrowed by attributes/excludedAttributes,
// with its ETag.
func (h *Handler) respond(w http.ResponseWriter, q *req, status int, kind string, res map[string]any, version int64) {
	attrs, excl := splitList(q.r.URL.Query().Get("attributes")), splitList(q.r.URL.Query().Get("excludedAttributes"))
	out, e := project(res, schemaOf(kind), attrs, excl)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	w.Header().Set("ETag", etag(version))
	if status == http.StatusCreated {
		if m, ok := res["meta"].(map[string]any); ok {
			w.Header().Set("Location", m["location"].(string))
		}
	}
	writeJSON(w, status, out)
}

func (h *Handler) get(w http.ResponseWriter, q *req, kind, id string) {
	res, v, err := h.load(q, kind, id)
	if err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	if inm := q.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, v) {
		w.Header().Set("ETag", etag(v))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.respond(w, q, http.StatusOK, kind, res, v)
}

func (h *Handler) create(w http.ResponseWriter, q *req, kind string) {
	raw, e := h.readBody(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	body, e := decodeObject(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	res, v, err := h.createFrom(q, kind, body)
	if err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	h.respond(w, q, http.StatusCreated, kind, res, v)
}

func (h *Handler) createFrom(q *req, kind string, body map[string]any) (map[string]any, int64, error) {
	if kind == "Users" {
		f, e := readUser(body)
		if e != nil {
			return nil, 0, e
		}
		if !f.hasUserName || strings.TrimSpace(f.userName) == "" {
			return nil, 0, errInvalidValue("userName is required")
		}
		u, _, err := h.svc.CreateSCIMUser(q.ctx, q.caller, service.NewUser{Username: f.userName, Email: f.email,
			DisplayName: f.displayName, ExternalID: f.externalID}, f.active)
		if err != nil {
			return nil, 0, err
		}
		return userJSON(u, nil, q.base), u.Version, nil
	}
	f, e := readGroup(body)
	if e != nil {
		return nil, 0, e
	}
	if !f.hasName || strings.TrimSpace(f.name) == "" {
		return nil, 0, errInvalidValue("displayName is required")
	}
	g, _, err := h.svc.CreateSCIMGroup(q.ctx, q.caller, f.name, f.externalID, f.members)
	if err != nil {
		return nil, 0, err
	}
	return groupJSON(g, q.base), g.Group.Version, nil
}

func (h *Handler) replace(w http.ResponseWriter, q *req, kind, id string) {
	raw, e := h.readBody(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	body, e := decodeObject(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	pre, e := ifMatch(q.r)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	res, v, err := h.replaceWith(q, kind, id, body, pre)
	if err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	h.respond(w, q, http.StatusOK, kind, res, v)
}

// replaceWith is PUT (RFC 7644 §3.5.1): userName, displayName and emails
// (and a Group's displayName and members) are replaced, so one left out is
// cleared. externalId (of both) and active change only when present: RFC 7644 lets
// an omitted attribute count as not asserted, and a PUT that forgot
// active must not enable or disable anyone, nor cut the IdP's link.
func (h *Handler) replaceWith(q *req, kind, id string, body map[string]any, pre precondition) (map[string]any, int64, error) {
	if bid, ok := getCI(body, "id").(string); ok && bid != "" && bid != id {
		return nil, 0, errMutability("id is immutable and must match the URL")
	}
	version, e := h.expectVersion(q, kind, id, pre)
	if e != nil {
		return nil, 0, e
	}
	if kind == "Users" {
		f, e := readUser(body)
		if e != nil {
			return nil, 0, e
		}
		if !f.hasUserName || strings.TrimSpace(f.userName) == "" {
			return nil, 0, errInvalidValue("userName is required")
		}
		up := service.SCIMUserUpdate{Username: &f.userName, DisplayName: &f.displayName, Email: &f.email, Version: version}
		if getCI(body, "externalId") != nil {
			up.ExternalID = &f.externalID
		}
		if f.hasActive {
			up.Active = &f.active
		}
		if _, _, err := h.svc.UpdateSCIMUser(q.ctx, q.caller, id, up); err != nil {
			return nil, 0, err
		}
		return h.load(q, kind, id)
	}
	f, e := readGroup(body)
	if e != nil {
		return nil, 0, e
	}
	if !f.hasName || strings.TrimSpace(f.name) == "" {
		return nil, 0, errInvalidValue("displayName is required")
	}
	if f.members == nil {
		f.members = []service.SCIMMember{}
	}
	ch := service.SCIMGroupChange{Name: &f.name, Members: &f.members, Version: version}
	if f.hasExternalID {
		ch.ExternalID = &f.externalID
	}
	g, _, err := h.svc.ChangeSCIMGroup(q.ctx, q.caller, id, ch)
	if err != nil {
		return nil, 0, err
	}
	return groupJSON(g, q.base), g.Group.Version, nil
}

func (h *Handler) delete(w http.ResponseWriter, q *req, kind, id string) {
	pre, e := ifMatch(q.r)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	if err := h.deleteID(q, kind, id, pre); err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) deleteID(q *req, kind, id string, pre precondition) error {
	version, e := h.expectVersion(q, kind, id, pre)
	if e != nil {
		return e
	}
	if kind == "Users" {
		_, err := h.svc.DeleteSCIMUser(q.ctx, q.caller, id, version)
		return err
	}
	_, err := h.svc.DeleteSCIMGroup(q.ctx, q.caller, id, version)
	return err
}

// me serves /Me (RFC 7644 §3.11) for reading: the token's own user.
// Changing yourself goes through /Users/{id}, where the same rules apply.
func (h *Handler) me(w http.ResponseWriter, q *req) {
	if q.r.Method != http.MethodGet {
		writeSCIMError(w, &scimError{Status: http.StatusNotImplemented, Detail: "only GET is supported on /Me; change the user through /Users/{id}"})
		return
	}
	u, err := h.svc.GetUser(q.ctx, q.caller, q.caller.UserID)
	if err != nil {
		writeSCIMError(w, h.fromService(q.r, err))
		return
	}
	var gs []domain.Group
	if u.Source == domain.SourceSCIM {
		if gs, err = h.svc.SCIMUserGroups(q.ctx, q.caller, u.ID); err != nil {
			writeSCIMError(w, h.fromService(q.r, err))
			return
		}
	}
	res := userJSON(u, gs, q.base)
	h.respond(w, q, http.StatusOK, "Users", res, u.Version)
}

// ---- attribute selection (RFC 7644 §3.4.2.5) ----

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// project keeps the attributes asked for (plus id and schemas, returned
// always), or drops the excluded ones.
func project(res map[string]any, s *resourceSchema, attrs, excl []string) (map[string]any, *scimError) {
	if len(attrs) == 0 && len(excl) == 0 {
		return res, nil
	}
	parse := func(list []string) ([]AttrPath, *scimError) {
		var out []AttrPath
		for _, a := range list {
			// A value filter in an attribute name (emails[type eq "work"],
			// an Entra habit) selects the attribute.
			if i := strings.IndexByte(a, '['); i > 0 {
				rest := ""
				if j := strings.LastIndexByte(a, ']'); j > i {
					rest = a[j+1:]
				}
				a = a[:i] + rest
			}
			p, err := parseAttrPath(a)
			if err != nil {
				return nil, errInvalidValue(err.Error())
			}
			if p.URI != "" && strings.EqualFold(p.URI, s.core) {
				p.URI = ""
			}
			out = append(out, p)
		}
		return out, nil
	}
	if len(attrs) > 0 {
		paths, e := parse(attrs)
		if e != nil {
			return nil, e
		}
		out := map[string]any{"schemas": res["schemas"], "id": res["id"]}
		for _, p := range paths {
			if p.URI != "" {
				if v := getCI(res, p.URI); v != nil {
					out[p.URI] = v
				}
				continue
			}
			key, v := keyCI(res, p.Name)
			if v == nil {
				continue
			}
			if p.Sub == "" {
				out[key] = v
				continue
			}
			out[key] = pickSub(out[key], v, p.Sub)
		}
		return out, nil
	}
	paths, e := parse(excl)
	if e != nil {
		return nil, e
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	for _, p := range paths {
		key, v := keyCI(out, p.Name)
		if v == nil || key == "id" || key == "schemas" {
			continue
		}
		if p.Sub == "" {
			delete(out, key)
		}
	}
	return out, nil
}

func keyCI(m map[string]any, name string) (string, any) {
	if v, ok := m[name]; ok {
		return name, v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return k, v
		}
	}
	return "", nil
}

// pickSub narrows a complex (or multi-valued complex) value to one
// sub-attribute, merging with what an earlier path already kept.
func pickSub(have, v any, sub string) any {
	switch v := v.(type) {
	case map[string]any:
		out, _ := have.(map[string]any)
		if out == nil {
			out = map[string]any{}
		}
		if k, sv := keyCI(v, sub); sv != nil {
			out[k] = sv
		}
		return out
	case []any:
		prev, _ := have.([]any)
		out := make([]any, len(v))
		for i, el := range v {
			var h any
			if i < len(prev) {
				h = prev[i]
			}
			out[i] = pickSub(h, el, sub)
		}
		return out
	}
	return v
}

// ---- queries (RFC 7644 §3.4.2, §3.4.3) ----

type searchParams struct {
	filter     Filter
	sortBy     *AttrPath
	descending bool
	startIndex int
	count      int
	attrs      []string
	excl       []string
}

func searchFromQuery(r *http.Request) (searchParams, *scimError) {
	v := r.URL.Query()
	return buildSearch(v.Get("filter"), v.Get("sortBy"), v.Get("sortOrder"), v.Get("startIndex"), v.Get("count"),
		splitList(v.Get("attributes")), splitList(v.Get("excludedAttributes")))
}

func buildSearch(filter, sortBy, sortOrder, start, count string, attrs, excl []string) (searchParams, *scimError) {
	sp := searchParams{startIndex: 1, count: DefaultPageCount, attrs: attrs, excl: excl}
	if filter != "" {
		f, err := ParseFilter(filter)
		if err != nil {
			return sp, errInvalidFilter(err.Error())
		}
		sp.filter = f
	}
	if sortBy != "" {
		p, err := parseAttrPath(sortBy)
		if err != nil {
			return sp, errInvalidValue("sortBy: " + err.Error())
		}
		sp.sortBy = &p
	}
	switch strings.ToLower(sortOrder) {
	case "", "ascending":
	case "descending":
		sp.descending = true
	default:
		return sp, errInvalidValue("sortOrder must be ascending or descending")
	}
	// RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a negative count is 0.
	if start != "" {
		n, err := strconv.Atoi(start)
		if err != nil {
			return sp, errInvalidValue("startIndex must be an integer")
		}
		sp.startIndex = max(n, 1)
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return sp, errInvalidValue("count must be an integer")
		}
		sp.count = min(max(n, 0), MaxPageCount)
	}
	return sp, nil
}

// all returns every resource of a kind in its JSON form.
func (h *Handler) all(q *req, kind string) ([]map[string]any, error) {
	gs, err := h.svc.ListSCIMGroups(q.ctx, q.caller)
	if err != nil && (kind == "Groups" || !domain.Is(err, domain.KindForbidden)) {
		return nil, err
	}
	// A caller who may see users but not groups lists users without groups.
	var out []map[string]any
	if kind == "Groups" {
		for _, g := range gs {
			out = append(out, groupJSON(g, q.base))
		}
		return out, nil
	}
	// User.groups from one pass over the groups, not one query per user.
	byUser := map[string][]domain.Group{}
	for _, g := range gs {
		for _, u := range g.Members {
			byUser[u.ID] = append(byUser[u.ID], g.Group)
		}
	}
	us, err := h.svc.ListSCIMUsers(q.ctx, q.caller)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out = append(out, userJSON(u, byUser[u.ID], q.base))
	}
	return out, nil
}

func (h *Handler) search(w http.ResponseWriter, q *req, kinds []string, sp searchParams) {
	var rows []map[string]any
	var rowKinds []string
	for _, kind := range kinds {
		all, err := h.all(q, kind)
		if err != nil {
			writeSCIMError(w, h.fromService(q.r, err))
			return
		}
		m := matcher{s: schemaOf(kind)}
		for _, res := range all {
			if sp.filter == nil || m.Match(sp.filter, res) {
				rows = append(rows, res)
				rowKinds = append(rowKinds, kind)
			}
		}
	}
	if sp.sortBy != nil {
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		keys := make([]sortKey, len(rows))
		for i, res := range rows {
			keys[i] = sortKeyOf(matcher{s: schemaOf(rowKinds[i])}, res, *sp.sortBy)
		}
		sort.SliceStable(idx, func(a, b int) bool {
			c := keys[idx[a]].cmp(keys[idx[b]])
			if sp.descending {
				return c > 0
			}
			return c < 0
		})
		sorted := make([]map[string]any, len(rows))
		sk := make([]string, len(rows))
		for i, j := range idx {
			sorted[i], sk[i] = rows[j], rowKinds[j]
		}
		rows, rowKinds = sorted, sk
	}
	total := len(rows)
	from := min(sp.startIndex-1, total)
	to := min(from+sp.count, total)
	page := []any{}
	for i := from; i < to; i++ {
		out, e := project(rows[i], schemaOf(rowKinds[i]), sp.attrs, sp.excl)
		if e != nil {
			writeSCIMError(w, e)
			return
		}
		page = append(page, out)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URIListResponse}, "totalResults": total,
		"startIndex": sp.startIndex, "itemsPerPage": len(page), "Resources": page})
}

// sortKey is a resource's value for sortBy: missing values sort last in
// ascending order (RFC 7644 §3.4.2.3).
type sortKey struct {
	missing bool
	s       string
	n       float64
	isNum   bool
}

func sortKeyOf(m matcher, res map[string]any, p AttrPath) sortKey {
	vals := m.values(res, p)
	if len(vals) == 0 {
		return sortKey{missing: true}
	}
	switch v := vals[0].(type) {
	case string:
		if !m.s.caseExact(p) {
			v = strings.ToLower(v)
		}
		return sortKey{s: v}
	case float64:
		return sortKey{n: v, isNum: true}
	case bool:
		if v {
			return sortKey{s: "true"}
		}
		return sortKey{s: "false"}
	}
	return sortKey{missing: true}
}

func (a sortKey) cmp(b sortKey) int {
	switch {
	case a.missing && b.missing:
		return 0
	case a.missing:
		return 1
	case b.missing:
		return -1
	case a.isNum && b.isNum:
		return cmpFloat(a.n, b.n)
	}
	return strings.Compare(a.s, b.s)
}

// searchPost is POST .search (RFC 7644 §3.4.3).
func (h *Handler) searchPost(w http.ResponseWriter, q *req, kinds []string) {
	raw, e := h.readBody(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	body, e := decodeObject(raw)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	if e := checkSchemas(body, URISearch); e != nil || getCI(body, "schemas") == nil {
		writeSCIMError(w, errInvalidSyntax("schemas must be ["+URISearch+"]"))
		return
	}
	str := func(k string) (string, *scimError) {
		switch v := getCI(body, k).(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), nil
		}
		return "", errInvalidValue(k + " has the wrong type")
	}
	list := func(k string) ([]string, *scimError) {
		switch v := getCI(body, k).(type) {
		case nil:
			return nil, nil
		case []any:
			var out []string
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					return nil, errInvalidValue(k + " must be an array of strings")
				}
				out = append(out, s)
			}
			return out, nil
		}
		return nil, errInvalidValue(k + " must be an array of strings")
	}
	var vals [5]string
	for i, k := range []string{"filter", "sortBy", "sortOrder", "startIndex", "count"} {
		if vals[i], e = str(k); e != nil {
			writeSCIMError(w, e)
			return
		}
	}
	attrs, e := list("attributes")
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	excl, e := list("excludedAttributes")
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	sp, e := buildSearch(vals[0], vals[1], vals[2], vals[3], vals[4], attrs, excl)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	h.search(w, q, kinds, sp)
}
