// Package gatehouse is the client an application uses to ask a Gatehouse
// server what its users may do: check, batch check, explain, and the list
// queries of the REST API (/api/v1), plus a net/http middleware that
// refuses a request with 403 when the check says no.
//
// It is Gatehouse's one Go client: the gatehouse command line, `gatehouse
// apply` and the examples use it too. It depends on the standard library
// and on its API types, pkg/gatehouse/api (the bodies the server encodes),
// only, so an application can import it without pulling in the server.
//
// # Administration
//
// Every administrative operation of the API has a typed method over the
// bodies of pkg/gatehouse/api: Login and Logout (the session cookie is
// kept in the client's cookie jar), tokens, users, groups and members,
// roles, projects, folder types, folders and their levels, rules, the
// audit log. A write answers with the object and the revision it
// committed at (api.UserBody.Revision and the like); an update of a
// versioned object takes the version it read, sent as If-Match, so that it
// fails with 412 (IsConflict) when the object changed since. Revision is
// the highest revision the client has been answered with.
//
// # Client
//
// A Client is made once and shared: it is safe for concurrent use and
// keeps its connections to the server open between calls (keep-alive,
// up to 64 idle connections to the server), so a check costs one round
// trip. It authenticates with an API token (WithToken); without one it
// asks as an anonymous caller, which may only ask about itself.
//
//	gh, err := gatehouse.New("http://127.0.0.1:8080", gatehouse.WithToken(os.Getenv("GATEHOUSE_TOKEN")))
//	d, err := gh.Check(ctx, gatehouse.CheckRequest{
//		Subject:    gatehouse.User(userID),
//		Permission: "root.read",
//		Resource:   gatehouse.Folder(folderID),
//	})
//	if err != nil { /* fail closed: treat as "no" */ }
//	if d.Allowed { ... }
//
// # Consistency
//
// Every answer carries the revision of the data it was computed on
// (Decision.Revision and the like), and every write to Gatehouse answers
// with the revision it committed at (Do returns it). To make sure a
// check sees a write that just happened, possibly through another
// replica, set AtLeast to that revision: the server waits until it has
// caught up, up to Wait (default two seconds), and otherwise answers 503
// (an *Error for which IsUnavailable is true). Without AtLeast a check
// answers at once on whatever the server has, which is what most checks
// want.
//
// # Errors
//
// Every refusal and every failure to get an answer is an *Error: either
// Gatehouse's refusal, with the
// status and the RFC 9457 problem document it answered with (Kind,
// Detail, the fields at fault), or no answer at all (Status 0: the
// server could not be reached or the call timed out, with the cause in
// Unwrap). IsUnavailable, IsForbidden, IsNotFound, IsUnauthenticated and
// IsInvalid classify them. An application should treat any error from a
// check as a refusal (fail closed); Middleware does.
//
// # Timeouts and retries
//
// Each call is bounded by WithTimeout (default 5 s), to which an AtLeast
// wait is added, whatever the caller's context allows. The read-only
// calls (checks, explain, lists) are retried when WithRetries asks for
// it, only when the server is unavailable (502, 503, 504, or no answer),
// with a short, bounded, jittered backoff. Retries are off by default:
// a check sits in the path of a user's request, and a quick 503 is
// usually better than a slow one.
package gatehouse
