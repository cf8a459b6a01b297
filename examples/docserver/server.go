package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Headers of the document server's own API.
const (
	// userHeader names the user a request acts as (the demo identity
	// scheme; basic auth's username is taken too).
	userHeader = "X-User"
	// atLeastHeader asks for a decision on Gatehouse data at least this
	// fresh: a revision a write to Gatehouse answered with.
	atLeastHeader = "X-Gatehouse-At-Least"
)

// maxDocument bounds a document's body.
const maxDocument = 1 << 20

// userTTL is how long a username's Gatehouse id is remembered: a user
// renamed or deleted in Gatehouse is seen within it.
const userTTL = 30 * time.Second

// Config configures a document server.
type Config struct {
	// Gatehouse is the client of the Gatehouse server, with a token whose
	// user holds users.view (to look users up and ask about them) and
	// files.admin (to register folders).
	Gatehouse *gatehouse.Client
	// Root is the name of the Gatehouse root folder under which the
	// server's folders are registered (created when absent).
	Root string
	// Folders are created at start when absent.
	Folders []string
	// Store keeps the documents' bodies.
	Store Store
	// Wait bounds how long a check waits for an X-Gatehouse-At-Least
	// revision (0: Gatehouse's default of 2 s).
	Wait time.Duration
	// Local, if set, answers the checks and folder lists in process (a
	// local replica, pkg/gatehouse/local) instead of the server.
	Local Querier
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// Querier answers the questions the server asks before a read or a
// write: the client, or a local replica.
type Querier interface {
	Check(ctx context.Context, r gatehouse.CheckRequest) (gatehouse.Decision, error)
	ListResources(ctx context.Context, q gatehouse.ResourcesQuery) (gatehouse.ResourceList, error)
}

// server serves /docs and /folders, asking Gatehouse before every read
// and write.
type server struct {
	gh    *gatehouse.Client
	ask   Querier
	store Store
	wait  time.Duration
	log   *slog.Logger

	rootName string
	rootID   string

	mu      sync.Mutex
	folders map[string]string // lower-case name → Gatehouse folder id
	names   map[string]string // Gatehouse folder id → name
	users   map[string]userEntry
}

type userEntry struct {
	id   string
	seen time.Time
}

// folder is Gatehouse's folder, as far as the server needs it.
type folder struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	ParentID string `json:"parent_id"`
}

// folderOf is the part of a Gatehouse folder the server keeps.
func folderOf(f api.Folder) folder { return folder{ID: f.ID, Name: f.Name, ParentID: f.ParentID} }

