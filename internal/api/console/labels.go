package console

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// Words for the keys of the model. The interface shows a label, with the
// key beside it as secondary text for API users; the keys themselves
// (eq, view_blinded, delete_folder) are the API's, not a person's.

var opLabels = map[string]string{
	string(domain.OpEq): "equals", string(domain.OpNe): "does not equal", string(domain.OpIn): "is one of",
	string(domain.OpContains): "contains", string(domain.OpStartsWith): "starts with", string(domain.OpExists): "is set",
}

// opLabel names a rule operator.
func opLabel(op string) string {
	if l, ok := opLabels[op]; ok {
		return l
	}
	return op
}

// keyLabel turns a snake_case key (an action, a level) into words:
// view_blinded → "View blinded".
func keyLabel(k string) string {
	if k == "" {
		return ""
	}
	s := strings.ReplaceAll(k, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// permLabel names a catalog permission ("Read" for project.read).
func permLabel(k string) string {
	if p, ok := domain.LookupPermission(k); ok && p.Label != "" {
		return p.Label
	}
	return keyLabel(k)
}

// permLabels names a list of permissions, for sentences.
func permLabels(keys []string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, permLabel(k))
	}
	return strings.Join(out, ", ")
}

// indexRE matches an index in a service field path: criteria[1].
var indexRE = regexp.MustCompile(`([a-z_]+)\[(\d+)\]`)

// fieldLabel turns a service field path into words for a person:
// criteria[1].folder_type_id → "Criterion 2, folder type" (the service
// counts from 0, people from 1).
func fieldLabel(f string) string {
	f = indexRE.ReplaceAllStringFunc(f, func(m string) string {
		sm := indexRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sm[2])
		name := strings.TrimSuffix(sm[1], "s")
		if sm[1] == "criteria" {
			name = "criterion"
		}
		return name + " " + strconv.Itoa(n+1)
	})
	parts := strings.Split(f, ".")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.TrimSuffix(p, "_id"), "_", " ")
	}
	return keyLabel(strings.Join(parts, ", "))
}

// actionLabel names an audited action: group.set_project_rights →
// "Group: set project rights".
func actionLabel(a string) string {
	kind, what, ok := strings.Cut(a, ".")
	if !ok {
		return keyLabel(a)
	}
	return keyLabel(kind) + ": " + strings.ReplaceAll(what, "_", " ")
}
