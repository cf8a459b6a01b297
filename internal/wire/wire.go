// Package wire converts the service's values to the API's types
// (pkg/gatehouse/api) where more than one transport encodes them: the
// change feed's changes, which REST answers (GET /api/v1/changes) and
// webhook deliveries POST. The other conversions live with their one
// transport (internal/api/rest/convert.go).
//
// The conversion is field by field so that renaming a service field fails
// to compile instead of changing what consumers receive.
package wire

import (
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// FeedChange is a change of the feed as the API shows it.
func FeedChange(ch service.FeedChange) api.FeedChange {
	var objs []api.FeedObject
	if ch.Objects != nil {
		objs = make([]api.FeedObject, len(ch.Objects))
		for i, o := range ch.Objects {
			objs[i] = api.FeedObject{Entity: string(o.Entity), ID: o.ID, Op: string(o.Op), Before: o.Before, After: o.After}
		}
	}
	return api.FeedChange{Revision: ch.Revision, Mark: ch.Mark, At: ch.At, ActorID: ch.ActorID, Actions: ch.Actions, Objects: objs}
}

// FeedChanges converts a page's changes, keeping nil as nil (the feed's
// answer says "changes": null for no change read, as it always has).
func FeedChanges(chs []service.FeedChange) []api.FeedChange {
	if chs == nil {
		return nil
	}
	out := make([]api.FeedChange, len(chs))
	for i, ch := range chs {
		out[i] = FeedChange(ch)
	}
	return out
}
