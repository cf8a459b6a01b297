package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
)

// versioned is an object answer with its ETag and revision.
type versioned[T any] struct {
	ETag string `header:"ETag"`
	Revisioned
	Body T
}

// ---- roles ----

// RoleBody is a role with the revision of the answer.
type RoleBody struct {
	domain.Role
	Revision int64 `json:"revision,omitempty"`
}

func (a *API) roleOut(ctx context.Context, r domain.Role) *versioned[RoleBody] {
	rev := a.revision(ctx)
	return &versioned[RoleBody]{etag(r.Version), Revisioned{rev}, RoleBody{r, rev}}
}

// CreateRoleRequest creates a custom role.
type CreateRoleRequest struct {
	ID          string       `json:"id,omitempty" maxLength:"200"`
	Name        string       `json:"name" maxLength:"1000"`
	Description string       `json:"description,omitempty" maxLength:"10000"`
	Scope       domain.Scope `json:"scope" enum:"system,project"`
	Permissions []string     `json:"permissions" maxItems:"100"`
}

// UpdateRoleRequest edits a role; absent fields stay.
type UpdateRoleRequest struct {
	Name        *string   `json:"name,omitempty" maxLength:"1000"`
	Description *string   `json:"description,omitempty" maxLength:"10000"`
	Permissions *[]string `json:"permissions,omitempty" maxItems:"100"`
}

type listRolesIn struct {
	ListParams
	Scope string `query:"scope" enum:"system,project,"`
}

// ---- projects ----

// ProjectBody is a project with the revision of the answer.
type ProjectBody struct {
	domain.Project
	Revision int64 `json:"revision,omitempty"`
}

func (a *API) projectOut(ctx context.Context, p domain.Project) *versioned[ProjectBody] {
	rev := a.revision(ctx)
	return &versioned[ProjectBody]{etag(p.Version), Revisioned{rev}, ProjectBody{p, rev}}
}

// CreateProjectRequest creates a project.
type CreateProjectRequest struct {
	ID             string                `json:"id,omitempty" maxLength:"200"`
	Name           string                `json:"name" maxLength:"1000"`
	Description    string                `json:"description,omitempty" maxLength:"10000"`
	MembershipMode domain.MembershipMode `json:"membership_mode,omitempty" enum:"multiple,exclusive" doc:"multiple (default) or exclusive (R23)."`
}

// UpdateProjectRequest edits a project; absent fields stay.
type UpdateProjectRequest struct {
	Name           *string                `json:"name,omitempty" maxLength:"1000"`
	Description    *string                `json:"description,omitempty" maxLength:"10000"`
	MembershipMode *domain.MembershipMode `json:"membership_mode,omitempty" enum:"multiple,exclusive" doc:"Switching to exclusive is refused while users are in several of its groups; the error lists them (R23)."`
}

// GrantsBody lists the grant rows on a project.
type GrantsBody struct {
	Items []domain.ProjectGrant `json:"items"`
}

// ---- folder types and folders ----

// FolderTypeBody is a folder type with the revision of the answer.
type FolderTypeBody struct {
	domain.FolderType
	Revision int64 `json:"revision,omitempty"`
}

func (a *API) folderTypeOut(ctx context.Context, t domain.FolderType) *versioned[FolderTypeBody] {
	rev := a.revision(ctx)
	return &versioned[FolderTypeBody]{etag(t.Version), Revisioned{rev}, FolderTypeBody{t, rev}}
}

// FolderTypeRequest creates or replaces a folder type.
type FolderTypeRequest struct {
	ID         string   `json:"id,omitempty" maxLength:"200"`
	Name       string   `json:"name" maxLength:"1000"`
	Contexts   []string `json:"contexts,omitempty" maxItems:"100" doc:"Security contexts; root is always added."`
	Properties []string `json:"properties,omitempty" maxItems:"100"`
}

// FolderBody is a folder with the revision of the answer.
type FolderBody struct {
	domain.Folder
	Revision int64 `json:"revision,omitempty"`
}

func (a *API) folderOut(ctx context.Context, f domain.Folder) *versioned[FolderBody] {
	rev := a.revision(ctx)
	return &versioned[FolderBody]{etag(f.Version), Revisioned{rev}, FolderBody{f, rev}}
}

// CreateFolderRequest registers a folder.
type CreateFolderRequest struct {
	ID         string            `json:"id,omitempty" maxLength:"200"`
	ParentID   string            `json:"parent_id,omitempty" maxLength:"200"`
	Name       string            `json:"name" maxLength:"1000"`
	TypeID     string            `json:"type_id,omitempty" maxLength:"200" doc:"Default: the built-in type folder."`
	Properties map[string]string `json:"properties,omitempty" maxProperties:"100"`
	ProjectID  string            `json:"project_id,omitempty" maxLength:"200"`
}

