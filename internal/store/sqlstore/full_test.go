package sqlstore

import (
	"errors"
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
