// Package identifier holds the profiles of the names people choose others
// by — usernames and group, role and project names — and the key under
// which two names look alike (docs/security.md, "Names and look-alikes").
// It is apart from internal/domain, which uses the standard library only
// (docs/architecture.md): the profiles need golang.org/x/text's PRECIS and
// normalisation tables and the TR39 confusables table. The service applies
// them when a name is set (User, Group, Role, Project); the store keeps
// Skeleton unique per scope.
package identifier

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/mtibben/confusables"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// A name people pick others by must not be able to pass for another one:
//
//   - usernames follow PRECIS UsernameCasePreserved (RFC 8265): letters,
//     digits and ASCII punctuation, no spaces; fullwidth forms are mapped
//     to their ordinary ones and the result is NFC. Uniqueness still
//     ignores case (NameKey), which is UsernameCaseMapped's comparison;
//   - group, role and project names follow PRECIS Nickname (RFC 8266):
//     any letters, digits, symbols and single spaces, NFKC-normalised, so
//     fullwidth letters and compatibility forms become the ordinary ones;
//   - both refuse control, invisible and direction-changing characters
//     (zero-width spaces and joiners, bidi overrides), which PRECIS refuses
//     too; the explicit check names the character in the message;
//   - names whose TR39 skeletons are equal (Skeleton) look alike, and
//     the store keeps one per scope, so "аdmin" with a Cyrillic а is taken
//     when "admin" exists.

// profile is one identifier profile: the PRECIS profile, its bare string
// class (to name a refused character) and how to word a refusal.
type profile struct {
	precis *precis.Profile
	class  *precis.Profile
	rule   string // what the names are, for messages
}

var (
	usernameProfile = profile{precis.UsernameCasePreserved, precis.NewIdentifier(precis.FoldWidth),
		"usernames are letters, digits and ASCII punctuation such as . _ - @ + with no spaces (PRECIS, RFC 8265)"}
	nameProfile = profile{precis.Nickname, precis.NewFreeform(precis.Norm(norm.NFKC)),
		"names are letters, digits, punctuation, symbols and single spaces (PRECIS Nickname profile, RFC 8266)"}
)

// CleanUsername returns the username in its stored form (PRECIS
// UsernameCasePreserved: width-mapped, NFC), or a message saying why it is
// not a username. s must already be trimmed.
func CleanUsername(s string) (string, error) { return usernameProfile.clean(s) }

// CleanName returns a group, role or project name in its stored form
// (PRECIS Nickname: NFKC, inner runs of spaces made one space), or a
// message saying why it is not a name. s must already be trimmed.
func CleanName(s string) (string, error) { return nameProfile.clean(s) }

func (pr profile) clean(s string) (string, error) {
	if s == "" {
		return "", errors.New("is required")
	}
	if err := checkVisible(s); err != nil {
		return "", err
	}
	out, err := pr.precis.String(s)
	if err == nil {
		return out, nil
	}
	// A character the class refuses is the likelier fault, and the more
	// useful message, even when the Bidi Rule failed too.
	if bad := pr.refused(s); bad != "" {
		return "", fmt.Errorf("must not contain %s: %s", bad, pr.rule)
	}
	if errors.Is(err, bidirule.ErrInvalid) {
		return "", errors.New("mixes right-to-left and left-to-right characters in a way that can display misleadingly (the Bidi Rule of RFC 5893)")
	}
	return "", errors.New("is not valid: " + pr.rule)
}

// refused names the first rune the profile's string class refuses on its
// own, or is "". Runes refused only in context have none to name.
func (pr profile) refused(s string) string {
	for _, r := range s {
		if _, err := pr.class.String(string(r)); err != nil {
			return describeRune(r)
		}
	}
	return ""
}

