package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"firebreak"
)

// OperatorOpener returns a new, empty operator store that is closed when t
// ends.
type OperatorOpener func(t *testing.T) firebreak.OperatorService

// TestOperatorService runs the OperatorService conformance suite against
// the stores open returns; each subtest opens its own.
func TestOperatorService(t *testing.T, open func(t *testing.T) firebreak.OperatorService) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OperatorOpener)
	}{
		{"CreateOperator", testCreateOperator},
		{"CreateOperatorInvalid", testCreateOperatorInvalid},
		{"UpdateOperator", testUpdateOperator},
		{"ListOperators", testListOperators},
		{"Sessions", testSessions},
		{"SessionsInvalid", testSessionsInvalid},
		{"DeleteExpiredSessions", testDeleteExpiredSessions},
		{"Tokens", testTokens},
		{"TokensInvalid", testTokensInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// phc is a syntactically valid argon2id hash; the store never verifies it.
const phc = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s"

// hashOf returns the hex SHA-256 of s, as session ids and tokens are stored.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func newOperator(t *testing.T, ops firebreak.OperatorService, name string, role firebreak.Role) *firebreak.Operator {
	t.Helper()
	op := &firebreak.Operator{Name: name, Role: role, PasswordHash: phc}
	if err := ops.CreateOperator(context.Background(), op); err != nil {
		t.Fatalf("CreateOperator(%s): %v", name, err)
	}
	return op
}

func testCreateOperator(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	if n, err := ops.CountOperators(ctx); err != nil || n != 0 {
		t.Fatalf("CountOperators on an empty store = %d, %v; want 0", n, err)
	}
	op := newOperator(t, ops, "alice", firebreak.RoleAdmin)
	if op.ID == 0 || op.CreatedAt.IsZero() {
		t.Fatalf("created operator %+v: want ID and CreatedAt set", op)
	}
	for _, find := range []func() (*firebreak.Operator, error){
		func() (*firebreak.Operator, error) { return ops.FindOperator(ctx, op.ID) },
		func() (*firebreak.Operator, error) { return ops.FindOperatorByName(ctx, "alice") },
	} {
		got, err := find()
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != op.ID || got.Name != "alice" || got.Role != firebreak.RoleAdmin || got.PasswordHash != phc ||
			got.Disabled || got.FailedLogins != 0 || !got.LockedUntil.IsZero() || !got.CreatedAt.Equal(op.CreatedAt) {
			t.Errorf("found %+v, want %+v", got, op)
		}
	}
	wantCode(t, newOperatorErr(ops, "alice", firebreak.RoleViewer), firebreak.ECONFLICT, "alice")
	if n, err := ops.CountOperators(ctx); err != nil || n != 1 {
		t.Fatalf("CountOperators = %d, %v; want 1", n, err)
	}
	_, err := ops.FindOperator(ctx, op.ID+100)
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = ops.FindOperatorByName(ctx, "bob")
	wantCode(t, err, firebreak.ENOTFOUND)
}

func newOperatorErr(ops firebreak.OperatorService, name string, role firebreak.Role) error {
	return ops.CreateOperator(context.Background(), &firebreak.Operator{Name: name, Role: role, PasswordHash: phc})
}

func testCreateOperatorInvalid(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	tests := []struct {
		name  string
		op    firebreak.Operator
		field string
	}{
		{"bad name", firebreak.Operator{Name: "Alice!", Role: firebreak.RoleViewer, PasswordHash: phc}, "name"},
		{"reserved name", firebreak.Operator{Name: firebreak.SystemActor, Role: firebreak.RoleViewer, PasswordHash: phc}, "name"},
		{"bad role", firebreak.Operator{Name: "alice", Role: "root", PasswordHash: phc}, "role"},
		{"no role", firebreak.Operator{Name: "alice", PasswordHash: phc}, "role"},
		{"plain password", firebreak.Operator{Name: "alice", Role: firebreak.RoleViewer, PasswordHash: "hunter2"}, "password_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := tt.op
			wantField(t, ops.CreateOperator(ctx, &op), tt.field)
		})
	}
	if n, _ := ops.CountOperators(ctx); n != 0 {
		t.Errorf("%d operators stored after invalid creates, want 0", n)
	}
}

