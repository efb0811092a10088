package auth_test

import (
	"context"
	"testing"

	"firebreak"
	"firebreak/auth"
)

// BenchmarkHashDefault is one password hash with OWASP's parameters: the
// cost of every sign-in, wrong or right.
func BenchmarkHashDefault(b *testing.B) {
	h := auth.NewHasher(auth.DefaultParams)
	for b.Loop() {
		if _, err := h.Hash(password); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the cost a session adds to every request: a
// session and an operator lookup in SQLite (the touch is throttled).
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	if _, err := f.svc.CreateOperator(context.Background(), "root", "alice", firebreak.RoleViewer, password); err != nil {
		b.Fatal(err)
	}
	cookie, _, err := f.svc.Login(context.Background(), "alice", password, "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.svc.Authenticate(context.Background(), cookie); err != nil {
			b.Fatal(err)
		}
	}
}
