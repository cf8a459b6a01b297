// Package webhook delivers the change feed to webhook subscriptions
// (docs/integrating.md, "Webhooks"): the outbound policy that keeps
// deliveries off internal networks (docs/security.md, "Outbound
// requests"), the signed POST of a batch of changes, and the worker that
// delivers each subscription in revision order, at least once, from one
// replica at a time.
package webhook
