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

func TestPolicy(t *testing.T) {
	var p Policy
	for _, pw := range []string{"correct horse battery", "ünïcödé-pässwörd", "12345678a-unusual", strings.Repeat("x", MaxChars), "        spaces ok"} {
		if err := p.Check(pw, "alice", false); err != nil {
			t.Errorf("Check(%q) = %v, want nil", pw, err)
		}
	}
	for pw, want := range map[string]string{
		"short":                         "at least 8 characters (got 5)",
		"ünïcöd":                        "at least 8 characters (got 6)", // characters, not bytes
		strings.Repeat("x", MaxChars+1): "at most 256 characters",
		"nul\x00-in-the-middle":         "NUL",
		"bad-\xff-utf8-here":            "UTF-8",
		"password1":                     "most common passwords",
		"PassWord1":                     "most common passwords", // case is ignored
		"iloveyou1":                     "most common passwords",
		"Alice-the-User":                "must not be the username",
	} {
		err := p.Check(pw, "alice-the-user", false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%.40q) = %v, want an error containing %q", pw, err, want)
		}
	}
	admin := Policy{AdminMinLen: 15}
	if err := admin.Check("twelve-chars", "", false); err != nil {
		t.Errorf("a non-administrator needs 8: %v", err)
	}
	if err := admin.Check("twelve-chars", "", true); err == nil || !strings.Contains(err.Error(), "at least 15 characters for a member of Administrators") {
		t.Errorf("an administrator needs 15: %v", err)
	}
	if (Policy{MinLen: 4}).Min(false) != DefaultMinLen || (Policy{MinLen: 10, AdminMinLen: 9}).Min(true) != 10 {
		t.Error("Min must not go below the default or, for administrators, below MinLen")
	}
}

// No composition rule: NIST SP 800-63B §5.1.1.2 advises against them.
func TestPolicyHasNoCompositionRules(t *testing.T) {
	for _, pw := range []string{"alllowercaseletters", "ALLUPPERCASE", "9182736450192837", "!@#$%^&*()_+-=[]"} {
		if err := (Policy{}).Check(pw, "", false); err != nil {
			t.Errorf("Check(%q) = %v, want nil: no composition rules", pw, err)
		}
	}
}

// The shipped list is there, lower-cased and without entries the length
// rule refuses anyway.
func TestCommonList(t *testing.T) {
	n := 0
	for pw := range common() {
		if pw != strings.ToLower(pw) || len([]rune(pw)) < DefaultMinLen {
			t.Fatalf("common.txt holds %q: entries are lower-case and at least %d characters (run gencommon)", pw, DefaultMinLen)
		}
		n++
	}
	if n < 10000 {
		t.Errorf("common.txt holds %d passwords, want the generated list (over 10,000)", n)
	}
}

func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "password1", "correct horse battery", "\x00\x00\x00\x00\x00\x00\x00\x00", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", strings.Repeat("é", 300)} {
		f.Add(s, "alice", false)
	}
	f.Fuzz(func(t *testing.T, pw, user string, admin bool) {
		err := (Policy{AdminMinLen: 15}).Check(pw, user, admin)
		if err != nil {
			return
		}
		n := len([]rune(pw))
		if strings.IndexByte(pw, 0) >= 0 || n < 8 || (admin && n < 15) || n > MaxChars || IsCommon(pw) || len(pw) > MaxLen {
			t.Fatalf("accepted %q (admin %v)", pw, admin)
		}
	})
}
