// Package layers holds the dependency test of the whole module: which
// layer may import which (docs/architecture.md), checked on the import
// graph `go list -deps` reports, so that a forbidden import fails with the
// chain that brings it in. It has no code of its own.
package layers
