package sqlstore

import (
	"strings"

	"github.com/gatehouse/gatehouse/internal/domain"
)

// uniqueFields names the input field each unique key holds, so that a
// taken key is reported on its field ("id" for a primary key clash, "name"
// or "username" for a name), not guessed by the service. Keys are
// PostgreSQL's constraint and index names, which SQLite shares for its
// indexes on expressions ("index 'groups_name'"), and SQLite's column
// lists for its other unique indexes and primary keys
// ("projects.name_key"). Both migrations (00001, 00005) define them.
var uniqueFields = map[string]string{
	"users_pkey": "id", "users.id": "id",
	"users_username": "username", "users.username_key": "username",
	"users_username_skel": "username", "users.username_skel": "username",
	"projects_pkey": "id", "projects.id": "id",
	"projects_name": "name", "projects.name_key": "name",
	"projects_name_skel": "name", "projects.name_skel": "name",
	"roles_pkey": "id", "roles.id": "id",
	"roles_name": "name", "roles.scope, roles.name_key": "name",
	"roles_name_skel": "name", "roles.scope, roles.name_skel": "name",
	"groups_pkey": "id", "groups.id": "id",
	"groups_name": "name", "groups_name_skel": "name",
	"folder_types_pkey": "id", "folder_types.id": "id",
	"folder_types_name": "name", "folder_types.name_key": "name",
	"folders_pkey": "id", "folders.id": "id",
	"folders_name": "name",
	"rules_pkey":   "id", "rules.id": "id",
	"rules_name": "name", "rules.group_id, rules.name_key": "name",
}

// takenKey is the KindExists error of a unique key taken: it carries the
// field the key holds when the dialect says which key it was.
func (db *DB) takenKey(op string, err error) error {
	key := ""
	if db.d.UniqueKey != nil {
		key = db.d.UniqueKey(err)
	}
	key = strings.TrimSuffix(strings.TrimPrefix(key, "index '"), "'")
	if field, ok := uniqueFields[key]; ok {
		return domain.E(op, domain.KindExists, domain.FieldError{Field: field, Message: "is already taken"}, err)
	}
	return domain.E(op, domain.KindExists, err)
}
