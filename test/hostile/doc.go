// Package hostile attacks the real gatehouse binary (issue 9, items 2 and
// 3): hostile_test.go sends every endpoint of the REST API (enumerated from
// docs/openapi.json), SCIM and the console malformed, oversized, deeply
// nested, mis-typed and injection-looking input and asserts that no answer
// is a 5xx, nothing panics and every refusal is a well-formed error naming
// what was wrong; attacks_test.go is the attack table of authentication,
// sessions, tokens, CSRF and limited administrators across every transport.
//
// The tests build the binary once (TestMain) and talk to it over HTTP only,
// as an attacker would. go test ./test/hostile -long runs a bigger corpus.
package hostile