// UpdateFolderRequest renames, moves or re-describes a folder; absent fields stay.
type UpdateFolderRequest struct {
	Name       *string            `json:"name,omitempty" maxLength:"1000"`
	ParentID   *string            `json:"parent_id,omitempty" maxLength:"200" doc:"Move under this folder; empty string moves it to the roots. A move below itself is refused."`
	Properties *map[string]string `json:"properties,omitempty" maxProperties:"100" doc:"Replaces the properties."`
}

type listFoldersIn struct {
	ListParams
	ParentID string `query:"parent_id" maxLength:"200" doc:"List this folder's children; empty for the roots."`
}

// LevelsBody lists folder levels.
type LevelsBody struct {
	Items []domain.FolderLevel `json:"items"`
}

type levelIn struct {
	IDPath
	GroupID string `path:"group_id" maxLength:"200"`
	Body    struct {
		Level domain.Level `json:"level" enum:"none,view,download,edit,upload,delete,create_folder,delete_folder" doc:"none is an explicit entry that stops inheritance (R15)."`
	}
}

// LevelBody is a folder level with the revision the change committed at.
type LevelBody struct {
	domain.FolderLevel
	Revision int64 `json:"revision"`
}

// ---- rules ----

// RuleRequest creates or replaces a rule (R10, R16).
type RuleRequest struct {
	ID       string              `json:"id,omitempty" maxLength:"200"`
	Name     string              `json:"name" maxLength:"1000"`
	Criteria []domain.Criterion  `json:"criteria" maxItems:"100" doc:"Joined by AND; the description property cannot be used (R10)."`
	Grants   map[string][]string `json:"grants" maxProperties:"100" doc:"Context → actions (create, read, edit, delete, lock, view_blinded, set_blinded)."`
}

// RuleBody is a rule with the revision of the answer.
type RuleBody struct {
	domain.Rule
	Revision int64 `json:"revision,omitempty"`
}

func (a *API) ruleOut(ctx context.Context, r domain.Rule) *versioned[RuleBody] {
	rev := a.revision(ctx)
	return &versioned[RuleBody]{etag(r.Version), Revisioned{rev}, RuleBody{r, rev}}
}

// RulesBody lists a group's rules.
type RulesBody struct {
	Items []domain.Rule `json:"items"`
}

// ---- audit ----

