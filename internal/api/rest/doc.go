// Package rest is Gatehouse's JSON API under /api/v1: a thin transport over
// internal/service (administration) and the engine's queries (check, batch
// check, explain, list resources, list subjects, effective permissions).
//
// It owns the HTTP conventions and nothing else: decoding and schema
// validation (huma/v2 on the standard ServeMux, OpenAPI 3.1 generated from
// the Go types and served at /api/v1/openapi.json), the one table that maps
// domain error kinds to statuses (errors.go), RFC 9457 problem+json answers
// naming the field at fault, ETag/If-Match from object versions, cursor
// pagination with authenticated cursors (cursor.go), R20's at_least
// waits, the edge (edge.go: anonymous callers of administrative endpoints
// refused first, then the body's size, media type and strict JSON through
// internal/api/input) and a recover middleware so no panic reaches a
// client. Who may do what is decided by the
// service; this package only turns requests into service calls.
//
// The bodies it reads and writes are pkg/gatehouse/api's types, converted
// from the service's values field by field (convert.go). Each resource has
// its file (users.go, groups.go, members.go, roles.go, projects.go,
// foldertypes.go, folders.go, rules.go, audit.go, auth.go and tokens.go,
// query.go, changes.go) holding a table of routes to named handler
// methods; versioned.go holds what they share: the route table, the
// answers with an ETag, and the one If-Match/412 helper of versioned
// updates (updateVersioned).
//
// See docs/api.md for how to call it.
package rest
