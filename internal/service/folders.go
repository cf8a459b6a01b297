package service

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Folder types and folders are registered by applications, whose API
// tokens hold files.admin: the folder tree is the applications' data, and
// files.admin is the permission that already means "every folder".

func (p *perms) needFilesAdmin(kind, id string) error {
	if !p.has(domain.PermFilesAdmin) {
		return deny(kind, id, "missing permission %s", domain.PermFilesAdmin)
	}
	return nil
}

// CreateFolderType registers a folder type (files.admin).
func (s *Service) CreateFolderType(ctx context.Context, c Caller, t domain.FolderType) (domain.FolderType, int64, error) {
	const op, action = "service.CreateFolderType", "folder_type.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder_type", ""); err != nil {
			return err
		}
		if !slices.Contains(t.Contexts, domain.ContextRoot) {
			t.Contexts = append([]string{domain.ContextRoot}, t.Contexts...)
		}
		if err := t.Validate(); err != nil {
			return err
		}
		if t.ID == "" {
			t.ID = domain.NewID()
		}
		if err := tx.CreateFolderType(ctx, &t); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder_type", t.ID, nil, t, "")
	})
	return t, rev, err
}

// UpdateFolderType renames a folder type or adds contexts and properties
// (files.admin). Removing a context or a property is refused: rules and
// folders may use them, and silently dropping grants is worse than asking
// for a new type.
func (s *Service) UpdateFolderType(ctx context.Context, c Caller, id string, t domain.FolderType) (domain.FolderType, int64, error) {
	const op, action = "service.UpdateFolderType", "folder_type.update"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder_type", id); err != nil {
			return err
		}
		old, err := tx.GetFolderType(ctx, id)
		if err != nil {
			return err
		}
		if t.Version != 0 && t.Version != old.Version {
			return conflict(op, "folder type %s changed meanwhile", id)
		}
		t.ID, t.Version = id, old.Version
		if err := t.Validate(); err != nil {
			return err
		}
		for _, c := range old.Contexts {
			if !t.HasContext(c) {
				return invalid(op, "contexts", "context %q cannot be removed; rules may grant on it", c)
			}
		}
		for _, pr := range old.Properties {
			if !t.HasProperty(pr) {
				return invalid(op, "properties", "property %q cannot be removed; folders and rules may use it", pr)
			}
		}
		if err := tx.UpdateFolderType(ctx, &t); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder_type", id, old, t, "")
	})
	return t, rev, err
}

// DeleteFolderType deletes an unused folder type (files.admin).
func (s *Service) DeleteFolderType(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteFolderType", "folder_type.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder_type", id); err != nil {
			return err
		}
		old, err := tx.GetFolderType(ctx, id)
		if err != nil {
			return err
		}
		if id == domain.FolderTypeFolderID {
			// Folders created without a type get this one; without it
			// every such create would fail.
			return invalid(op, "id", "%s is the built-in folder type, the default of new folders; it can be edited but not deleted", old.Name)
		}
		if err := tx.DeleteFolderType(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder_type", id, old, nil, "")
	})
}

// checkFolder checks what needs the store: the type exists and declares
// every property, the parent and the project exist.
func checkFolder(ctx context.Context, r store.Reader, op string, f *domain.Folder) error {
	t, err := r.GetFolderType(ctx, f.TypeID)
	if domain.Is(err, domain.KindNotFound) {
		return invalid(op, "type_id", "folder type %s does not exist", f.TypeID)
	} else if err != nil {
		return err
	}
	var fields []domain.FieldError
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !t.HasProperty(k) {
			msg := fmt.Sprintf("folder type %q declares no property %q", t.Name, k)
			if len(t.Properties) > 0 {
				msg += "; its properties are: " + strings.Join(t.Properties, ", ")
			}
			fields = append(fields, domain.FieldError{Field: "properties." + k, Message: msg})
		}
	}
	if len(fields) > 0 {
		return domain.E(op, domain.KindInvalid, fields)
	}
	if f.ParentID != "" {
		if _, err := r.GetFolder(ctx, f.ParentID); domain.Is(err, domain.KindNotFound) {
			return invalid(op, "parent_id", "folder %s does not exist", f.ParentID)
		} else if err != nil {
			return err
		}
	}
	if f.ProjectID != "" {
		if _, err := r.GetProject(ctx, f.ProjectID); domain.Is(err, domain.KindNotFound) {
			return invalid(op, "project_id", "project %s does not exist", f.ProjectID)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateFolder registers a folder (files.admin).
func (s *Service) CreateFolder(ctx context.Context, c Caller, f domain.Folder) (domain.Folder, int64, error) {
	const op, action = "service.CreateFolder", "folder.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder", ""); err != nil {
			return err
		}
		if err := f.Validate(); err != nil {
			return err
		}
		if err := checkFolder(ctx, tx, op, &f); err != nil {
			return err
		}
		if f.ID == "" {
			f.ID = domain.NewID()
		}
		if err := tx.CreateFolder(ctx, &f); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder", f.ID, nil, f, "")
	})
	return f, rev, err
}

