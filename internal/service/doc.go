// Package service holds Gatehouse's administrative use cases and the
// invariants of MODEL.md section 8 (R21–R29). It is the only writer: every
// write is authorized against the caller, validated, and committed in one
// store transaction together with its audit record and change-log row.
//
// It imports the store contract and the engine, never net/http or a
// database driver.
package service
