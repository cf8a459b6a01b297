package scim

import (
	"net/http"
	"strconv"
	"strings"
)

// Bulk (RFC 7644 §3.7): operations run in order, each in its own service
// transaction, so an operation that fails leaves the earlier ones done;
// failOnErrors stops after that many failures. "bulkId:<id>" anywhere in
// an operation's data or path stands for the id of the resource that an
// earlier POST with that bulkId created; an operation whose reference is
// not resolved yet waits for a later pass, so the order of the request
// does not matter, and what is still unresolved at the end fails with 409.

type bulkOp struct {
	method, bulkID, version, path string
	data                          map[string]any
	index                         int
}

func (h *Handler) bulk(w http.ResponseWriter, q *req) {
	failOn, ops, e := h.bulkRequest(q)
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	run := bulkRun{h: h, q: q, failOn: failOn, ids: map[string]string{}, failedIDs: map[string]bool{}, results: make([]map[string]any, len(ops))}
	for pending := ops; len(pending) > 0 && !run.stopped(); {
		later, progress := run.round(pending)
		if !progress {
			run.unresolved(later)
			break
		}
		pending = later
	}
	out := []any{}
	for _, r := range run.results {
		if r != nil {
			out = append(out, r)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URIBulkResponse}, "Operations": out})
}

// bulkRequest reads a bulk request: its failOnErrors (0: no limit) and
// its operations.
func (h *Handler) bulkRequest(q *req) (int, []bulkOp, *scimError) {
	raw, e := h.readBody(q)
	if e != nil {
		return 0, nil, e
	}
	body, e := decodeObject(raw)
	if e != nil {
		return 0, nil, e
	}
	if e := checkSchemas(body, URIBulkRequest); e != nil || getCI(body, "schemas") == nil {
		return 0, nil, errInvalidSyntax("schemas must be [" + URIBulkRequest + "]")
	}
	failOn := 0 // 0: no limit
	if v := getCI(body, "failOnErrors"); v != nil {
		f, ok := v.(float64)
		if !ok || f < 1 || f != float64(int(f)) {
			return 0, nil, errInvalidValue("failOnErrors must be a positive integer")
		}
		failOn = int(f)
	}
	list, ok := getCI(body, "Operations").([]any)
	if !ok {
		return 0, nil, errInvalidSyntax("Operations must be an array")
	}
	if len(list) > MaxBulkOps {
		return 0, nil, &scimError{Status: http.StatusRequestEntityTooLarge,
			Detail: "at most " + strconv.Itoa(MaxBulkOps) + " operations per bulk request (maxOperations)"}
	}
	ops, e := bulkOps(list)
	return failOn, ops, e
}