func testUpdateOperator(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	op := newOperator(t, ops, "alice", firebreak.RoleViewer)
	locked := t0.Add(90 * time.Second)
	upd := *op
	upd.Role, upd.Disabled, upd.FailedLogins, upd.LockedUntil = firebreak.RoleApprover, true, 6, locked
	upd.PasswordHash = phc + "x"
	upd.Name, upd.CreatedAt = "renamed", t0 // neither changes
	if err := ops.UpdateOperator(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, err := ops.FindOperator(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != firebreak.RoleApprover || !got.Disabled || got.FailedLogins != 6 || !got.LockedUntil.Equal(locked) ||
		got.PasswordHash != phc+"x" || got.Name != "alice" || !got.CreatedAt.Equal(op.CreatedAt) {
		t.Errorf("after update: %+v", got)
	}
	got.LockedUntil, got.FailedLogins = time.Time{}, 0
	if err := ops.UpdateOperator(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ := ops.FindOperator(ctx, op.ID); !got.LockedUntil.IsZero() || got.FailedLogins != 0 {
		t.Errorf("lock not cleared: %+v", got)
	}
	missing := *op
	missing.ID = op.ID + 100
	wantCode(t, ops.UpdateOperator(ctx, &missing), firebreak.ENOTFOUND)
	bad := *op
	bad.Role = "root"
	wantField(t, ops.UpdateOperator(ctx, &bad), "role")
}

func testListOperators(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	list, err := ops.ListOperators(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListOperators on an empty store = %v, %v", list, err)
	}
	for _, name := range []string{"carol", "alice", "bob"} {
		newOperator(t, ops, name, firebreak.RoleResponder)
	}
	list, err = ops.ListOperators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, op := range list {
		names = append(names, op.Name)
	}
	if len(names) != 3 || names[0] != "alice" || names[1] != "bob" || names[2] != "carol" {
		t.Errorf("ListOperators names = %v, want [alice bob carol]", names)
	}
}

func testSessions(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	op := newOperator(t, ops, "alice", firebreak.RoleViewer)
	ss := &firebreak.Session{IDHash: hashOf("cookie"), OperatorID: op.ID, CSRFToken: "csrf-1", CreatedAt: t0, LastSeen: t0}
	if err := ops.CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	got, err := ops.FindSession(ctx, ss.IDHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.IDHash != ss.IDHash || got.OperatorID != op.ID || got.CSRFToken != "csrf-1" ||
		!got.CreatedAt.Equal(t0) || !got.LastSeen.Equal(t0) {
		t.Errorf("FindSession = %+v, want %+v", got, ss)
	}
	later := t0.Add(10 * time.Minute)
	if err := ops.TouchSession(ctx, ss.IDHash, later); err != nil {
		t.Fatal(err)
	}
	if err := ops.TouchSession(ctx, ss.IDHash, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ops.FindSession(ctx, ss.IDHash); !got.LastSeen.Equal(later) {
		t.Errorf("LastSeen = %v, want %v (touching never moves it back)", got.LastSeen, later)
	}
	if err := ops.DeleteSession(ctx, ss.IDHash); err != nil {
		t.Fatal(err)
	}
	_, err = ops.FindSession(ctx, ss.IDHash)
	wantCode(t, err, firebreak.ENOTFOUND)
	if err := ops.DeleteSession(ctx, ss.IDHash); err != nil {
		t.Errorf("deleting a deleted session: %v, want nil", err)
	}
	wantCode(t, ops.TouchSession(ctx, ss.IDHash, later), firebreak.ENOTFOUND)
}

func testSessionsInvalid(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	op := newOperator(t, ops, "alice", firebreak.RoleViewer)
	valid := firebreak.Session{IDHash: hashOf("c"), OperatorID: op.ID, CSRFToken: "x", CreatedAt: t0, LastSeen: t0}
	tests := []struct {
		name  string
		edit  func(s *firebreak.Session)
		field string
	}{
		{"id not a hash", func(s *firebreak.Session) { s.IDHash = "cookie" }, "id_hash"},
		{"upper-case hash", func(s *firebreak.Session) { s.IDHash = "A" + s.IDHash[1:] }, "id_hash"},
		{"no csrf token", func(s *firebreak.Session) { s.CSRFToken = "" }, "csrf_token"},
		{"no created_at", func(s *firebreak.Session) { s.CreatedAt = time.Time{} }, "created_at"},
		{"seen before created", func(s *firebreak.Session) { s.LastSeen = t0.Add(-time.Second) }, "last_seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid
			tt.edit(&s)
			wantField(t, ops.CreateSession(ctx, &s), tt.field)
		})
	}
	unknown := valid
	unknown.OperatorID = op.ID + 100
	wantCode(t, ops.CreateSession(ctx, &unknown), firebreak.ENOTFOUND)
}

func testDeleteExpiredSessions(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	op := newOperator(t, ops, "alice", firebreak.RoleViewer)
	sessions := []struct {
		id            string
		created, seen time.Time
		expired       bool
	}{
		{"fresh", t0.Add(11 * time.Hour), t0.Add(12 * time.Hour), false},
		{"idle", t0.Add(11 * time.Hour), t0.Add(11 * time.Hour), true},
		{"old but busy", t0, t0.Add(12 * time.Hour), true},
		{"at the idle limit", t0.Add(11 * time.Hour), t0.Add(11*time.Hour + 30*time.Minute), false},
	}
	for _, s := range sessions {
		err := ops.CreateSession(ctx, &firebreak.Session{IDHash: hashOf(s.id), OperatorID: op.ID, CSRFToken: "x", CreatedAt: s.created, LastSeen: s.seen})
		if err != nil {
			t.Fatal(err)
		}
	}
	// At t0+12h with a 12 h absolute and a 30 min idle timeout.
	n, err := ops.DeleteExpiredSessions(ctx, t0.Add(time.Minute), t0.Add(11*time.Hour+30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	for _, s := range sessions {
		_, err := ops.FindSession(ctx, hashOf(s.id))
		if gone := firebreak.ErrorCode(err) == firebreak.ENOTFOUND; gone != s.expired {
			t.Errorf("session %q: gone = %v (err %v), want %v", s.id, gone, err, s.expired)
		}
	}
}

func testTokens(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	tok := &firebreak.APIToken{Name: "siem", Role: firebreak.RoleResponder, Hash: hashOf("fbt_1"), CreatedBy: "alice"}
	if err := ops.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || tok.CreatedAt.IsZero() {
		t.Fatalf("created token %+v: want ID and CreatedAt set", tok)
	}
	got, err := ops.FindToken(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.Name != "siem" || got.Role != firebreak.RoleResponder || got.CreatedBy != "alice" ||
		got.Revoked || !got.LastUsed.IsZero() || !got.CreatedAt.Equal(tok.CreatedAt) {
		t.Errorf("FindToken = %+v, want %+v", got, tok)
	}
	wantCode(t, ops.CreateToken(ctx, &firebreak.APIToken{Name: "siem", Role: firebreak.RoleViewer, Hash: hashOf("fbt_2"), CreatedBy: "alice"}),
		firebreak.ECONFLICT, "siem")
	used := t0.Add(time.Hour)
	if err := ops.TouchToken(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	if err := ops.TouchToken(ctx, tok.ID, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := ops.FindToken(ctx, tok.Hash); !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v (touching never moves it back)", got.LastUsed, used)
	}
	if err := ops.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := ops.RevokeToken(ctx, tok.ID); err != nil {
		t.Errorf("revoking twice: %v, want nil", err)
	}
	if got, err := ops.FindToken(ctx, tok.Hash); err != nil || !got.Revoked {
		t.Errorf("after revoke: %+v, %v; want it found and revoked", got, err)
	}
	// A revoked token's name may be reused.
	again := &firebreak.APIToken{Name: "siem", Role: firebreak.RoleViewer, Hash: hashOf("fbt_3"), CreatedBy: "bob"}
	if err := ops.CreateToken(ctx, again); err != nil {
		t.Fatalf("reuse the name of a revoked token: %v", err)
	}
	list, err := ops.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].ID != again.ID {
		t.Fatalf("ListTokens = %v, %v; want both tokens, oldest first", list, err)
	}
	_, err = ops.FindToken(ctx, hashOf("nope"))
	wantCode(t, err, firebreak.ENOTFOUND)
	wantCode(t, ops.RevokeToken(ctx, again.ID+100), firebreak.ENOTFOUND)
	wantCode(t, ops.TouchToken(ctx, again.ID+100, used), firebreak.ENOTFOUND)
}

func testTokensInvalid(t *testing.T, open OperatorOpener) {
	ops, ctx := open(t), context.Background()
	valid := firebreak.APIToken{Name: "siem", Role: firebreak.RoleResponder, Hash: hashOf("x"), CreatedBy: "alice"}
	tests := []struct {
		name  string
		edit  func(*firebreak.APIToken)
		field string
	}{
		{"bad name", func(t *firebreak.APIToken) { t.Name = "" }, "name"},
		{"bad role", func(t *firebreak.APIToken) { t.Role = "root" }, "role"},
		{"plain token", func(t *firebreak.APIToken) { t.Hash = "fbt_secret" }, "hash"},
		{"no creator", func(t *firebreak.APIToken) { t.CreatedBy = "" }, "created_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := valid
			tt.edit(&tok)
			wantField(t, ops.CreateToken(ctx, &tok), tt.field)
		})
	}
	if list, _ := ops.ListTokens(ctx); len(list) != 0 {
		t.Errorf("%d tokens stored after invalid creates, want 0", len(list))
	}
}
