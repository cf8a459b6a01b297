package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/pkg/gatehouse"
	"github.com/gatehouse/gatehouse/pkg/gatehouse/api"
)

// Commands take an object by id or by name: ids are what the API uses,
// names are what people type. An id is tried first; on 404, an exact
// (case-insensitive) name among the search results.

// resolve finds one object by id, then by name.
func resolve[T any](ctx context.Context, what, s string, get func(string) (T, error),
	search func(string) ([]T, error), name func(T) string) (T, error) {
	v, err := get(s)
	if err == nil || !gatehouse.IsNotFound(err) {
		return v, err
	}
	items, serr := search(s)
	if serr != nil {
		return v, err // the 404 says more than a failed search
	}
	var found []T
	for _, x := range items {
		if strings.EqualFold(name(x), s) {
			found = append(found, x)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return v, fmt.Errorf("no %s with the id or name %q (or you may not see it)", what, s)
	}
	return v, fmt.Errorf("several %ss are named %q: give the id", what, s)
}

func resolveUser(ctx context.Context, c *gatehouse.Client, s string) (api.User, error) {
	return resolve(ctx, "user", s,
		func(id string) (api.User, error) { b, err := c.GetUser(ctx, id); return b.User, err },
		func(q string) ([]api.User, error) {
			p, err := c.ListUsers(ctx, gatehouse.ListOptions{Search: q, Limit: 1000})
			return p.Items, err
		},
		func(u api.User) string { return u.Username })
}

func resolveGroup(ctx context.Context, c *gatehouse.Client, s string) (api.Group, error) {
	return resolve(ctx, "group", s,
		func(id string) (api.Group, error) { b, err := c.GetGroup(ctx, id); return b.Group, err },
		func(q string) ([]api.Group, error) {
			p, err := c.ListGroups(ctx, gatehouse.GroupQuery{ListOptions: gatehouse.ListOptions{Search: q, Limit: 1000}})
			return p.Items, err
		},
		func(g api.Group) string { return g.Name })
}

func resolveRole(ctx context.Context, c *gatehouse.Client, s string) (api.Role, error) {
	return resolve(ctx, "role", s,
		func(id string) (api.Role, error) { b, err := c.GetRole(ctx, id); return b.Role, err },
		func(q string) ([]api.Role, error) {
			p, err := c.ListRoles(ctx, "", gatehouse.ListOptions{Search: q, Limit: 1000})
			return p.Items, err
		},
		func(r api.Role) string { return r.Name })
}

func resolveProject(ctx context.Context, c *gatehouse.Client, s string) (api.Project, error) {
	return resolve(ctx, "project", s,
		func(id string) (api.Project, error) { b, err := c.GetProject(ctx, id); return b.Project, err },
		func(q string) ([]api.Project, error) {
			p, err := c.ListProjects(ctx, gatehouse.ListOptions{Search: q, Limit: 1000})
			return p.Items, err
		},
		func(p api.Project) string { return p.Name })
}

// subject turns a check's subject into the API's form: user:<id> and
// anonymous as they are, "me" for the caller, else a user's id or name.
func subject(ctx context.Context, c *gatehouse.Client, s string) (string, error) {
	switch {
	case s == "me" || s == "":
		return "", nil
	case s == "anonymous" || strings.HasPrefix(s, "user:"):
		return s, nil
	}
	u, err := resolveUser(ctx, c, s)
	if err != nil {
		return "", err
	}
	return "user:" + u.ID, nil
}

// resource turns project:<name> into project:<id> and folder:/<path>
// into folder:<id>; other forms (system, domain:<name>, folder:<id>,
// project:<id>) go as they are. A project the caller cannot read goes as
// typed too: the server's answer about it is the one to show. A folder
// path cannot go as typed (the server takes ids), so a path not found is
// an error naming the missing segment.
func resource(ctx context.Context, c *gatehouse.Client, s string) (string, error) {
	if p, ok := strings.CutPrefix(s, "folder:"); ok && strings.HasPrefix(p, "/") {
		f, err := walkPath(ctx, c, p)
		if err != nil {
			return "", err
		}
		return "folder:" + f.ID, nil
	}
	name, ok := strings.CutPrefix(s, "project:")
	if !ok || name == "" {
		return s, nil
	}
	p, err := resolveProject(ctx, c, name)
	if err != nil {
		return s, nil
	}
	return "project:" + p.ID, nil
}