// Skeleton is the key under which names look alike: the Unicode TR39
// skeleton of the name as it is shown (after NFKC, which the profiles
// apply anyway and the table assumes), lower-cased, so that "аdmin"
// (Cyrillic а), "AIice" (capital I for l) and "ａｄｍｉｎ" meet "admin",
// "Alice" and "admin". The store keeps names' skeletons unique within the
// scope their names are unique in (docs/model.md §1, §3).
func Skeleton(name string) string {
	return strings.ToLower(confusables.Skeleton(norm.NFKC.String(name)))
}

// checkVisible refuses control, format (zero-width, bidi) and other
// invisible characters, naming the first one found.
func checkVisible(s string) error {
	for _, r := range s {
		if invisible(r) {
			return fmt.Errorf("must not contain invisible, control or direction-changing characters such as %s", describeRune(r))
		}
	}
	return nil
}

// invisible reports a rune that can change how a name displays without
// being seen: controls, format characters (Cf: zero-width spaces and
// joiners, bidi embeddings, overrides and isolates, the BOM), the other
// default-ignorable code points and variation selectors.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Bidi_Control, unicode.Join_Control,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) || r == utf8.RuneError
}

// describeRune names a rune for a message: the character itself when it
// prints, and its code point.
func describeRune(r rune) string {
	switch {
	case r == ' ':
		return "spaces"
	case unicode.IsPrint(r) && !invisible(r):
		return fmt.Sprintf("%q (U+%04X)", r, r)
	}
	return fmt.Sprintf("U+%04X", r)
}

// User cleans u's username in place by the username profile, unless it is
// the one before had: a name stored before the profiles existed stays
// usable, so such a user can still be disabled or updated over SCIM, and
// the profile applies when it is renamed. before is nil for a new user. u
// must have passed Validate (trimmed, 1–128 characters, no control
// character). The error is KindInvalid naming the username field.
func User(u *domain.User, before *domain.User) error {
	if before != nil && u.Username == before.Username {
		return nil
	}
	return clean("validate user", "username", &u.Username, CleanUsername)
}

// Project cleans a project's name as User does a username, by the name
// profile.
func Project(p *domain.Project, before *domain.Project) error {
	if before != nil && p.Name == before.Name {
		return nil
	}
	return clean("validate project", "name", &p.Name, CleanName)
}

// Role cleans a role's name as User does a username, by the name profile.
func Role(r *domain.Role, before *domain.Role) error {
	if before != nil && r.Name == before.Name {
		return nil
	}
	return clean("validate role", "name", &r.Name, CleanName)
}

// Group cleans a group's name as User does a username, by the name
// profile, and refuses a system group named like a built-in group it is
// not: renaming Everyone to "Administrators", or naming any other system
// group so, would let it pass for the built-in one even after that one was
// renamed (R2 lets built-in groups be renamed).
func Group(g *domain.Group, before *domain.Group) error {
	const op = "validate group"
	if before != nil && g.Name == before.Name {
		return nil
	}
	if err := clean(op, "name", &g.Name, CleanName); err != nil || g.Scope != domain.ScopeSystem {
		return err
	}
	skel := Skeleton(g.Name)
	for _, b := range domain.BuiltinGroups() {
		if b.Builtin != g.Builtin && Skeleton(b.Name) == skel {
			return invalid(op, "name", fmt.Sprintf("%q is the name of the built-in %s group; no other system group may take it, even after that group was renamed", g.Name, b.Name))
		}
	}
	return nil
}

// clean replaces *s by its cleaned form, or returns why it may not be one.
func clean(op, field string, s *string, by func(string) (string, error)) error {
	out, err := by(*s)
	switch {
	case err != nil:
		return invalid(op, field, err.Error())
	case utf8.RuneCountInString(out) > domain.MaxNameLen: // NFKC may lengthen a name
		return invalid(op, field, fmt.Sprintf("must be at most %d characters once normalised (got %d)", domain.MaxNameLen, utf8.RuneCountInString(out)))
	}
	*s = out
	return nil
}

func invalid(op, field, msg string) error {
	return domain.E(op, domain.KindInvalid, domain.FieldError{Field: field, Message: msg})
}
