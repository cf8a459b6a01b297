// Package domain holds Gatehouse's vocabulary: users, projects, groups,
// memberships, roles, the permission catalog, grants, folder types, folders,
// folder levels, rules, audit events and change-log entries, with the
// validation of each field and the error type every layer shares.
//
// It depends on the standard library only. Rules of docs/model.md are cited by
// number (R1…R29) where the code implements them.
package domain
