package rest

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Folders: /folders, /folders/{id}, and the group levels set on them
// (/folders/{id}/levels, /groups/{id}/folder-levels).

func (a *API) folderRoutes() []route {
	const tag = "Folders"
	return []route{
		handle(op("list-folders", http.MethodGet, "/folders", "List a folder's children (or the roots)", tag), a.listFolders),
		handle(created(op("create-folder", http.MethodPost, "/folders", "Register a folder", tag)), a.createFolder),
		handle(op("get-folder", http.MethodGet, "/folders/{id}", "Get a folder", tag), a.getFolder),
		handle(withErrors(op("update-folder", http.MethodPatch, "/folders/{id}", "Rename, move or set the properties of a folder", tag),
			http.StatusConflict, http.StatusPreconditionFailed), a.updateFolder),
		handle(withErrors(op("delete-folder", http.MethodDelete, "/folders/{id}", "Delete a folder and its subtree", tag),
			http.StatusPreconditionFailed), a.deleteFolder),
		handle(op("list-folder-levels", http.MethodGet, "/folders/{id}/levels", "List the group levels set on a folder", tag), a.listFolderLevels),
		handle(op("list-group-folder-levels", http.MethodGet, "/groups/{id}/folder-levels", "List the folder levels a group holds", "Groups"), a.listGroupFolderLevels),
		handle(op("set-folder-level", http.MethodPut, "/folders/{id}/levels/{group_id}", "Set a group's level on a folder (R15, R22)", tag), a.setFolderLevel),
		handle(op("delete-folder-level", http.MethodDelete, "/folders/{id}/levels/{group_id}", "Remove a group's entry on a folder (the level inherits again)", tag),
			a.deleteFolderLevel),
	}
}

type folderOut = versioned[api.FolderBody]

func (a *API) folderOut(committed int64, f domain.Folder) *folderOut {
	rev := a.revision(committed)
	return withETag(f.Version, rev, api.FolderBody{Folder: apiFolder(f), Revision: rev})
}

func (a *API) folderVersion(ctx context.Context, id string) versionOf {
	return func() (int64, error) {
		f, err := a.svc.GetFolder(ctx, caller(ctx), id)
		return f.Version, err
	}
}

type listFoldersIn struct {
	ListParams
	ParentID string `query:"parent_id" maxLength:"200" doc:"List this folder's children; empty for the roots."`
}

func (a *API) listFolders(ctx context.Context, in *listFoldersIn) (*pageOut[api.Folder], error) {
	p, err := a.svc.ListFolders(ctx, caller(ctx), in.ParentID, in.query())
	if err != nil {
		return nil, a.problem(err)
	}
	return pageOf(a, in.r, p, apiFolder), nil
}

func (a *API) createFolder(ctx context.Context, in *bodyIn[api.CreateFolderRequest]) (*folderOut, error) {
	b := in.Body
	if b.TypeID == "" {
		b.TypeID = domain.FolderTypeFolderID
	}
	f, rev, err := a.svc.CreateFolder(ctx, caller(ctx), domain.Folder{ID: b.ID, ParentID: b.ParentID, Name: b.Name, TypeID: b.TypeID, Properties: b.Properties, ProjectID: b.ProjectID})
	if err != nil {
		return nil, a.problem(err)
	}
	return a.folderOut(rev, f), nil
}

func (a *API) getFolder(ctx context.Context, in *IDPath) (*folderOut, error) {
	f, err := a.svc.GetFolder(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.folderOut(0, f), nil
}

func (a *API) updateFolder(ctx context.Context, in *versionedIn[api.UpdateFolderRequest]) (*folderOut, error) {
	b := in.Body
	f, rev, err := updateVersioned(a, in.IfMatch, a.folderVersion(ctx, in.ID), func(version int64) (domain.Folder, int64, error) {
		return a.svc.UpdateFolder(ctx, caller(ctx), in.ID, service.FolderUpdate{Name: b.Name, ParentID: b.ParentID, Properties: b.Properties, Version: version})
	})
	if err != nil {
		return nil, err
	}
	return a.folderOut(rev, f), nil
}

func (a *API) deleteFolder(ctx context.Context, in *idIfMatchIn) (*RevisionOut, error) {
	if err := a.checkIfMatch(in.IfMatch, a.folderVersion(ctx, in.ID)); err != nil {
		return nil, err
	}
	rev, err := a.svc.DeleteFolder(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.problemAt(err, "id", "path.id")
	}
	return a.revisionOut(rev), nil
}

func (a *API) levelsOut(ls []domain.FolderLevel, err error) (*itemsOut[api.LevelsBody], error) {
	if err != nil {
		return nil, a.problem(err)
	}
	return &itemsOut[api.LevelsBody]{api.LevelsBody{Items: apiList(ls, apiLevel)}}, nil
}

func (a *API) listFolderLevels(ctx context.Context, in *IDPath) (*itemsOut[api.LevelsBody], error) {
	return a.levelsOut(a.svc.ListFolderLevels(ctx, caller(ctx), in.ID, ""))
}

func (a *API) listGroupFolderLevels(ctx context.Context, in *IDPath) (*itemsOut[api.LevelsBody], error) {
	return a.levelsOut(a.svc.ListFolderLevels(ctx, caller(ctx), "", in.ID))
}

// folderGroupIn is a folder and a group in the path.
type folderGroupIn struct {
	IDPath
	GroupID string `path:"group_id" maxLength:"200"`
}

type levelIn struct {
	IDPath
	GroupID string `path:"group_id" maxLength:"200"`
	Body    api.LevelRequest
}

func (a *API) setFolderLevel(ctx context.Context, in *levelIn) (*bodyOut[api.LevelBody], error) {
	var level domain.Level
	if err := level.UnmarshalText([]byte(in.Body.Level)); err != nil {
		return nil, a.problem(domain.E("rest.level", domain.KindInvalid, domain.FieldError{Field: "level", Message: err.Error()}))
	}
	l, rev, err := a.svc.SetFolderLevel(ctx, caller(ctx), in.ID, in.GroupID, level)
	if err != nil {
		return nil, a.problem(err)
	}
	rev = a.revision(rev)
	return &bodyOut[api.LevelBody]{Revisioned{rev}, api.LevelBody{FolderLevel: apiLevel(l), Revision: rev}}, nil
}

func (a *API) deleteFolderLevel(ctx context.Context, in *folderGroupIn) (*RevisionOut, error) {
	rev, err := a.svc.DeleteFolderLevel(ctx, caller(ctx), in.ID, in.GroupID)
	if err != nil {
		return nil, a.problem(err)
	}
	return a.revisionOut(rev), nil
}