// FolderUpdate renames, moves or re-describes a folder; nil leaves a field
// as it is. ParentID "" moves the folder to the roots.
type FolderUpdate struct {
	Name       *string
	ParentID   *string
	Properties *map[string]string
	Version    int64
}

// UpdateFolder renames, moves (a move below itself is refused) or sets
// the properties of a folder (files.admin).
func (s *Service) UpdateFolder(ctx context.Context, c Caller, id string, up FolderUpdate) (domain.Folder, int64, error) {
	const op, action = "service.UpdateFolder", "folder.update"
	var f domain.Folder
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder", id); err != nil {
			return err
		}
		if f, err = tx.GetFolder(ctx, id); err != nil {
			return err
		}
		if up.Version != 0 && up.Version != f.Version {
			return conflict(op, "folder %s changed meanwhile (version %d, not %d)", id, f.Version, up.Version)
		}
		before := f
		if up.Name != nil {
			f.Name = *up.Name
		}
		if up.ParentID != nil {
			f.ParentID = *up.ParentID
		}
		if up.Properties != nil {
			f.Properties = *up.Properties
		}
		if err := f.Validate(); err != nil {
			return err
		}
		if err := checkFolder(ctx, tx, op, &f); err != nil {
			return err
		}
		// Walk up from the new parent: meeting the folder itself means
		// the move would make a cycle.
		for a := f.ParentID; a != ""; {
			if a == id {
				return invalid(op, "parent_id", "cannot move folder %q below itself or one of its descendants", before.Name)
			}
			anc, err := tx.GetFolder(ctx, a)
			if err != nil {
				return err
			}
			a = anc.ParentID
		}
		if err := tx.UpdateFolder(ctx, &f); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder", id, before, f, "")
	})
	return f, rev, err
}

// DeleteFolder deletes a folder and its whole subtree, with their levels
// (files.admin).
func (s *Service) DeleteFolder(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteFolder", "folder.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		if err := p.needFilesAdmin("folder", id); err != nil {
			return err
		}
		f, err := tx.GetFolder(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteFolder(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder", id, f, nil, "with its subtree")
	})
}

// SetFolderLevel sets a group's level on a folder (groups.edit or
// files.admin, R21). R22 (the kernel): without files.admin the caller
// must hold every folder permission the change gives the group or takes
// from it, on the folder and every folder inheriting from it. Setting none is an explicit entry that overrides an
// inherited level (R15); DeleteFolderLevel removes the entry.
func (s *Service) SetFolderLevel(ctx context.Context, c Caller, folderID, groupID string, level domain.Level) (domain.FolderLevel, int64, error) {
	const op, action = "service.SetFolderLevel", "folder_level.set"
	l := domain.FolderLevel{FolderID: folderID, GroupID: groupID, Level: level}
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, _, before, err := s.loadLevel(ctx, tx, p, op, folderID, groupID)
		if err != nil {
			return err
		}
		if err := l.Validate(); err != nil {
			return err
		}
		if err := tx.PutFolderLevel(ctx, &l); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder", folderID, before, l, "group "+g.Name)
	})
	return l, rev, err
}

// DeleteFolderLevel removes a group's entry on a folder, so the level is
// inherited again (groups.edit or files.admin).
func (s *Service) DeleteFolderLevel(ctx context.Context, c Caller, folderID, groupID string) (int64, error) {
	const op, action = "service.DeleteFolderLevel", "folder_level.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, _, before, err := s.loadLevel(ctx, tx, p, op, folderID, groupID)
		if err != nil {
			return err
		}
		if before == nil {
			return domain.Errorf(op, domain.KindNotFound, "group %s has no level on folder %s", g.Name, folderID)
		}
		if err := tx.DeleteFolderLevel(ctx, folderID, groupID); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "folder", folderID, before, nil, "group "+g.Name)
	})
}

func (s *Service) loadLevel(ctx context.Context, tx store.Tx, p *perms, op, folderID, groupID string) (domain.Group, domain.Folder, any, error) {
	var f domain.Folder
	g, err := tx.GetGroup(ctx, groupID)
	if err != nil {
		return g, f, nil, err
	}
	if !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
		return g, f, nil, notFound(op, "group", groupID)
	}
	if !p.has(domain.PermGroupsEdit) && !p.has(domain.PermFilesAdmin) {
		return g, f, nil, deny("folder", folderID, "missing permission %s or %s (R21)", domain.PermGroupsEdit, domain.PermFilesAdmin)
	}
	if f, err = tx.GetFolder(ctx, folderID); err != nil {
		return g, f, nil, err
	}
	ls, err := tx.ListFolderLevels(ctx, folderID, groupID)
	if err != nil {
		return g, f, nil, err
	}
	if len(ls) > 0 {
		return g, f, ls[0], nil
	}
	return g, f, nil, nil
}

