package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Folder types: /folder-types and /folder-types/{id}.

func (a *API) folderTypeRoutes() []route {
	const tag = "Folders"
	return []route{
		handle(op("list-folder-types", http.MethodGet, "/folder-types", "List folder types", tag), a.listFolderTypes),
		handle(op("get-folder-type", http.MethodGet, "/folder-types/{id}", "Get a folder type", tag), a.getFolderType),
		handle(created(op("create-folder-type", http.MethodPost, "/folder-types", "Create a folder type", tag)), a.createFolderType),
		handle(withErrors(op("update-folder-type", http.MethodPut, "/folder-types/{id}", "Rename a folder type or add contexts and properties", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateFolderType),
		handle(withErrors(op("delete-folder-type", http.MethodDelete, "/folder-types/{id}", "Delete an unused folder type", tag),
			http.StatusConflict), a.deleteFolderType),
	}
}

type folderTypeOut = versioned[api.FolderTypeBody]

func (a *API) folderTypeOut(committed int64, t domain.FolderType) *folderTypeOut {
	rev := a.revision(committed)
	return withETag(t.Version, rev, api.FolderTypeBody{FolderType: apiFolderType(t), Revision: rev})
}

func (a *API) listFolderTypes(ctx context.Context, _ *struct{}) (*itemsOut[api.Page[api.FolderType]], error) {
	ts, err := a.svc.ListFolderTypes(ctx, caller(ctx))
	if err != nil {
		return nil, a.problem(err)
	}
	return &itemsOut[api.Page[api.FolderType]]{api.Page[api.FolderType]{Items: apiList(ts, apiFolderType)}}, nil
}

func (a *API) getFolderType(ctx context.Context, in *IDPath) (*folderTypeOut, error) {
	t, err := a.svc.GetFolderType(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.folderTypeOut(0, t), nil
}

func (a *API) createFolderType(ctx context.Context, in *bodyIn[api.FolderTypeRequest]) (*folderTypeOut, error) {
	b := in.Body
	t, rev, err := a.svc.CreateFolderType(ctx, caller(ctx), domain.FolderType{ID: b.ID, Name: b.Name, Contexts: b.Contexts, Properties: b.Properties})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.folderTypeOut(rev, t), nil
}

func (a *API) updateFolderType(ctx context.Context, in *versionedIn[api.FolderTypeRequest]) (*folderTypeOut, error) {
	b := in.Body
	t, rev, err := updateVersioned(a, in.IfMatch, a.folderTypeVersion(ctx, in.ID), func(version int64) (domain.FolderType, int64, error) {
		return a.svc.UpdateFolderType(ctx, caller(ctx), in.ID, domain.FolderType{Name: b.Name, Contexts: b.Contexts, Properties: b.Properties, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.folderTypeOut(rev, t), nil
}

// folderTypeVersion reads a folder type's version from the list the
// caller sees; one not there is not found (the write's own error then
// stands).
func (a *API) folderTypeVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		ts, err := a.svc.ListFolderTypes(ctx, caller(ctx))
		for _, t := range ts {
			if t.ID == id {
				return t.Version, err
			}
		}
		if err == nil {
			err = domain.E("rest.folderTypeVersion", domain.KindNotFound)
		}
		return 0, err
	}
}

func (a *API) deleteFolderType(ctx context.Context, in *IDPath) (*RevisionOut, error) {
	rev, err := a.svc.DeleteFolderType(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}