type auditIn struct {
	ActorID    string    `query:"actor_id" maxLength:"200"`
	TargetKind string    `query:"target_kind" maxLength:"100"`
	TargetID   string    `query:"target_id" maxLength:"200"`
	Action     string    `query:"action" maxLength:"200" doc:"e.g. group.create, group.member_add"`
	Since      time.Time `query:"since" doc:"RFC 3339; inclusive."`
	Until      time.Time `query:"until" doc:"RFC 3339; exclusive."`
	Cursor     string    `query:"cursor" maxLength:"1024"`
	Limit      int       `query:"limit" minimum:"1" maximum:"1000"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) registerResources() {
	api := a.huma
	c := caller

	// Roles.
	huma.Register(api, op("list-roles", http.MethodGet, "/roles", "List roles", "Roles"),
		func(ctx context.Context, in *listRolesIn) (*pageOut[domain.Role], error) {
			q := in.query()
			q.Scope = domain.Scope(in.Scope)
			p, err := a.svc.ListRoles(ctx, c(ctx), q)
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o := op("create-role", http.MethodPost, "/roles", "Create a custom role (R9, R22)", "Roles")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body CreateRoleRequest }) (*versioned[RoleBody], error) {
		b := in.Body
		r, err := a.svc.CreateRole(ctx, c(ctx), domain.Role{ID: b.ID, Name: b.Name, Description: b.Description, Scope: b.Scope, Permissions: nonNil(b.Permissions)})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.roleOut(ctx, r), nil
	})
	huma.Register(api, op("get-role", http.MethodGet, "/roles/{id}", "Get a role", "Roles"),
		func(ctx context.Context, in *IDPath) (*versioned[RoleBody], error) {
			r, err := a.svc.GetRole(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.roleOut(ctx, r), nil
		})
	o = op("update-role", http.MethodPatch, "/roles/{id}", "Edit a role (R9, R22)", "Roles")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body UpdateRoleRequest
	}) (*versioned[RoleBody], error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		r, err := a.svc.UpdateRole(ctx, c(ctx), in.ID, service.RoleUpdate{Name: b.Name, Description: b.Description, Permissions: b.Permissions, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				r, err := a.svc.GetRole(ctx, c(ctx), in.ID)
				return r.Version, err
			})
		}
		return a.roleOut(ctx, r), nil
	})
	o = op("delete-role", http.MethodDelete, "/roles/{id}", "Delete a role (R7: refused while assigned, listing the holders)", "Roles")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
	}) (*RevisionOut, error) {
		if err := a.checkIfMatch(in.IfMatch, func() (int64, error) {
			r, err := a.svc.GetRole(ctx, c(ctx), in.ID)
			return r.Version, err
		}); err != nil {
			return nil, err
		}
		if err := a.svc.DeleteRole(ctx, c(ctx), in.ID); err != nil {
			return nil, a.problemAt(err, "id", "path.id")
		}
		return a.revisionOut(ctx), nil
	})

	// Projects.
	huma.Register(api, op("list-projects", http.MethodGet, "/projects", "List projects", "Projects"),
		func(ctx context.Context, in *struct{ ListParams }) (*pageOut[domain.Project], error) {
			p, err := a.svc.ListProjects(ctx, c(ctx), in.query())
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o = op("create-project", http.MethodPost, "/projects", "Create a project", "Projects")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body CreateProjectRequest }) (*versioned[ProjectBody], error) {
		b := in.Body
		if b.MembershipMode == "" {
			b.MembershipMode = domain.ModeMultiple
		}
		p, err := a.svc.CreateProject(ctx, c(ctx), domain.Project{ID: b.ID, Name: b.Name, Description: b.Description, MembershipMode: b.MembershipMode})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.projectOut(ctx, p), nil
	})
	huma.Register(api, op("get-project", http.MethodGet, "/projects/{id}", "Get a project", "Projects"),
		func(ctx context.Context, in *IDPath) (*versioned[ProjectBody], error) {
			p, err := a.svc.GetProject(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.projectOut(ctx, p), nil
		})
	o = op("update-project", http.MethodPatch, "/projects/{id}", "Edit a project (membership_mode: R23)", "Projects")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body UpdateProjectRequest
	}) (*versioned[ProjectBody], error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		p, err := a.svc.UpdateProject(ctx, c(ctx), in.ID, service.ProjectUpdate{Name: b.Name, Description: b.Description, MembershipMode: b.MembershipMode, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				p, err := a.svc.GetProject(ctx, c(ctx), in.ID)
				return p.Version, err
			})
		}
		return a.projectOut(ctx, p), nil
	})
	o = op("delete-project", http.MethodDelete, "/projects/{id}", "Delete a project with its groups and grants", "Projects")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
	}) (*RevisionOut, error) {
		if err := a.checkIfMatch(in.IfMatch, func() (int64, error) {
			p, err := a.svc.GetProject(ctx, c(ctx), in.ID)
			return p.Version, err
		}); err != nil {
			return nil, err
		}
		if err := a.svc.DeleteProject(ctx, c(ctx), in.ID); err != nil {
			return nil, a.problemAt(err, "id", "path.id")
		}
		return a.revisionOut(ctx), nil
	})
	huma.Register(api, op("list-project-grants", http.MethodGet, "/projects/{id}/grants", "Who is a member of a project, with which rights", "Projects"),
		func(ctx context.Context, in *IDPath) (*struct{ Body GrantsBody }, error) {
			gs, err := a.svc.ListProjectGrants(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body GrantsBody }{GrantsBody{nonNil(gs)}}, nil
		})

	// Folder types.
	huma.Register(api, op("list-folder-types", http.MethodGet, "/folder-types", "List folder types", "Folders"),
		func(ctx context.Context, _ *struct{}) (*struct{ Body Page[domain.FolderType] }, error) {
			ts, err := a.svc.ListFolderTypes(ctx, c(ctx))
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body Page[domain.FolderType] }{Page[domain.FolderType]{Items: nonNil(ts)}}, nil
		})
	huma.Register(api, op("get-folder-type", http.MethodGet, "/folder-types/{id}", "Get a folder type", "Folders"),
		func(ctx context.Context, in *IDPath) (*versioned[FolderTypeBody], error) {
			t, err := a.svc.GetFolderType(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.folderTypeOut(ctx, t), nil
		})
	o = op("create-folder-type", http.MethodPost, "/folder-types", "Create a folder type", "Folders")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body FolderTypeRequest }) (*versioned[FolderTypeBody], error) {
		b := in.Body
		t, err := a.svc.CreateFolderType(ctx, c(ctx), domain.FolderType{ID: b.ID, Name: b.Name, Contexts: b.Contexts, Properties: b.Properties})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.folderTypeOut(ctx, t), nil
	})
	o = op("update-folder-type", http.MethodPut, "/folder-types/{id}", "Rename a folder type or add contexts and properties", "Folders")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body FolderTypeRequest
	}) (*versioned[FolderTypeBody], error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		t, err := a.svc.UpdateFolderType(ctx, c(ctx), in.ID, domain.FolderType{Name: b.Name, Contexts: b.Contexts, Properties: b.Properties, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				ts, err := a.svc.ListFolderTypes(ctx, c(ctx))
				for _, t := range ts {
					if t.ID == in.ID {
						return t.Version, err
					}
				}
				return want, err
			})
		}
		return a.folderTypeOut(ctx, t), nil
	})
	o = op("delete-folder-type", http.MethodDelete, "/folder-types/{id}", "Delete an unused folder type", "Folders")
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *IDPath) (*RevisionOut, error) {
		if err := a.svc.DeleteFolderType(ctx, c(ctx), in.ID); err != nil {
			return nil, a.problemAt(err, "id", "path.id")
		}
		return a.revisionOut(ctx), nil
	})

	// Folders.
	huma.Register(api, op("list-folders", http.MethodGet, "/folders", "List a folder's children (or the roots)", "Folders"),
		func(ctx context.Context, in *listFoldersIn) (*pageOut[domain.Folder], error) {
			p, err := a.svc.ListFolders(ctx, c(ctx), in.ParentID, in.query())
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
	o = op("create-folder", http.MethodPost, "/folders", "Register a folder", "Folders")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct{ Body CreateFolderRequest }) (*versioned[FolderBody], error) {
		b := in.Body
		if b.TypeID == "" {
			b.TypeID = domain.FolderTypeFolderID
		}
		f, err := a.svc.CreateFolder(ctx, c(ctx), domain.Folder{ID: b.ID, ParentID: b.ParentID, Name: b.Name, TypeID: b.TypeID, Properties: b.Properties, ProjectID: b.ProjectID})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.folderOut(ctx, f), nil
	})
	huma.Register(api, op("get-folder", http.MethodGet, "/folders/{id}", "Get a folder", "Folders"),
		func(ctx context.Context, in *IDPath) (*versioned[FolderBody], error) {
			f, err := a.svc.GetFolder(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.folderOut(ctx, f), nil
		})
	o = op("update-folder", http.MethodPatch, "/folders/{id}", "Rename, move or set the properties of a folder", "Folders")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body UpdateFolderRequest
	}) (*versioned[FolderBody], error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		f, err := a.svc.UpdateFolder(ctx, c(ctx), in.ID, service.FolderUpdate{Name: b.Name, ParentID: b.ParentID, Properties: b.Properties, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				f, err := a.svc.GetFolder(ctx, c(ctx), in.ID)
				return f.Version, err
			})
		}
		return a.folderOut(ctx, f), nil
	})
	o = op("delete-folder", http.MethodDelete, "/folders/{id}", "Delete a folder and its subtree", "Folders")
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
	}) (*RevisionOut, error) {
		if err := a.checkIfMatch(in.IfMatch, func() (int64, error) {
			f, err := a.svc.GetFolder(ctx, c(ctx), in.ID)
			return f.Version, err
		}); err != nil {
			return nil, err
		}
		if err := a.svc.DeleteFolder(ctx, c(ctx), in.ID); err != nil {
			return nil, a.problemAt(err, "id", "path.id")
		}
		return a.revisionOut(ctx), nil
	})

	// Folder levels.
	huma.Register(api, op("list-folder-levels", http.MethodGet, "/folders/{id}/levels", "List the group levels set on a folder", "Folders"),
		func(ctx context.Context, in *IDPath) (*struct{ Body LevelsBody }, error) {
			ls, err := a.svc.ListFolderLevels(ctx, c(ctx), in.ID, "")
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body LevelsBody }{LevelsBody{nonNil(ls)}}, nil
		})
	huma.Register(api, op("list-group-folder-levels", http.MethodGet, "/groups/{id}/folder-levels", "List the folder levels a group holds", "Groups"),
		func(ctx context.Context, in *IDPath) (*struct{ Body LevelsBody }, error) {
			ls, err := a.svc.ListFolderLevels(ctx, c(ctx), "", in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body LevelsBody }{LevelsBody{nonNil(ls)}}, nil
		})
	huma.Register(api, op("set-folder-level", http.MethodPut, "/folders/{id}/levels/{group_id}", "Set a group's level on a folder (R15, R22)", "Folders"),
		func(ctx context.Context, in *levelIn) (*struct {
			Revisioned
			Body LevelBody
		}, error) {
			l, err := a.svc.SetFolderLevel(ctx, c(ctx), in.ID, in.GroupID, in.Body.Level)
			if err != nil {
				return nil, a.problem(err)
			}
			rev := a.revision(ctx)
			return &struct {
				Revisioned
				Body LevelBody
			}{Revisioned{rev}, LevelBody{l, rev}}, nil
		})
	huma.Register(api, op("delete-folder-level", http.MethodDelete, "/folders/{id}/levels/{group_id}", "Remove a group's entry on a folder (the level inherits again)", "Folders"),
		func(ctx context.Context, in *struct {
			IDPath
			GroupID string `path:"group_id" maxLength:"200"`
		}) (*RevisionOut, error) {
			if err := a.svc.DeleteFolderLevel(ctx, c(ctx), in.ID, in.GroupID); err != nil {
				return nil, a.problem(err)
			}
			return a.revisionOut(ctx), nil
		})

	// Rules.
	huma.Register(api, op("list-rules", http.MethodGet, "/groups/{id}/rules", "List a group's rules", "Rules"),
		func(ctx context.Context, in *IDPath) (*struct{ Body RulesBody }, error) {
			rs, err := a.svc.ListRules(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return &struct{ Body RulesBody }{RulesBody{nonNil(rs)}}, nil
		})
	o = op("create-rule", http.MethodPost, "/groups/{id}/rules", "Add a rule to a group (R10, R16, R22)", "Rules")
	o.DefaultStatus = http.StatusCreated
	o.Errors = append(o.Errors, http.StatusConflict)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		Body RuleRequest
	}) (*versioned[RuleBody], error) {
		b := in.Body
		r, err := a.svc.CreateRule(ctx, c(ctx), domain.Rule{ID: b.ID, GroupID: in.ID, Name: b.Name, Criteria: b.Criteria, Grants: b.Grants})
		if err != nil {
			return nil, a.problem(err)
		}
		return a.ruleOut(ctx, r), nil
	})
	huma.Register(api, op("get-rule", http.MethodGet, "/rules/{id}", "Get a rule", "Rules"),
		func(ctx context.Context, in *IDPath) (*versioned[RuleBody], error) {
			r, err := a.svc.GetRule(ctx, c(ctx), in.ID)
			if err != nil {
				return nil, a.problem(err)
			}
			return a.ruleOut(ctx, r), nil
		})
	o = op("update-rule", http.MethodPut, "/rules/{id}", "Replace a rule's name, criteria and matrix", "Rules")
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusPreconditionFailed)
	huma.Register(api, o, func(ctx context.Context, in *struct {
		IDPath
		IfMatchHeader
		Body RuleRequest
	}) (*versioned[RuleBody], error) {
		want, err := ifMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		b := in.Body
		r, err := a.svc.UpdateRule(ctx, c(ctx), in.ID, domain.Rule{Name: b.Name, Criteria: b.Criteria, Grants: b.Grants, Version: want})
		if err != nil {
			return nil, a.staleOr(err, want, func() (int64, error) {
				r, err := a.svc.GetRule(ctx, c(ctx), in.ID)
				return r.Version, err
			})
		}
		return a.ruleOut(ctx, r), nil
	})
	huma.Register(api, op("delete-rule", http.MethodDelete, "/rules/{id}", "Delete a rule", "Rules"),
		func(ctx context.Context, in *IDPath) (*RevisionOut, error) {
			if err := a.svc.DeleteRule(ctx, c(ctx), in.ID); err != nil {
				return nil, a.problemAt(err, "id", "path.id")
			}
			return a.revisionOut(ctx), nil
		})

	// Audit log.
	huma.Register(api, op("list-audit", http.MethodGet, "/audit", "The audit log, newest first (audit.view)", "Audit"),
		func(ctx context.Context, in *auditIn) (*pageOut[domain.AuditEvent], error) {
			p, err := a.svc.ListAudit(ctx, c(ctx), service.AuditQuery{ActorID: in.ActorID, TargetKind: in.TargetKind, TargetID: in.TargetID,
				Action: in.Action, Since: in.Since, Until: in.Until, Cursor: in.Cursor, Limit: in.Limit})
			if err != nil {
				return nil, a.problem(err)
			}
			return pageOf(ctx, p), nil
		})
}
