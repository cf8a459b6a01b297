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
	if e := checkSchemas(body, URIBulkRequest); e != nil || getCI(body, "schemas") == nil {
		writeSCIMError(w, errInvalidSyntax("schemas must be ["+URIBulkRequest+"]"))
		return
	}
	failOn := 0 // 0: no limit
	if v := getCI(body, "failOnErrors"); v != nil {
		f, ok := v.(float64)
		if !ok || f < 1 || f != float64(int(f)) {
			writeSCIMError(w, errInvalidValue("failOnErrors must be a positive integer"))
			return
		}
		failOn = int(f)
	}
	list, ok := getCI(body, "Operations").([]any)
	if !ok {
		writeSCIMError(w, errInvalidSyntax("Operations must be an array"))
		return
	}
	if len(list) > MaxBulkOps {
		writeSCIMError(w, &scimError{Status: http.StatusRequestEntityTooLarge,
			Detail: "at most " + strconv.Itoa(MaxBulkOps) + " operations per bulk request (maxOperations)"})
		return
	}
	var ops []bulkOp
	seen := map[string]bool{}
	for i, el := range list {
		obj, ok := el.(map[string]any)
		if !ok {
			writeSCIMError(w, errInvalidSyntax("each operation must be an object"))
			return
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
				writeSCIMError(w, errInvalidSyntax("a POST operation needs a bulkId"))
				return
			}
			if seen[op.bulkID] {
				writeSCIMError(w, errInvalidSyntax("bulkId "+op.bulkID+" is used twice"))
				return
			}
			seen[op.bulkID] = true
		}
		ops = append(ops, op)
	}

	ids := map[string]string{} // bulkId → created id
	failedIDs := map[string]bool{}
	results := make([]map[string]any, len(ops))
	errorsSeen := 0
	pending := ops
	for len(pending) > 0 && (failOn == 0 || errorsSeen < failOn) {
		var later []bulkOp
		progress := false
		for _, op := range pending {
			if failOn != 0 && errorsSeen >= failOn {
				break
			}
			resolved, missing, dead := resolveRefs(op, ids, failedIDs)
			if dead != "" {
				results[op.index] = bulkFailure(op, &scimError{Status: http.StatusConflict, Detail: "bulkId " + dead + " refers to an operation that failed"})
				errorsSeen++
				progress = true
				continue
			}
			if missing {
				later = append(later, op)
				continue
			}
			progress = true
			res := h.bulkOne(q, resolved)
			results[op.index] = res
			st, _ := strconv.Atoi(res["status"].(string))
			if st >= 400 {
				errorsSeen++
				if op.bulkID != "" {
					failedIDs[op.bulkID] = true
				}
			} else if op.method == http.MethodPost {
				loc, _ := res["location"].(string)
				ids[op.bulkID] = loc[strings.LastIndexByte(loc, '/')+1:]
			}
		}
		if !progress {
			for _, op := range later {
				results[op.index] = bulkFailure(op, &scimError{Status: http.StatusConflict, Detail: "unresolved bulkId reference (circular, or to no POST of this request)"})
				errorsSeen++
			}
			break
		}
		pending = later
	}
	out := []any{}
	for _, r := range results {
		if r != nil {
			out = append(out, r)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{URIBulkResponse}, "Operations": out})
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
