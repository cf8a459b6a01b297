// Package api is the vocabulary of Gatehouse's REST API (/api/v1): every
// request and response body, the RFC 9457 problem document, and the page
// of a list, declared once. The server encodes exactly these types (the
// OpenAPI document is generated from them), and the Go client
// (pkg/gatehouse), the command line and `gatehouse apply` decode them.
//
// The types are the wire format and nothing else: the server converts its
// domain and service values to them field by field, so that renaming a
// field inside the server cannot change the API by accident, and the
// storage encoding of the change log and audit records (the JSON tags of
// internal/domain) is a separate, independent format.
//
// The package depends on the standard library only, so that any Go
// program can use it without the server's code. Field tags other than
// json (maxLength, enum, doc, ...) are the schema the server validates
// requests against and documents; a client may ignore them.
package api
