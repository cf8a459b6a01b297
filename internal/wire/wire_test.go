package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Every field of a change reaches the API's type, and an empty page stays
// nil ("changes": null, as the feed has always answered).
func TestFeedChangesCopiesEveryField(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	in := []service.FeedChange{{Revision: 9, At: at, ActorID: "u1", Actions: []string{"user.update"},
		Objects: []service.FeedObject{{Entity: domain.EntityUser, ID: "u2", Op: domain.OpPut,
			Before: json.RawMessage(`{"a":1}`), After: json.RawMessage(`{"a":2}`)}}}}
	want := []api.FeedChange{{Revision: 9, At: at, ActorID: "u1", Actions: []string{"user.update"},
		Objects: []api.FeedObject{{Entity: "user", ID: "u2", Op: "put", Before: json.RawMessage(`{"a":1}`), After: json.RawMessage(`{"a":2}`)}}}}
	if got := FeedChanges(in); !reflect.DeepEqual(got, want) {
		t.Errorf("FeedChanges = %+v, want %+v", got, want)
	}
	if got := FeedChanges(nil); got != nil {
		t.Errorf("FeedChanges(nil) = %#v, want nil", got)
	}
	if got := FeedChange(service.FeedChange{Revision: 1}); got.Objects != nil {
		t.Errorf("no objects became %#v, want nil", got.Objects)
	}
}
