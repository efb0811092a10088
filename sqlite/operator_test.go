package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestOperatorStore(t *testing.T) {
	storetest.TestOperatorService(t, func(t *testing.T) firebreak.OperatorService {
		return sqlite.NewOperatorStore(openDB(t))
	})
}

// TestOperatorStoreClock checks that operators and tokens take their
// creation time from the injected clock.
func TestOperatorStoreClock(t *testing.T) {
	db := openDB(t)
	s, ctx := sqlite.NewOperatorStore(db), context.Background()
	op := &firebreak.Operator{Name: "alice", Role: firebreak.RoleAdmin, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$x$y"}
	if err := s.CreateOperator(ctx, op); err != nil {
		t.Fatal(err)
	}
	tok := &firebreak.APIToken{Name: "ci", Role: firebreak.RoleResponder, Hash: strings.Repeat("ab", 32), CreatedBy: "alice"}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindOperatorByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(fixedNow) || !tok.CreatedAt.Equal(fixedNow) {
		t.Errorf("created_at = %v and %v, want the injected clock %v", got.CreatedAt, tok.CreatedAt, fixedNow)
	}
}

// TestOperatorSchemaChecks checks that the schema refuses what the store's
// validation would, for writes that bypass it.
func TestOperatorSchemaChecks(t *testing.T) {
	db := openDB(t)
	w := sqlite.WritePool(db)
	for _, q := range []string{
		`INSERT INTO operators (name, role, password_hash, created_at) VALUES ('a', 'root', '$argon2id$x', 'now')`,
		`INSERT INTO operators (name, role, password_hash, created_at) VALUES ('a', 'admin', 'plain', 'now')`,
		`INSERT INTO api_tokens (name, role, hash, created_by, created_at) VALUES ('t', 'admin', 'fbt_plain', 'a', 'now')`,
	} {
		if _, err := w.Exec(q); err == nil {
			t.Errorf("schema accepted %s", q)
		}
	}
}
