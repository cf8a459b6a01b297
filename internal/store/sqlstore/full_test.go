package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// A full disk is KindUnavailable (a 503 to API callers) with a message that
// says the database is full and that writes resume once space is freed,
// the driver's own text kept after it.
func TestMapErrFull(t *testing.T) {
	driverErr := errors.New("database or disk is full (13)")
	db := &DB{d: Dialect{Name: "test", Classify: func(err error) Class {
		if errors.Is(err, driverErr) {
			return ClassFull
		}
		return ClassOther
	}}}
	err := db.mapErr("store.CreateGroup", driverErr, domain.KindInvalid)
	if got := domain.KindOf(err); got != domain.KindUnavailable {
		t.Errorf("kind of a full disk = %v, want %v", got, domain.KindUnavailable)
	}
	if !errors.Is(err, driverErr) {
		t.Errorf("the driver's error is not in the chain of %v", err)
	}
	for _, want := range []string{"the database is full", "space is freed", "database or disk is full (13)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A statement cut short because its context ended is KindUnavailable (a
// 503), not the 500 of an unrecognised error: whether the driver returns
// the context's error (both drivers, mostly) or the database's own code
// (PostgreSQL's 57014, query_canceled).
func TestMapErrCanceled(t *testing.T) {
	interrupted := errors.New("canceling statement due to user request (SQLSTATE 57014)")
	db := &DB{d: Dialect{Name: "test", Classify: func(err error) Class {
		if errors.Is(err, interrupted) {
			return ClassCanceled
		}
		return ClassOther
	}}}
	for _, driverErr := range []error{interrupted, context.Canceled, fmt.Errorf("begin: %w", context.Canceled), context.DeadlineExceeded} {
		err := db.mapErr("store.InTx", driverErr, domain.KindInvalid)
		if got := domain.KindOf(err); got != domain.KindUnavailable {
			t.Errorf("kind of %v = %v, want %v", driverErr, got, domain.KindUnavailable)
		}
		if !errors.Is(err, driverErr) {
			t.Errorf("the driver's error is not in the chain of %v", err)
		}
	}
}
