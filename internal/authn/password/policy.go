package password

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// The password rules of NIST SP 800-63B §5.1.1.2 (docs/security.md,
// "Passwords"): a minimum length, a generous maximum, no composition rules
// (no "one digit and one symbol"), no NUL, and no password from a list of
// common ones.
const (
	// DefaultMinLen is the shortest password, in characters.
	DefaultMinLen = 8
	// MaxChars is the longest password, in characters: far beyond NIST's
	// 64 and any passphrase, and at four bytes a character still within
	// MaxLen, the bytes Hash accepts, so argon2id's input stays bounded.
	MaxChars = MaxLen / 4
)

// Policy is what a new password must meet. The zero Policy is the default.
type Policy struct {
	// MinLen is the shortest password, in characters; 0 or less means
	// DefaultMinLen, and a value below it is raised to it.
	MinLen int
	// AdminMinLen is the shortest password of a member of the built-in
	// Administrators group (NIST suggests 15 for privileged accounts);
	// values below MinLen mean MinLen.
	AdminMinLen int
}

// Min is the shortest password the policy allows, for an administrator or
// not.
func (p Policy) Min(admin bool) int {
	n := max(p.MinLen, DefaultMinLen)
	if admin {
		n = max(n, p.AdminMinLen)
	}
	return n
}

// Check returns nil when pw may be set as the password of username, and
// otherwise an error saying why, in words for the person choosing it.
// Common passwords are compared ignoring case: "PASSWORD1" is guessed as
// early as "password1".
func (p Policy) Check(pw, username string, admin bool) error {
	n := utf8.RuneCountInString(pw)
	switch least := p.Min(admin); {
	case strings.IndexByte(pw, 0) >= 0:
		return errors.New("must not contain the NUL character")
	case !utf8.ValidString(pw):
		return errors.New("is not valid UTF-8")
	case n < least && admin && least > p.Min(false):
		return fmt.Errorf("must be at least %d characters for a member of Administrators (got %d); a few unrelated words make a long password easy to remember", least, n)
	case n < least:
		return fmt.Errorf("must be at least %d characters (got %d); a few unrelated words make a long password easy to remember", least, n)
	case n > MaxChars:
		return fmt.Errorf("must be at most %d characters (got %d)", MaxChars, n)
	case username != "" && strings.EqualFold(pw, username):
		return errors.New("must not be the username")
	case IsCommon(pw):
		return errors.New("is one of the most common passwords, which attackers try first; choose another (a few unrelated words make a good one)")
	}
	return nil
}

//go:embed common.txt
var commonList string

// common is the set of common passwords, lower-cased, built on first use.
var common = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, strings.Count(commonList, "\n"))
	for _, pw := range strings.Split(commonList, "\n") {
		if pw != "" {
			m[pw] = struct{}{}
		}
	}
	return m
})

// IsCommon reports whether pw, ignoring case, is in the list of common
// passwords shipped in the binary (common.txt, made by gencommon).
func IsCommon(pw string) bool {
	_, ok := common()[strings.ToLower(pw)]
	return ok
}
