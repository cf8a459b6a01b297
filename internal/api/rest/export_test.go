package rest

import "github.com/gatehouse/gatehouse/internal/domain"

// StatusFor exposes the kind → status table to the tests.
func StatusFor(k domain.Kind) int { return statusOf[k] }

// SetLeanCheck turns the lean path of POST /api/v1/check on or off, so
// that the tests can compare its answers with the generic path's.
func (a *API) SetLeanCheck(on bool) { a.lean = on }
