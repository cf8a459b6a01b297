// Package service holds Gatehouse's administrative use cases and the
// invariants of docs/model.md section 8 (R21–R29). It is the only writer: every
// transport (REST, SCIM, console, CLI) calls it, and it checks the caller
// on every operation rather than trusting a transport's middleware.
//
// Each write use case
//
//   - authorizes the caller (a domain.Principal) through the engine, with
//     the caller as subject: R21 says who may act, R22 bounds what they may
//     grant or take away (see docs/decisions.md, "Delegated administration");
//   - validates the input with the domain's validation plus the checks that
//     need the store (role scopes, folder type contexts and properties,
//     presence of groups in projects, R23's exclusivity);
//   - writes the change and its audit record (actor, action, target, before
//     and after, outcome) in one store.InTx, so a failure leaves nothing;
//   - brings the engine up to the committed revision (Follower.CatchUp)
//     before returning, so a check right after a write sees it.
//
// A refusal for lack of permission rolls the write back, is audited on its
// own with OutcomeDenied, and returns a KindForbidden error naming the
// missing permission; an object the caller may not see is KindNotFound.
//
// Follower owns the engine: built from a snapshot, advanced from the change
// log in revision order whatever order commits return in.
//
// It imports the store contract and the engine, never net/http or a
// database driver; a test enforces this.
package service
