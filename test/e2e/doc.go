// Package e2e holds whole-binary tests: they build cmd/gatehouse, start it
// as a user would, and drive it over HTTP (and later in Chromium).
package e2e
