package auth_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"firebreak/auth"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashAndVerify(t *testing.T) {
	h := auth.NewHasher(auth.TestParams)
	first, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !phcPattern.MatchString(first) || !strings.Contains(first, "$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the test parameters", first)
	}
	if first == second {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		password, hash string
		want           bool
	}{
		{"correct horse battery", first, true},
		{"correct horse battery", second, true},
		{"correct horse batterY", first, false},
		{"", first, false},
		{"correct horse battery", "", false},
		{"correct horse battery", strings.Replace(first, "t=1", "t=2", 1), false},
		{strings.Repeat("x", auth.MaxPasswordLen+1), first, false},
	}
	for _, tt := range tests {
		if got := h.Verify(tt.password, tt.hash); got != tt.want {
			t.Errorf("Verify(%.30q, %.40q) = %v, want %v", tt.password, tt.hash, got, tt.want)
		}
	}
}

func TestDefaultParamsAreOWASP(t *testing.T) {
	h := auth.NewHasher(auth.Params{})
	hash, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if m := phcPattern.FindStringSubmatch(hash); m == nil || m[1] != "19456" || m[2] != "2" || m[3] != "1" {
		t.Errorf("default hash %q: want m=19456,t=2,p=1 (OWASP)", hash)
	}
	if h.NeedsRehash(hash) {
		t.Error("a fresh hash needs rehashing")
	}
	if !auth.NewHasher(auth.TestParams).NeedsRehash(hash) {
		t.Error("a hash made with other parameters does not need rehashing")
	}
}

func TestParseHash(t *testing.T) {
	good := "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s"
	p, salt, key, err := auth.ParseHash(good)
	if err != nil || p.Memory != 64 || p.Time != 1 || p.Threads != 1 || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("ParseHash(good) = %+v, %d salt, %d key, %v", p, len(salt), len(key), err)
	}
	bad := map[string]string{
		"empty":            "",
		"argon2i":          strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":      strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":      strings.Replace(good, "m=64", "m=99999999", 1),
		"many passes":      strings.Replace(good, "t=1", "t=1000", 1),
		"zero threads":     strings.Replace(good, "p=1", "p=0", 1),
		"memory < 8p":      strings.Replace(good, "m=64,t=1,p=1", "m=8,t=1,p=2", 1),
		"params reordered": strings.Replace(good, "m=64,t=1", "t=1,m=64", 1),
		"negative":         strings.Replace(good, "t=1", "t=-1", 1),
		"padded salt":      strings.Replace(good, "c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdA==", 1),
		"short key":        strings.Replace(good, "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s", "a2V5", 1),
		"extra field":      good + "$x",
	}
	for name, hash := range bad {
		if _, _, _, err := auth.ParseHash(hash); err == nil {
			t.Errorf("%s: ParseHash(%q) succeeded", name, hash)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	h := auth.NewHasher(auth.TestParams)
	hash, _ := h.Hash("correct horse battery")
	f.Add(hash)
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := auth.ParseHash(s)
		if err != nil {
			return
		}
		if p.Memory > 256<<10 || p.Time > 32 || p.Threads == 0 || p.Threads > 64 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("ParseHash(%q) accepted %+v with %d salt and %d key bytes", s, p, len(salt), len(key))
		}
	})
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
	}{
		{"", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ééééééééééé", false}, // 11 characters, 22 bytes
		{"éééééééééééé", true},
		{strings.Repeat("x", auth.MaxPasswordLen), true},
		{strings.Repeat("x", auth.MaxPasswordLen+1), false},
	}
	for _, tt := range tests {
		err := auth.ValidatePassword(tt.password)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePassword(%.20q) = %v, want ok %v", tt.password, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "password") {
			t.Errorf("error %q does not name the field", err)
		}
	}
}

func TestLockout(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {4, 0}, {5, time.Second}, {6, 2 * time.Second}, {7, 4 * time.Second},
		{14, 512 * time.Second}, {15, auth.MaxLockout}, {100, auth.MaxLockout}, {1 << 40, auth.MaxLockout},
	}
	for _, tt := range tests {
		if got := auth.Lockout(tt.failures); got != tt.want {
			t.Errorf("Lockout(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^fbt_[A-Za-z0-9_-]{43}$`).MatchString(tok) || !auth.IsToken(tok) {
		t.Errorf("token %q: want fbt_ and 43 base64url characters", tok)
	}
	other, _ := auth.NewToken()
	if tok == other {
		t.Error("two tokens are equal")
	}
	for _, s := range []string{"", "fbt_", tok[:len(tok)-1], "fbx_" + tok[4:], tok + "A", tok[:10] + "+" + tok[11:]} {
		if auth.IsToken(s) {
			t.Errorf("IsToken(%q) = true", s)
		}
	}
	if h := auth.HashSecret(tok); len(h) != 64 || h == auth.HashSecret(other) {
		t.Errorf("HashSecret = %q: want 64 hex digits, distinct per token", h)
	}
	pw, err := auth.NewPassword()
	if err != nil || auth.ValidatePassword(pw) != nil || len(pw) != 24 {
		t.Errorf("NewPassword = %q, %v: want a valid 24-character password", pw, err)
	}
}