// newServer finds or registers the root folder and the configured
// folders in Gatehouse.
func newServer(ctx context.Context, cfg Config) (*server, error) {
	if cfg.Gatehouse == nil || cfg.Store == nil {
		return nil, errors.New("docserver: a Gatehouse client and a store are needed")
	}
	s := &server{gh: cfg.Gatehouse, store: cfg.Store, wait: cfg.Wait, log: cfg.Log, rootName: cfg.Root,
		folders: map[string]string{}, names: map[string]string{}, users: map[string]userEntry{}, ask: cfg.Gatehouse}
	if cfg.Local != nil {
		s.ask = cfg.Local
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.rootName == "" {
		s.rootName = "docserver"
	}
	root, _, err := s.findOrCreate(ctx, "", s.rootName)
	if err != nil {
		return nil, fmt.Errorf("docserver: root folder %q: %w", s.rootName, err)
	}
	s.rootID = root.ID
	for _, name := range cfg.Folders {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !validName(name) {
			return nil, fmt.Errorf("docserver: folder name %q: use letters, digits, '.', '_' and '-'", name)
		}
		if _, _, err := s.findOrCreate(ctx, s.rootID, name); err != nil {
			return nil, fmt.Errorf("docserver: folder %q: %w", name, err)
		}
	}
	return s, nil
}

// findOrCreate returns the child of parent (a root folder when parent is
// empty) with this name, registering it in Gatehouse when there is none.
func (s *server) findOrCreate(ctx context.Context, parent, name string) (folder, int64, error) {
	f, ok, err := s.find(ctx, parent, name)
	if err != nil || ok {
		return f, 0, err
	}
	created, err := s.gh.CreateFolder(ctx, api.CreateFolderRequest{Name: name, ParentID: parent})
	if err != nil {
		return f, 0, err
	}
	f = folderOf(created.Folder)
	s.remember(f)
	return f, created.Revision, nil
}

// find looks a folder up by name among parent's children, in Gatehouse.
// Sibling names are unique case-insensitively there, and so here.
func (s *server) find(ctx context.Context, parent, name string) (folder, bool, error) {
	page, err := s.gh.ListFolders(ctx, parent, gatehouse.ListOptions{Search: name, Limit: 1000})
	if err != nil {
		return folder{}, false, err
	}
	for _, gf := range page.Items {
		if f := folderOf(gf); strings.EqualFold(f.Name, name) && f.ParentID == parent {
			s.remember(f)
			return f, true, nil
		}
	}
	return folder{}, false, nil
}

func (s *server) remember(f folder) {
	if f.ParentID != s.rootID || s.rootID == "" {
		return
	}
	s.mu.Lock()
	s.folders[strings.ToLower(f.Name)] = f.ID
	s.names[f.ID] = f.Name
	s.mu.Unlock()
}

// folderID is the Gatehouse id of one of the server's folders; a name not
// seen yet is looked up, so folders registered elsewhere (the console,
// another instance) are found.
func (s *server) folderID(ctx context.Context, name string) (string, bool, error) {
	s.mu.Lock()
	id, ok := s.folders[strings.ToLower(name)]
	s.mu.Unlock()
	if ok {
		return id, true, nil
	}
	f, ok, err := s.find(ctx, s.rootID, name)
	return f.ID, ok, err
}

// userID is the Gatehouse id of a username.
func (s *server) userID(ctx context.Context, username string) (string, bool, error) {
	key := strings.ToLower(username)
	s.mu.Lock()
	e, ok := s.users[key]
	s.mu.Unlock()
	if ok && time.Since(e.seen) < userTTL {
		return e.id, true, nil
	}
	page, err := s.gh.ListUsers(ctx, gatehouse.ListOptions{Search: username, Limit: 1000})
	if err != nil {
		return "", false, err
	}
	for _, u := range page.Items {
		if strings.EqualFold(u.Username, username) {
			s.mu.Lock()
			s.users[key] = userEntry{u.ID, time.Now()}
			s.mu.Unlock()
			return u.ID, true, nil
		}
	}
	return "", false, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$`)

// validName keeps folder and document names safe as file names and URL
// path segments.
func validName(s string) bool { return nameRE.MatchString(s) }

// Handler serves the document server's API.
func (s *server) Handler() http.Handler {
	mux := http.NewServeMux()
	read := func(*http.Request, string) string { return "root.read" }
	// Writing needs edit on an existing document and create (Gatehouse's
	// upload level) for a new one. The document could appear between the
	// check and the write; for a demo, that race is accepted.
	write := func(r *http.Request, folderID string) string {
		if _, ok, _ := s.store.Get(folderID, r.PathValue("name")); ok {
			return "root.edit"
		}
		return "root.create"
	}
	del := func(*http.Request, string) string { return "root.delete" }
	mux.Handle("GET /docs/{folder}/{$}", s.guard(read, s.listDocs))
	mux.Handle("GET /docs/{folder}/{name}", s.guard(read, s.getDoc))
	mux.Handle("PUT /docs/{folder}/{name}", s.guard(write, s.putDoc))
	mux.Handle("DELETE /docs/{folder}/{name}", s.guard(del, s.deleteDoc))
	mux.HandleFunc("GET /folders", s.listFolders)
	// Registering a folder needs create_folder on the root folder.
	mux.Handle("POST /folders/{folder}", s.guardRoot("root.create_folder", s.createFolder))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

// identify says who a request acts as: the X-User header, or basic
// auth's username, or nobody (anonymous). THIS IS A DEMO IDENTITY SCHEME:
// anyone can claim any name. A real application takes the user from its
// own sign-in (a session, an OIDC token) and asks Gatehouse about that.
func (s *server) identify(r *http.Request) (string, error) {
	name := strings.TrimSpace(r.Header.Get(userHeader))
	if name == "" {
		if u, _, ok := r.BasicAuth(); ok {
			name = strings.TrimSpace(u)
		}
	}
	if name == "" {
		return gatehouse.Anonymous, nil
	}
	id, ok, err := s.userID(r.Context(), name)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", gatehouse.Reject(http.StatusUnauthorized, fmt.Sprintf("unknown user %q", name))
	}
	return gatehouse.User(id), nil
}

// consistency reads X-Gatehouse-At-Least.
func (s *server) consistency(r *http.Request) (gatehouse.Consistency, error) {
	h := r.Header.Get(atLeastHeader)
	if h == "" {
		return gatehouse.Consistency{}, nil
	}
	n, err := strconv.ParseInt(h, 10, 64)
	if err != nil || n < 0 {
		return gatehouse.Consistency{}, gatehouse.Reject(http.StatusBadRequest, atLeastHeader+" must be a revision number")
	}
	return gatehouse.Consistency{AtLeast: n, Wait: s.wait}, nil
}

// guard checks perm on the folder the path names.
func (s *server) guard(perm func(*http.Request, string) string, h http.HandlerFunc) http.Handler {
	return s.middleware(func(r *http.Request) (gatehouse.CheckRequest, error) {
		name := r.PathValue("folder")
		if !validName(name) {
			return gatehouse.CheckRequest{}, gatehouse.Reject(http.StatusNotFound, "no such folder")
		}
		if doc := r.PathValue("name"); doc != "" && !validName(doc) {
			return gatehouse.CheckRequest{}, gatehouse.Reject(http.StatusBadRequest, "a document name uses letters, digits, '.', '_' and '-' (at most 100)")
		}
		id, ok, err := s.folderID(r.Context(), name)
		if err != nil {
			return gatehouse.CheckRequest{}, err
		}
		if !ok {
			return gatehouse.CheckRequest{}, gatehouse.Reject(http.StatusNotFound, "no such folder")
		}
		return gatehouse.CheckRequest{Permission: perm(r, id), Resource: gatehouse.Folder(id)}, nil
	}, h)
}

// guardRoot checks perm on the root folder.
func (s *server) guardRoot(perm string, h http.HandlerFunc) http.Handler {
	return s.middleware(func(*http.Request) (gatehouse.CheckRequest, error) {
		return gatehouse.CheckRequest{Permission: perm, Resource: gatehouse.Folder(s.rootID)}, nil
	}, h)
}

// middleware is gatehouse.Middleware with the subject and consistency
// filled in from the request, the folder id passed on in the context,
// and the decision's revision stated in the answer.
func (s *server) middleware(decide func(*http.Request) (gatehouse.CheckRequest, error), h http.HandlerFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, ok := gatehouse.DecisionFromContext(r.Context()); ok {
			w.Header().Set(gatehouse.RevisionHeader, strconv.FormatInt(d.Revision, 10))
		}
		h(w, r)
	})
	guarded := gatehouse.Middleware(s.gh, func(r *http.Request) (gatehouse.CheckRequest, error) {
		sub, err := s.identify(r)
		if err != nil {
			return gatehouse.CheckRequest{}, s.lookupError(err)
		}
		cons, err := s.consistency(r)
		if err != nil {
			return gatehouse.CheckRequest{}, err
		}
		req, err := decide(r)
		if err != nil {
			return gatehouse.CheckRequest{}, s.lookupError(err)
		}
		req.Subject, req.Consistency = sub, cons
		return req, nil
	}, gatehouse.WithLogger(s.log), gatehouse.WithChecker(s.ask))
	return guarded(inner)
}

// lookupError turns a failed lookup in Gatehouse (of a user or a folder)
// into the answer the middleware gives: 503 when Gatehouse is
// unavailable (fail closed, as for the check itself), 500 otherwise.
func (s *server) lookupError(err error) error {
	var re *gatehouse.RejectError
	if errors.As(err, &re) {
		return err
	}
	if gatehouse.IsUnavailable(err) {
		return gatehouse.Reject(http.StatusServiceUnavailable, "the permission service is unavailable; try again later")
	}
	s.log.Error("docserver: lookup in Gatehouse failed", "err", err)
	return gatehouse.Reject(http.StatusInternalServerError, "internal error")
}

// folderOf is the id of the folder a guarded request names: the guard
// looked it up a moment ago, so it is remembered.
func (s *server) folderOf(r *http.Request) string {
	id, _, _ := s.folderID(r.Context(), r.PathValue("folder"))
	return id
}

func (s *server) internal(w http.ResponseWriter, err error) {
	s.log.Error("docserver: store", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func (s *server) getDoc(w http.ResponseWriter, r *http.Request) {
	b, ok, err := s.store.Get(s.folderOf(r), r.PathValue("name"))
	switch {
	case err != nil:
		s.internal(w, err)
	case !ok:
		http.Error(w, "no such document", http.StatusNotFound)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	}
}

func (s *server) putDoc(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDocument))
	if err != nil {
		http.Error(w, fmt.Sprintf("a document is at most %d bytes", maxDocument), http.StatusRequestEntityTooLarge)
		return
	}
	created, err := s.store.Put(s.folderOf(r), r.PathValue("name"), b)
	switch {
	case err != nil:
		s.internal(w, err)
	case created:
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *server) deleteDoc(w http.ResponseWriter, r *http.Request) {
	ok, err := s.store.Delete(s.folderOf(r), r.PathValue("name"))
	switch {
	case err != nil:
		s.internal(w, err)
	case !ok:
		http.Error(w, "no such document", http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *server) listDocs(w http.ResponseWriter, r *http.Request) {
	names, err := s.store.List(s.folderOf(r))
	if err != nil {
		s.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": names})
}

// listFolders lists the folders the caller may read, with one
// ListResources call rather than a check per folder.
func (s *server) listFolders(w http.ResponseWriter, r *http.Request) {
	sub, err := s.identify(r)
	if err == nil {
		var cons gatehouse.Consistency
		if cons, err = s.consistency(r); err == nil {
			var l gatehouse.ResourceList
			l, err = s.ask.ListResources(r.Context(), gatehouse.ResourcesQuery{Subject: sub, Permission: "root.read", Kind: "folder", Under: s.rootID, Consistency: cons})
			if err == nil {
				names := []string{}
				for _, id := range l.IDs {
					if name, ok := s.folderName(r.Context(), id); ok {
						names = append(names, name)
					}
				}
				w.Header().Set(gatehouse.RevisionHeader, strconv.FormatInt(l.Revision, 10))
				writeJSON(w, http.StatusOK, map[string]any{"folders": names})
				return
			}
		}
	}
	var re *gatehouse.RejectError
	if !errors.As(err, &re) {
		err = s.lookupError(err)
		errors.As(err, &re)
	}
	if re.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, re.Message, re.Status)
}

// folderName names a folder id under the root, reading the root's
// children again when the id is new (it was registered elsewhere).
// Deeper folders, which the server does not use, are left out.
func (s *server) folderName(ctx context.Context, id string) (string, bool) {
	if id == s.rootID {
		return "", false
	}
	s.mu.Lock()
	name, ok := s.names[id]
	s.mu.Unlock()
	if ok {
		return name, true
	}
	gf, err := s.gh.GetFolder(ctx, id)
	f := folderOf(gf.Folder)
	if err != nil || f.ParentID != s.rootID {
		return "", false
	}
	s.remember(f)
	return f.Name, true
}

// createFolder registers a folder in Gatehouse (the caller may, by
// root.create_folder; the server's own token does it) and answers with
// the revision of that write, for a later X-Gatehouse-At-Least.
func (s *server) createFolder(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("folder")
	if !validName(name) {
		http.Error(w, "a folder name uses letters, digits, '.', '_' and '-' (at most 100)", http.StatusBadRequest)
		return
	}
	f, rev, err := s.findOrCreate(r.Context(), s.rootID, name)
	if err != nil {
		if gatehouse.IsUnavailable(err) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "the permission service is unavailable; try again later", http.StatusServiceUnavailable)
			return
		}
		s.log.Error("docserver: registering a folder", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	status := http.StatusOK // it existed
	if rev > 0 {
		status = http.StatusCreated
		w.Header().Set(gatehouse.RevisionHeader, strconv.FormatInt(rev, 10))
	}
	writeJSON(w, status, map[string]any{"name": f.Name, "id": f.ID, "revision": rev})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