// bulkOps reads the operations of a bulk request; every POST needs a
// bulkId of its own.
func bulkOps(list []any) ([]bulkOp, *scimError) {
	var ops []bulkOp
	seen := map[string]bool{}
	for i, el := range list {
		obj, ok := el.(map[string]any)
		if !ok {
			return nil, errInvalidSyntax("each operation must be an object")
		}
		op := bulkOp{index: i}
		op.method, _ = getCI(obj, "method").(string)
		op.method = strings.ToUpper(op.method)
		op.bulkID, _ = getCI(obj, "bulkId").(string)
		op.version, _ = getCI(obj, "version").(string)
		op.path, _ = getCI(obj, "path").(string)
		op.data, _ = getCI(obj, "data").(map[string]any)
		if op.method == http.MethodPost {
			if op.bulkID == "" {
				return nil, errInvalidSyntax("a POST operation needs a bulkId")
			}
			if seen[op.bulkID] {
				return nil, errInvalidSyntax("bulkId " + op.bulkID + " is used twice")
			}
			seen[op.bulkID] = true
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// bulkRun runs a bulk request's operations, in rounds: an operation that
// refers to a POST not run yet (bulkId:x) waits for a later round.
type bulkRun struct {
	h          *Handler
	q          *req
	failOn     int
	ids        map[string]string // bulkId → created id
	failedIDs  map[string]bool
	results    []map[string]any
	errorsSeen int
}

// stopped reports whether failOnErrors is reached.
func (r *bulkRun) stopped() bool { return r.failOn != 0 && r.errorsSeen >= r.failOn }

// round runs what it can of pending and returns what must wait, and
// whether anything ran or failed.
func (r *bulkRun) round(pending []bulkOp) (later []bulkOp, progress bool) {
	for _, op := range pending {
		if r.stopped() {
			break
		}
		resolved, missing, dead := resolveRefs(op, r.ids, r.failedIDs)
		if dead != "" {
			r.results[op.index] = bulkFailure(op, &scimError{Status: http.StatusConflict, Detail: "bulkId " + dead + " refers to an operation that failed"})
			r.errorsSeen++
			progress = true
			continue
		}
		if missing {
			later = append(later, op)
			continue
		}
		progress = true
		r.run(op, resolved)
	}
	return later, progress
}

// run runs one operation and records its outcome.
func (r *bulkRun) run(op, resolved bulkOp) {
	res := r.h.bulkOne(r.q, resolved)
	r.results[op.index] = res
	st, _ := strconv.Atoi(res["status"].(string))
	if st >= 400 {
		r.errorsSeen++
		if op.bulkID != "" {
			r.failedIDs[op.bulkID] = true
		}
	} else if op.method == http.MethodPost {
		loc, _ := res["location"].(string)
		r.ids[op.bulkID] = loc[strings.LastIndexByte(loc, '/')+1:]
	}
}

// unresolved fails the operations whose references never resolved.
func (r *bulkRun) unresolved(ops []bulkOp) {
	for _, op := range ops {
		r.results[op.index] = bulkFailure(op, &scimError{Status: http.StatusConflict, Detail: "unresolved bulkId reference (circular, or to no POST of this request)"})
		r.errorsSeen++
	}
}

// resolveRefs replaces "bulkId:x" references in op's path and data. It
// reports missing when one is not known yet, and names a reference to a
// failed operation.
func resolveRefs(op bulkOp, ids map[string]string, failed map[string]bool) (bulkOp, bool, string) {
	missing, dead := false, ""
	var walk func(v any) any
	sub := func(s string) string {
		if !strings.HasPrefix(s, "bulkId:") {
			return s
		}
		ref := strings.TrimPrefix(s, "bulkId:")
		if id, ok := ids[ref]; ok {
			return id
		}
		if failed[ref] {
			dead = ref
		} else {
			missing = true
		}
		return s
	}
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return sub(v)
		case []any:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = walk(x)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, x := range v {
				out[k] = walk(x)
			}
			return out
		}
		return v
	}
	segs := strings.Split(op.path, "/")
	for i := range segs {
		segs[i] = sub(segs[i])
	}
	op.path = strings.Join(segs, "/")
	if op.data != nil {
		op.data = walk(op.data).(map[string]any)
	}
	return op, missing, dead
}

func bulkFailure(op bulkOp, e *scimError) map[string]any {
	r := map[string]any{"method": op.method, "status": strconv.Itoa(e.Status)}
	if op.bulkID != "" {
		r["bulkId"] = op.bulkID
	}
	resp := map[string]any{"schemas": []string{URIError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		resp["scimType"] = e.ScimType
	}
	r["response"] = resp
	return r
}

// bulkOne runs one operation through the same code as its own request.
func (h *Handler) bulkOne(q *req, op bulkOp) map[string]any {
	segs := strings.Split(strings.Trim(op.path, "/"), "/")
	if len(segs) == 0 || (!strings.EqualFold(segs[0], "Users") && !strings.EqualFold(segs[0], "Groups")) || len(segs) > 2 {
		return bulkFailure(op, errInvalidPath("path must be /Users, /Groups, /Users/{id} or /Groups/{id}"))
	}
	kind := kindOf(segs[0])
	id := ""
	if len(segs) == 2 {
		id = segs[1]
	}
	pre, e := parsePrecondition(op.version, "version")
	if e != nil {
		return bulkFailure(op, e)
	}
	needsData := op.method != http.MethodDelete
	if needsData && op.data == nil {
		return bulkFailure(op, errInvalidSyntax("data must be an object"))
	}
	if (op.method == http.MethodPost) != (id == "") {
		return bulkFailure(op, errInvalidPath("POST goes to /Users or /Groups; PUT, PATCH and DELETE to /Users/{id} or /Groups/{id}"))
	}
	var res map[string]any
	var v int64
	var err error
	status := http.StatusOK
	switch op.method {
	case http.MethodPost:
		res, v, err = h.createFrom(q, kind, op.data)
		status = http.StatusCreated
	case http.MethodPut:
		res, v, err = h.replaceWith(q, kind, id, op.data, pre)
	case http.MethodPatch:
		res, v, err = h.patchWith(q, kind, id, op.data, pre)
	case http.MethodDelete:
		err = h.deleteID(q, kind, id, pre)
		status = http.StatusNoContent
	default:
		return bulkFailure(op, errInvalidSyntax("method must be POST, PUT, PATCH or DELETE"))
	}
	if err != nil {
		return bulkFailure(op, h.fromService(q.r, err))
	}
	out := map[string]any{"method": op.method, "status": strconv.Itoa(status)}
	if op.bulkID != "" {
		out["bulkId"] = op.bulkID
	}
	if res != nil {
		out["location"] = res["meta"].(map[string]any)["location"]
		out["version"] = etag(v)
	} else if id != "" {
		out["location"] = q.base + "/" + kind + "/" + id
	}
	return out
}
