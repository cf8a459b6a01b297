package domain

import (
	"fmt"
	"strings"
)

// Level is a folder access level [Q]. Levels are ordered: a level grants
// every action at or below it, on every context of the folder (docs/model.md §5).
type Level uint8

// The folder access levels, in order.
const (
	LevelNone Level = iota
	LevelView
	LevelDownload
	LevelEdit
	LevelUpload
	LevelDelete
	LevelCreateFolder
	LevelDeleteFolder
)

var levelNames = [...]string{"none", "view", "download", "edit", "upload", "delete", "create_folder", "delete_folder"}

// Levels returns every level name in order, lowest first.
func Levels() []string { return levelNames[:] }

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", l)
}

// ParseLevel parses a level name.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if s == n {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown folder level %q; levels from lowest to highest are: %s", s, strings.Join(levelNames[:], ", "))
}

// MarshalText encodes a level by name.
func (l Level) MarshalText() ([]byte, error) {
	if int(l) >= len(levelNames) {
		return nil, fmt.Errorf("invalid folder level %d", l)
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Action is something done on a folder context. Levels grant the first
// seven (see LevelFor); rules grant create, read, edit, delete, lock,
// view_blinded and set_blinded; files.admin grants all (R17).
type Action uint8

// Folder actions.
const (
	ActionRead Action = iota
	ActionDownload
	ActionEdit
	ActionCreate
	ActionDelete
	ActionCreateFolder
	ActionDeleteFolder
	ActionLock
	ActionViewBlinded
	ActionSetBlinded
	NumActions // the number of actions; not an action
)

var actionNames = [...]string{"read", "download", "edit", "create", "delete", "create_folder", "delete_folder", "lock", "view_blinded", "set_blinded"}

// actionLevel is the lowest level granting each action; LevelNone means no
// level grants it.
var actionLevel = [...]Level{LevelView, LevelDownload, LevelEdit, LevelUpload, LevelDelete, LevelCreateFolder, LevelDeleteFolder, LevelNone, LevelNone, LevelNone}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// Actions returns every folder action name.
func Actions() []string { return actionNames[:] }

// RuleActions returns the actions a rule's matrix can grant [S3].
func RuleActions() []string {
	return []string{"create", "read", "edit", "delete", "lock", "view_blinded", "set_blinded"}
}

// IsRuleAction reports whether a rule matrix may grant a.
func IsRuleAction(a Action) bool {
	switch a {
	case ActionCreate, ActionRead, ActionEdit, ActionDelete, ActionLock, ActionViewBlinded, ActionSetBlinded:
		return true
	}
	return false
}

// ParseAction parses an action name.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if s == n {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown folder action %q; actions are: %s", s, strings.Join(actionNames[:], ", "))
}

// LevelFor returns the lowest level that grants a, and false when no level
// grants it (lock, view_blinded, set_blinded come only from rules).
func LevelFor(a Action) (Level, bool) {
	if int(a) >= len(actionLevel) || actionLevel[a] == LevelNone {
		return LevelNone, false
	}
	return actionLevel[a], true
}

// LevelGrants reports whether level l grants action a (on any context).
func LevelGrants(l Level, a Action) bool {
	min, ok := LevelFor(a)
	return ok && l >= min
}

// ContextRoot is the security context every folder type has.
const ContextRoot = "root"

// FolderPermission is a parsed "<context>.<action>" folder permission.
type FolderPermission struct {
	Context string
	Action  Action
}

func (p FolderPermission) String() string { return p.Context + "." + p.Action.String() }

// ParseFolderPermission parses "<context>.<action>". Whether the context
// exists depends on the folder's type and is checked by the caller (R16).
func ParseFolderPermission(s string) (FolderPermission, error) {
	ctx, act, ok := strings.Cut(s, ".")
	if !ok {
		return FolderPermission{}, fmt.Errorf("folder permission %q must be written <context>.<action>, e.g. root.read", s)
	}
	if err := checkIdentifier(ctx); err != nil {
		return FolderPermission{}, fmt.Errorf("folder permission %q: context %w", s, err)
	}
	a, err := ParseAction(act)
	if err != nil {
		return FolderPermission{}, fmt.Errorf("folder permission %q: %w", s, err)
	}
	return FolderPermission{Context: ctx, Action: a}, nil
}

// checkIdentifier accepts lower-case identifiers: a letter, then letters,
// digits or underscores, at most 64 characters. Contexts use it.
func checkIdentifier(s string) error {
	if s == "" {
		return fmt.Errorf("is empty")
	}
	if len(s) > 64 {
		return fmt.Errorf("%q is longer than 64 characters", s)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return fmt.Errorf("%q must start with a lower-case letter and hold only a-z, 0-9 and _", s)
		}
	}
	return nil
}
