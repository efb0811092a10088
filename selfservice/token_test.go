package selfservice_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/selfservice"
)

var key = bytes.Repeat([]byte("k"), 32)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tk, err := selfservice.NewTokens(key, clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tk.Issue("alice@example.com", 7, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.Verify(tok)
	if err != nil || got.Account != "alice@example.com" || got.IncidentID != 7 || !got.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	tampered := append([]byte(nil), raw...)
	tampered[5] ^= 1 // another incident
	other, _ := selfservice.NewTokens(bytes.Repeat([]byte("x"), 32), clock)
	foreign, _ := other.Issue("alice@example.com", 7, time.Hour)
	late, _ := selfservice.NewTokens(key, func() time.Time { return now.Add(time.Hour) })
	bad := map[string]string{
		"tampered": base64.RawURLEncoding.EncodeToString(tampered),
		"foreign":  foreign,
		"garbage":  "not a token!",
		"empty":    "",
		"short":    tok[:20],
		"long":     strings.Repeat("A", 600),
	}
	for name, b := range bad {
		if _, err := tk.Verify(b); err == nil {
			t.Errorf("%s token verified", name)
		}
	}
	_, errExpired := late.Verify(tok)
	_, errTampered := tk.Verify(bad["tampered"])
	if errExpired == nil || errExpired.Error() != errTampered.Error() {
		t.Errorf("expired: %v, tampered: %v; want the same error", errExpired, errTampered)
	}
	if _, err := selfservice.NewTokens(key[:31], nil); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Errorf("short key: %v", err)
	}
	for _, ttl := range []time.Duration{0, 31 * 24 * time.Hour} {
		if _, err := tk.Issue("a", 1, ttl); firebreak.ErrorCode(err) != firebreak.EINVALID {
			t.Errorf("Issue(ttl %s) = %v, want EINVALID", ttl, err)
		}
	}
	m, err := tk.Notice("alice@example.com", 7, time.Hour, "https://example.com")
	if err != nil || m.Validate() != nil || !strings.HasPrefix(m.Meta["link"], "https://example.com/self-service/") {
		t.Errorf("Notice = %+v, %v", m, err)
	}
}

// FuzzVerify: no input panics, and nothing but an issued token verifies.
func FuzzVerify(f *testing.F) {
	tk, _ := selfservice.NewTokens(key, nil)
	tok, _ := tk.Issue("bob", 3, time.Hour)
	f.Add(tok)
	f.Add("")
	f.Add("AQAAAAAAAAAD")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tk.Verify(s)
		if err == nil && (c.Account != "bob" || c.IncidentID != 3) {
			t.Fatalf("forged token %q verified: %+v", s, c)
		}
	})
}