// checkRule checks what a rule needs from the store: the criteria's
// folder type exists and declares each property, and the matrix names
// only contexts of that type.
func checkRule(ctx context.Context, r store.Reader, op string, rule *domain.Rule) error {
	t, err := r.GetFolderType(ctx, rule.Criteria[0].FolderTypeID)
	if domain.Is(err, domain.KindNotFound) {
		return invalid(op, "criteria[0].folder_type_id", "folder type %s does not exist", rule.Criteria[0].FolderTypeID)
	} else if err != nil {
		return err
	}
	var fields []domain.FieldError
	for i, c := range rule.Criteria {
		if !t.HasProperty(c.Property) {
			fields = append(fields, domain.FieldError{Field: fmt.Sprintf("criteria[%d].property", i),
				Message: fmt.Sprintf("folder type %q declares no property %q; its properties are: %s", t.Name, c.Property, strings.Join(t.Properties, ", "))})
		}
	}
	ctxs := make([]string, 0, len(rule.Grants))
	for k := range rule.Grants {
		ctxs = append(ctxs, k)
	}
	sort.Strings(ctxs)
	for _, k := range ctxs {
		if !t.HasContext(k) {
			fields = append(fields, domain.FieldError{Field: "grants." + k,
				Message: fmt.Sprintf("folder type %q has no context %q; its contexts are: %s", t.Name, k, strings.Join(t.Contexts, ", "))})
		}
	}
	if len(fields) > 0 {
		return domain.E(op, domain.KindInvalid, fields)
	}
	return nil
}

// authorizeRule is R21 (groups.edit or files.admin) and R22 for rules: a
// rule grants its matrix on every folder that matches now or will match
// later, so only a holder of files.admin, who holds every folder
// permission everywhere (R17), can be shown to hold what it grants.
func authorizeRule(p *perms, g *domain.Group, ruleID string) error {
	if !p.mayAdministerGroup(g, domain.PermGroupsEdit) && !p.has(domain.PermFilesAdmin) {
		return deny("rule", ruleID, "missing permission %s or %s (R21)", domain.PermGroupsEdit, domain.PermFilesAdmin)
	}
	if !p.has(domain.PermFilesAdmin) {
		return deny("rule", ruleID, "missing permission %s: a rule grants on every matching folder, present and future, so saving one needs full folder access (R22)", domain.PermFilesAdmin)
	}
	return nil
}

// CreateRule adds a rule to a group (see authorizeRule).
func (s *Service) CreateRule(ctx context.Context, c Caller, r domain.Rule) (domain.Rule, int64, error) {
	const op, action = "service.CreateRule", "rule.create"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, r.GroupID)
		if domain.Is(err, domain.KindNotFound) || err == nil && !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
			return invalid(op, "group_id", "group %s does not exist", r.GroupID)
		} else if err != nil {
			return err
		}
		if err := authorizeRule(p, &g, ""); err != nil {
			return err
		}
		if err := r.Validate(); err != nil {
			return err
		}
		if err := checkRule(ctx, tx, op, &r); err != nil {
			return err
		}
		if r.ID == "" {
			r.ID = domain.NewID()
		}
		if err := tx.CreateRule(ctx, &r); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "rule", r.ID, nil, r, "group "+g.Name)
	})
	return r, rev, err
}

// UpdateRule replaces a rule's name, criteria and matrix (see
// authorizeRule). The owning group does not change.
func (s *Service) UpdateRule(ctx context.Context, c Caller, id string, r domain.Rule) (domain.Rule, int64, error) {
	const op, action = "service.UpdateRule", "rule.update"
	rev, err := s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		old, err := tx.GetRule(ctx, id)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, old.GroupID)
		if err != nil {
			return err
		}
		if !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
			return notFound(op, "rule", id)
		}
		if err := authorizeRule(p, &g, id); err != nil {
			return err
		}
		if r.Version != 0 && r.Version != old.Version {
			return conflict(op, "rule %s changed meanwhile (version %d, not %d)", id, old.Version, r.Version)
		}
		r.ID, r.GroupID, r.Version = id, old.GroupID, old.Version
		if err := r.Validate(); err != nil {
			return err
		}
		if err := checkRule(ctx, tx, op, &r); err != nil {
			return err
		}
		if err := tx.UpdateRule(ctx, &r); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "rule", id, old, r, "group "+g.Name)
	})
	return r, rev, err
}

// DeleteRule deletes a rule (see authorizeRule: taking a rule's grants
// away is bounded like giving them).
func (s *Service) DeleteRule(ctx context.Context, c Caller, id string) (int64, error) {
	const op, action = "service.DeleteRule", "rule.delete"
	return s.write(ctx, c, op, action, func(ctx context.Context, tx store.Tx) error {
		p, err := s.perms(op, c)
		if err != nil {
			return err
		}
		old, err := tx.GetRule(ctx, id)
		if err != nil {
			return err
		}
		g, err := tx.GetGroup(ctx, old.GroupID)
		if err != nil {
			return err
		}
		if !p.mayViewGroup(&g) && !p.has(domain.PermFilesAdmin) {
			return notFound(op, "rule", id)
		}
		if err := authorizeRule(p, &g, id); err != nil {
			return err
		}
		if err := tx.DeleteRule(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, action, "rule", id, old, nil, "group "+g.Name)
	})
}
