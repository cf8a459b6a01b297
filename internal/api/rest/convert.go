package rest

import (
	"github.com/gatehouse/gatehouse/internal/authn"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// The API answers with pkg/gatehouse/api's types only: each domain or
// service value is copied into its API type here, field by field, so that
// renaming a field inside the server fails to compile instead of changing
// the API (or the API changing with the change log's encoding).

func apiUser(u domain.User) api.User {
	return api.User{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Status: string(u.Status),
		Source: string(u.Source), ExternalID: u.ExternalID, SystemRoleID: u.SystemRoleID, ShowPersonalInfo: u.ShowPersonalInfo,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version}
}

func apiGroup(g domain.Group) api.Group {
	return api.Group{ID: g.ID, Name: g.Name, Description: g.Description, Scope: string(g.Scope), ProjectID: g.ProjectID,
		Builtin: string(g.Builtin), ExternalID: g.ExternalID, SystemRoleID: g.SystemRoleID, SystemPermissions: g.SystemPermissions,
		DefaultProjectRoleID: g.DefaultProjectRoleID, DefaultProjectPermissions: g.DefaultProjectPermissions,
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, Version: g.Version}
}

func apiRole(r domain.Role) api.Role {
	return api.Role{ID: r.ID, Name: r.Name, Description: r.Description, Scope: string(r.Scope), Permissions: r.Permissions,
		Builtin: r.Builtin, Editable: r.Editable, Deletable: r.Deletable, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

func apiProject(p domain.Project) api.Project {
	return api.Project{ID: p.ID, Name: p.Name, Description: p.Description, MembershipMode: string(p.MembershipMode),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version}
}

func apiGrant(g domain.ProjectGrant) api.ProjectGrant {
	return api.ProjectGrant{ProjectID: g.ProjectID, SubjectKind: string(g.SubjectKind), SubjectID: g.SubjectID,
		RoleID: g.RoleID, Permissions: g.Permissions, UpdatedAt: g.UpdatedAt}
}

func apiFolderType(t domain.FolderType) api.FolderType {
	return api.FolderType{ID: t.ID, Name: t.Name, Contexts: t.Contexts, Properties: t.Properties,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

func apiFolder(f domain.Folder) api.Folder {
	return api.Folder{ID: f.ID, ParentID: f.ParentID, Name: f.Name, TypeID: f.TypeID, Properties: f.Properties,
		ProjectID: f.ProjectID, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, Version: f.Version}
}

func apiLevel(l domain.FolderLevel) api.FolderLevel {
	return api.FolderLevel{FolderID: l.FolderID, GroupID: l.GroupID, Level: l.Level.String()}
}

func apiRule(r domain.Rule) api.Rule {
	var cs []api.Criterion
	if r.Criteria != nil {
		cs = make([]api.Criterion, len(r.Criteria))
		for i, c := range r.Criteria {
			cs[i] = api.Criterion{FolderTypeID: c.FolderTypeID, Property: c.Property, Operator: string(c.Operator), Value: c.Value, Values: c.Values}
		}
	}
	return api.Rule{ID: r.ID, GroupID: r.GroupID, Name: r.Name, Criteria: cs, Grants: r.Grants,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

// domainCriteria is the inverse of apiRule's criteria, for the rule requests.
func domainCriteria(cs []api.Criterion) []domain.Criterion {
	if cs == nil {
		return nil
	}
	out := make([]domain.Criterion, len(cs))
	for i, c := range cs {
		out[i] = domain.Criterion{FolderTypeID: c.FolderTypeID, Property: c.Property, Operator: domain.Operator(c.Operator), Value: c.Value, Values: c.Values}
	}
	return out
}

func apiAuditEvent(e domain.AuditEvent) api.AuditEvent {
	return api.AuditEvent{ID: e.ID, Revision: e.Revision, At: e.At, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		TargetKind: e.TargetKind, TargetID: e.TargetID, Outcome: string(e.Outcome), Before: e.Before, After: e.After,
		Detail: e.Detail, RemoteAddr: e.RemoteAddr}
}

func apiToken(t domain.APIToken) api.APIToken {
	return api.APIToken{ID: t.ID, UserID: t.UserID, Name: t.Name, Permissions: t.Permissions, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func apiNewToken(nt authn.NewToken) api.NewToken {
	return api.NewToken{Secret: nt.Secret, Token: apiToken(nt.Token)}
}

func apiMemberRow(m service.MemberRow) api.MemberRow {
	var cgs []api.CurrentGroup
	if m.CurrentGroups != nil {
		cgs = make([]api.CurrentGroup, len(m.CurrentGroups))
		for i, g := range m.CurrentGroups {
			cgs[i] = api.CurrentGroup{ProjectID: g.ProjectID, GroupID: g.GroupID, GroupName: g.GroupName}
		}
	}
	return api.MemberRow{User: apiUser(m.User), Member: m.Member, ExpiresAt: m.ExpiresAt, RoleID: m.RoleID,
		RoleName: m.RoleName, Email: m.Email, CurrentGroups: cgs, Through: m.Through}
}

func apiGroupMemberRow(r service.GroupMemberRow) api.GroupMemberRow {
	m := r.Membership
	return api.GroupMemberRow{Group: apiGroup(r.Group), Membership: api.GroupMembership{GroupID: m.GroupID,
		MemberGroupID: m.MemberGroupID, ExpiresAt: m.ExpiresAt, CreatedAt: m.CreatedAt}}
}

func apiUserProjects(ups []service.UserProject) []api.UserProject {
	var out []api.UserProject
	for _, d := range ups {
		out = append(out, api.UserProject{UserID: d.UserID, ProjectID: d.ProjectID})
	}
	return out
}

// apiProjectRefs keeps nil as nil; the answers that promise an array
// say so with nonNil.
func apiProjectRefs(ps []service.ProjectRef) []api.ProjectRef {
	if ps == nil {
		return nil
	}
	out := make([]api.ProjectRef, len(ps))
	for i, p := range ps {
		out[i] = api.ProjectRef{ID: p.ID, Name: p.Name}
	}
	return out
}

func apiWebhook(w domain.Webhook) api.Webhook {
	st := w.State
	return api.Webhook{ID: w.ID, Name: w.Name, URL: w.URL, Filter: apiWebhookFilter(w.Filter), Active: w.Active, OwnerID: w.OwnerID,
		State:     api.WebhookState{Cursor: st.Cursor, Failing: st.Failing, LastError: st.LastError, FailedAt: st.FailedAt},
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Version: w.Version}
}

func apiWebhookFilter(f domain.WebhookFilter) api.WebhookFilter {
	return api.WebhookFilter{Entity: f.Entity, Action: f.Action, GroupID: f.GroupID, ProjectID: f.ProjectID, UserID: f.UserID}
}

// domainWebhookFilter is the inverse of apiWebhookFilter, for the
// webhook requests.
func domainWebhookFilter(f api.WebhookFilter) domain.WebhookFilter {
	return domain.WebhookFilter{Entity: f.Entity, Action: f.Action, GroupID: f.GroupID, ProjectID: f.ProjectID, UserID: f.UserID}
}

func apiWebhookAttempt(d domain.WebhookDelivery) api.WebhookAttempt {
	return api.WebhookAttempt{ID: d.ID, WebhookID: d.WebhookID, At: d.At, FromRevision: d.From, ToRevision: d.To, Changes: d.Changes,
		Attempt: d.Attempt, StatusCode: d.StatusCode, LatencyMS: d.LatencyMS, OK: d.OK, Error: d.Error, Ping: d.Ping}
}

// apiList converts every item of a list, nil as [] (the answers' items
// are always an array).
func apiList[T, U any](items []T, conv func(T) U) []U {
	out := make([]U, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	return out
}
