// Package password hashes and verifies local users' passwords with argon2id
// (RFC 9106), encoded in the PHC string format that other tools read:
// $argon2id$v=19$m=65536,t=1,p=4$<salt>$<hash>.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// Default follows RFC 9106's second recommended option (64 MiB, t=3 would be
// its first); t=1 keeps a login near a quarter of a second on a 2-core
// machine, which also bounds what a burst of logins can cost the server.
var Default = Params{Memory: 64 * 1024, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}

// MaxLen bounds the password length so a huge input cannot cost more than
// hashing does anyway; 1024 bytes is far beyond any passphrase.
const MaxLen = 1024

// ErrMismatch is returned by Verify when the password is wrong.
var ErrMismatch = errors.New("password does not match")

// Hash returns the PHC-encoded argon2id hash of pw with a fresh random salt.
func Hash(pw string, p Params) (string, error) {
	if len(pw) > MaxLen {
		return "", fmt.Errorf("password is longer than %d bytes", MaxLen)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash: nil on a match,
// ErrMismatch on a wrong password, another error for a malformed hash.
// The comparison takes constant time.
func Verify(pw, encoded string) error {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return err
	}
	if len(pw) > MaxLen {
		return ErrMismatch
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether encoded was made with other parameters than p,
// so a successful login can upgrade it.
func NeedsRehash(encoded string, p Params) bool {
	q, _, key, err := decode(encoded)
	return err != nil || q.Memory != p.Memory || q.Time != p.Time || q.Threads != p.Threads || uint32(len(key)) != p.KeyLen
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("malformed argon2 parameters %q", parts[3])
	}
	if p.Memory == 0 || p.Memory > 4<<20 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return Params{}, nil, nil, fmt.Errorf("argon2 parameters out of range: %q", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, errors.New("malformed argon2 salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return Params{}, nil, nil, errors.New("malformed argon2 hash")
	}
	return p, salt, key, nil
}

// Generate returns a random password of n characters from an alphabet
// without look-alike characters, for initial administrator accounts.
func Generate(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("password.Generate: " + err.Error())
	}
	for i := range b {
		// 256 % 56 != 0 leaves a slight bias; at 24 characters the
		// password still carries well over 128 bits of entropy.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
