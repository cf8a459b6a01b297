package password

import (
	"errors"
	"strings"
	"testing"
)

// fast keeps tests quick; the format and logic are the same as Default.
var fast = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if err := Verify("correct horse", h); err != nil {
		t.Fatalf("Verify(right password) = %v, want nil", err)
	}
	if err := Verify("correct horsE", h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify(wrong password) = %v, want ErrMismatch", err)
	}
	h2, _ := Hash("correct horse", fast)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, enc := range []string{"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=18$m=1024,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=1024,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5aw"} {
		err := Verify("x", enc)
		if err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(x, %q) = %v, want a malformed-hash error", enc, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h, _ := Hash("pw", fast)
	if NeedsRehash(h, fast) {
		t.Error("NeedsRehash with the same params = true")
	}
	if !NeedsRehash(h, Default) {
		t.Error("NeedsRehash with other params = false")
	}
}

func TestTooLong(t *testing.T) {
	if _, err := Hash(strings.Repeat("a", MaxLen+1), fast); err == nil {
		t.Fatal("Hash accepted an over-long password")
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(24), Generate(24)
	if len(a) != 24 || a == b {
		t.Fatalf("Generate gave %q and %q", a, b)
	}
	if strings.ContainsAny(a, "0O1lI") {
		t.Fatalf("Generate(%q) used a look-alike character", a)
	}
}
