package rest

import "github.com/gatehouse/gatehouse/internal/domain"

// StatusFor exposes the kind → status table to the tests.
func StatusFor(k domain.Kind) int { return statusOf[k] }
