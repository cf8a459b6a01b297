package password

import (
	"strings"
	"testing"
)

// TestLimitsAreInclusive: a password of exactly MaxLen bytes is hashed and
// verified, one byte more is refused; decode accepts parameters, salt and
// key at their limits and refuses them one past.
func TestLimitsAreInclusive(t *testing.T) {
	pw := strings.Repeat("p", MaxLen)
	h, err := Hash(pw, fast)
	if err != nil {
		t.Fatalf("Hash of MaxLen bytes: %v", err)
	}
	if err := Verify(pw, h); err != nil {
		t.Errorf("Verify of MaxLen bytes: %v", err)
	}
	if _, err := Hash(pw+"p", fast); err == nil {
		t.Error("Hash of MaxLen+1 bytes succeeded")
	}
	salt8, salt7 := "AAAAAAAAAAA", "AAAAAAAAAA" // 8 and 7 bytes, unpadded
	key16, key15 := "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA"
	for _, c := range []struct {
		params, salt, key string
		ok                bool
	}{
		{"m=4194304,t=64,p=1", salt8, key16, true},
		{"m=4194305,t=1,p=1", salt8, key16, false},
		{"m=1024,t=65,p=1", salt8, key16, false},
		{"m=1024,t=1,p=1", salt7, key16, false},
		{"m=1024,t=1,p=1", salt8, key15, false},
	} {
		encoded := "$argon2id$v=19$" + c.params + "$" + c.salt + "$" + c.key
		if _, _, _, err := decode(encoded); (err == nil) != c.ok {
			t.Errorf("decode(%s) err = %v, want ok %v", encoded, err, c.ok)
		}
	}
}
