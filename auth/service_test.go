package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/auth"
	"firebreak/mock"
	"firebreak/sqlite"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const password = "correct horse battery"

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// auditLog records audit records, or fails every append when err is set.
type auditLog struct {
	mu   sync.Mutex
	recs []firebreak.AuditRecord
	err  error
}

func (a *auditLog) Append(_ context.Context, rec firebreak.AuditRecord) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return 0, a.err
	}
	rec.Seq = int64(len(a.recs))
	a.recs = append(a.recs, rec)
	return rec.Seq, nil
}

// actions returns "action object" of every record.
func (a *auditLog) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.recs {
		out = append(out, r.Actor+" "+r.Action+" "+r.Object)
	}
	return out
}

type fixture struct {
	svc   *auth.Service
	store *sqlite.OperatorStore
	clock *clock
	audit *auditLog
}

// newFixture returns a service with cheap hashing over a real SQLite store.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{store: sqlite.NewOperatorStore(db), clock: &clock{now: t0}, audit: &auditLog{}}
	db.Now = f.clock.Now
	f.svc = auth.NewService(f.store, auth.Config{Params: auth.TestParams, Auditor: f.audit, Now: f.clock.Now})
	return f
}

func (f *fixture) operator(t *testing.T, name string, role firebreak.Role) *firebreak.Operator {
	t.Helper()
	op, err := f.svc.CreateOperator(context.Background(), "root", name, role, password)
	if err != nil {
		t.Fatalf("CreateOperator(%s): %v", name, err)
	}
	return op
}

func (f *fixture) login(t *testing.T, name string) (string, *auth.Principal) {
	t.Helper()
	cookie, p, err := f.svc.Login(context.Background(), name, password, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return cookie, p
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := firebreak.ErrorCode(err); got != code {
		t.Fatalf("err = %v (code %q), want %q", err, got, code)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	op := f.operator(t, "alice", firebreak.RoleResponder)
	cookie, p, err := f.svc.Login(context.Background(), "alice", password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" || p.Role != firebreak.RoleResponder || p.Kind != auth.KindSession || p.OperatorID != op.ID || p.Actor() != "alice" {
		t.Errorf("principal = %+v", p)
	}
	if len(cookie) != 43 || p.Session.IDHash != auth.HashSecret(cookie) || len(p.Session.CSRFToken) != 43 || p.Session.CSRFToken == cookie {
		t.Errorf("cookie %q, session %+v: want a random cookie stored only hashed and a distinct CSRF token", cookie, p.Session)
	}
	got, err := f.svc.Authenticate(context.Background(), cookie)
	if err != nil || got.Name != "alice" || got.Session.CSRFToken != p.Session.CSRFToken {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, c := range []string{"", "x", cookie + "x", auth.HashSecret(cookie)} {
		_, err := f.svc.Authenticate(context.Background(), c)
		wantCode(t, err, firebreak.EUNAUTHORIZED)
	}
	if err := f.svc.Logout(context.Background(), got, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authenticate(context.Background(), cookie)
	wantCode(t, err, firebreak.EUNAUTHORIZED)
	want := []string{"root operator.created operator/alice", "alice operator.login operator/alice", "alice operator.logout operator/alice"}
	if got := f.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

func TestLoginFailures(t *testing.T) {
	f := newFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	disabled := f.operator(t, "bob", firebreak.RoleViewer)
	disabled.Disabled = true
	if err := f.store.UpdateOperator(context.Background(), disabled); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, user, password, msg string }{
		{"wrong password", "alice", "correct horse batterY", "Wrong name or password."},
		{"unknown name", "mallory", password, "Wrong name or password."},
		{"invalid name", "Robert'); DROP TABLE", password, "Wrong name or password."},
		{"empty", "", "", "Wrong name or password."},
		{"disabled", "bob", password, "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.svc.Login(context.Background(), tt.user, tt.password, "192.0.2.1")
			wantCode(t, err, firebreak.EUNAUTHORIZED)
			if !strings.Contains(firebreak.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q, want %q", firebreak.ErrorMessage(err), tt.msg)
			}
		})
	}
	var failed int
	for _, a := range f.audit.actions() {
		if strings.Contains(a, "operator.login_failed") {
			failed++
			if strings.Contains(a, "DROP") {
				t.Errorf("junk input copied into the audit trail: %q", a)
			}
		}
	}
	if failed != len(tests) {
		t.Errorf("%d failed logins audited, want %d", failed, len(tests))
	}
}

// TestBackoff checks the lock after five failures, its doubling, that a
// locked name refuses even the right password, and that unknown names lock
// the same way.
func TestBackoff(t *testing.T) {
	for _, name := range []string{"alice", "mallory"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.operator(t, "alice", firebreak.RoleViewer)
			ctx := context.Background()
			try := func(pw string) error {
				_, _, err := f.svc.Login(ctx, name, pw, "192.0.2.1")
				return err
			}
			for i := 0; i < auth.FreeFailures; i++ {
				wantCode(t, try("wrong password!"), firebreak.EUNAUTHORIZED)
			}
			for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
				err := try(password)
				var locked *auth.LockedError
				if !errors.As(err, &locked) || locked.Wait != wait {
					t.Fatalf("while locked: err %v, want a LockedError of %v", err, wait)
				}
				wantCode(t, err, firebreak.ETOOMANYREQUEST)
				f.clock.Add(wait)
				wantCode(t, try("wrong password!"), firebreak.EUNAUTHORIZED)
			}
			f.clock.Add(8 * time.Second)
			err := try(password)
			if name == "mallory" {
				wantCode(t, err, firebreak.EUNAUTHORIZED)
				return
			}
			if err != nil {
				t.Fatalf("right password after the lock: %v", err)
			}
			op, _ := f.store.FindOperatorByName(ctx, "alice")
			if op.FailedLogins != 0 || !op.LockedUntil.IsZero() {
				t.Errorf("after a good login: %d failures, locked until %v; want both cleared", op.FailedLogins, op.LockedUntil)
			}
		})
	}
}

// TestBackoffConcurrent checks that parallel guesses cannot slip past the
// failure count.
func TestBackoffConcurrent(t *testing.T) {
	f := newFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.svc.Login(context.Background(), "alice", "wrong password!", "192.0.2.1")
			if firebreak.ErrorCode(err) == firebreak.EUNAUTHORIZED {
				mu.Lock()
				wrong++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wrong != auth.FreeFailures {
		t.Errorf("%d of 20 parallel guesses had their password checked, want %d", wrong, auth.FreeFailures)
	}
}

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("idle", func(t *testing.T) {
		f := newFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		cookie, _ := f.login(t, "alice")
		// Used every 29 minutes, the session lives on.
		for i := 0; i < 4; i++ {
			f.clock.Add(29 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, cookie); err != nil {
				t.Fatalf("after %d × 29 min: %v", i+1, err)
			}
		}
		f.clock.Add(auth.DefaultIdleTimeout)
		_, err := f.svc.Authenticate(ctx, cookie)
		wantCode(t, err, firebreak.EUNAUTHORIZED)
		if _, err := f.store.FindSession(ctx, auth.HashSecret(cookie)); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
			t.Errorf("an expired session is still stored: %v", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		f := newFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		cookie, _ := f.login(t, "alice")
		for elapsed := 20 * time.Minute; elapsed < auth.DefaultAbsoluteTimeout; elapsed += 20 * time.Minute {
			f.clock.Add(20 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, cookie); err != nil {
				t.Fatalf("after %v: %v", elapsed, err)
			}
		}
		f.clock.Add(20 * time.Minute)
		_, err := f.svc.Authenticate(ctx, cookie)
		wantCode(t, err, firebreak.EUNAUTHORIZED)
	})
	t.Run("touch is throttled", func(t *testing.T) {
		f := newFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		cookie, _ := f.login(t, "alice")
		f.clock.Add(30 * time.Second)
		f.svc.Authenticate(ctx, cookie)
		if s, _ := f.store.FindSession(ctx, auth.HashSecret(cookie)); !s.LastSeen.Equal(t0) {
			t.Errorf("LastSeen = %v after 30 s, want %v (written at most once a minute)", s.LastSeen, t0)
		}
		f.clock.Add(time.Minute)
		f.svc.Authenticate(ctx, cookie)
		if s, _ := f.store.FindSession(ctx, auth.HashSecret(cookie)); !s.LastSeen.Equal(t0.Add(90 * time.Second)) {
			t.Errorf("LastSeen = %v after 90 s, want it touched", s.LastSeen)
		}
	})
	t.Run("login sweeps expired sessions", func(t *testing.T) {
		f := newFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		old, _ := f.login(t, "alice")
		f.clock.Add(time.Hour)
		f.login(t, "alice")
		if _, err := f.store.FindSession(ctx, auth.HashSecret(old)); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
			t.Errorf("expired session survived a login: %v", err)
		}
	})
}

func TestDisableEndsSessions(t *testing.T) {
	f := newFixture(t)
	f.operator(t, "root", firebreak.RoleAdmin)
	f.operator(t, "alice", firebreak.RoleViewer)
	cookie, _ := f.login(t, "alice")
	if _, err := f.svc.UpdateOperator(context.Background(), "root", "alice", auth.OperatorUpdate{Disabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(context.Background(), cookie)
	wantCode(t, err, firebreak.EUNAUTHORIZED)
}

func TestUpdateOperator(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.operator(t, "root", firebreak.RoleAdmin)
	f.operator(t, "alice", firebreak.RoleViewer)
	newPassword := "a much better password"
	op, err := f.svc.UpdateOperator(ctx, "root", "alice", auth.OperatorUpdate{Role: new(firebreak.RoleApprover), Password: &newPassword})
	if err != nil || op.Role != firebreak.RoleApprover {
		t.Fatalf("UpdateOperator = %+v, %v", op, err)
	}
	if _, _, err := f.svc.Login(ctx, "alice", newPassword, ""); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	tests := []struct {
		name string
		who  string
		upd  auth.OperatorUpdate
		code string
	}{
		{"nothing", "alice", auth.OperatorUpdate{}, firebreak.EINVALID},
		{"bad role", "alice", auth.OperatorUpdate{Role: new(firebreak.Role("root"))}, firebreak.EINVALID},
		{"short password", "alice", auth.OperatorUpdate{Password: new("short")}, firebreak.EINVALID},
		{"unknown", "bob", auth.OperatorUpdate{Disabled: new(true)}, firebreak.ENOTFOUND},
		{"demote the last admin", "root", auth.OperatorUpdate{Role: new(firebreak.RoleViewer)}, firebreak.ECONFLICT},
		{"disable the last admin", "root", auth.OperatorUpdate{Disabled: new(true)}, firebreak.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.UpdateOperator(ctx, "root", tt.who, tt.upd)
			wantCode(t, err, tt.code)
		})
	}
	f.operator(t, "second", firebreak.RoleAdmin)
	if _, err := f.svc.UpdateOperator(ctx, "second", "root", auth.OperatorUpdate{Disabled: new(true)}); err != nil {
		t.Errorf("disable an admin while another remains: %v", err)
	}
}

func TestCreateOperatorInvalid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.operator(t, "alice", firebreak.RoleViewer)
	tests := []struct {
		name, user string
		role       firebreak.Role
		password   string
		code       string
		field      string
	}{
		{"taken", "alice", firebreak.RoleViewer, password, firebreak.ECONFLICT, "alice"},
		{"bad name", "Alice", firebreak.RoleViewer, password, firebreak.EINVALID, "name"},
		{"bad role", "bob", "root", password, firebreak.EINVALID, "role"},
		{"short password", "bob", firebreak.RoleViewer, "short", firebreak.EINVALID, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateOperator(ctx, "root", tt.user, tt.role, tt.password)
			wantCode(t, err, tt.code)
			if !strings.Contains(firebreak.ErrorMessage(err), tt.field) {
				t.Errorf("message %q does not name %q", firebreak.ErrorMessage(err), tt.field)
			}
		})
	}
}

func TestAPITokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, tok, err := f.svc.CreateToken(ctx, "root", "siem", firebreak.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.IsToken(secret) || tok.Hash != auth.HashSecret(secret) || tok.CreatedBy != "root" {
		t.Errorf("CreateToken = %q, %+v", secret, tok)
	}
	p, err := f.svc.AuthenticateToken(ctx, secret)
	if err != nil || p.Kind != auth.KindToken || p.Role != firebreak.RoleResponder || p.TokenID != tok.ID || p.Actor() != "token:siem" {
		t.Fatalf("AuthenticateToken = %+v, %v", p, err)
	}
	if stored, _ := f.store.FindToken(ctx, tok.Hash); !stored.LastUsed.Equal(t0) {
		t.Errorf("LastUsed = %v, want %v", stored.LastUsed, t0)
	}
	_, _, err = f.svc.CreateToken(ctx, "root", "siem", firebreak.RoleViewer)
	wantCode(t, err, firebreak.ECONFLICT)
	for _, bad := range []string{"", "fbt_", secret + "x", "Bearer " + secret, tok.Hash} {
		_, err := f.svc.AuthenticateToken(ctx, bad)
		wantCode(t, err, firebreak.EUNAUTHORIZED)
	}
	if err := f.svc.RevokeToken(ctx, "root", tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AuthenticateToken(ctx, secret)
	wantCode(t, err, firebreak.EUNAUTHORIZED)
	wantCode(t, f.svc.RevokeToken(ctx, "root", tok.ID+1), firebreak.ENOTFOUND)
	if err := f.svc.Logout(ctx, p, ""); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Errorf("Logout of a token = %v, want EINVALID", err)
	}
	want := []string{"root token.created token/siem", "root token.revoked token/siem"}
	if got := f.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestAuditFailsClosed checks that changes are refused when the audit trail
// cannot be written, and that signing out still works.
func TestAuditFailsClosed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.operator(t, "root", firebreak.RoleAdmin)
	f.operator(t, "alice", firebreak.RoleViewer)
	cookie, p := f.login(t, "alice")
	_, tok, err := f.svc.CreateToken(ctx, "root", "siem", firebreak.RoleResponder)
	if err != nil {
		t.Fatal(err)
	}
	f.audit.err = errors.New("disk full")
	_, err = f.svc.CreateOperator(ctx, "root", "bob", firebreak.RoleViewer, password)
	wantCode(t, err, firebreak.EUNAVAILABLE)
	_, err = f.svc.UpdateOperator(ctx, "root", "alice", auth.OperatorUpdate{Role: new(firebreak.RoleAdmin)})
	wantCode(t, err, firebreak.EUNAVAILABLE)
	_, _, err = f.svc.CreateToken(ctx, "root", "other", firebreak.RoleViewer)
	wantCode(t, err, firebreak.EUNAVAILABLE)
	wantCode(t, f.svc.RevokeToken(ctx, "root", tok.ID), firebreak.EUNAVAILABLE)
	_, _, err = f.svc.Login(ctx, "root", password, "")
	wantCode(t, err, firebreak.EUNAVAILABLE)

	ops, _ := f.store.ListOperators(ctx)
	tokens, _ := f.store.ListTokens(ctx)
	if len(ops) != 2 || ops[0].Role != firebreak.RoleViewer || len(tokens) != 1 || tokens[0].Revoked {
		t.Errorf("changes were made without an audit record: %d operators, alice %s, %d tokens", len(ops), ops[0].Role, len(tokens))
	}
	if err := f.svc.Logout(ctx, p, ""); err != nil {
		t.Errorf("Logout with a broken audit trail: %v", err)
	}
	_, err = f.svc.Authenticate(ctx, cookie)
	wantCode(t, err, firebreak.EUNAUTHORIZED)
}

// TestRehash checks that a hash made with old parameters is replaced at
// the next login.
func TestRehash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.operator(t, "alice", firebreak.RoleViewer)
	stronger := auth.TestParams
	stronger.Time = 2
	svc := auth.NewService(f.store, auth.Config{Params: stronger, Now: f.clock.Now})
	if _, _, err := svc.Login(ctx, "alice", password, ""); err != nil {
		t.Fatal(err)
	}
	op, _ := f.store.FindOperatorByName(ctx, "alice")
	if !strings.Contains(op.PasswordHash, "t=2") {
		t.Errorf("hash %q not upgraded to t=2", op.PasswordHash)
	}
	if _, _, err := svc.Login(ctx, "alice", password, ""); err != nil {
		t.Errorf("login after the upgrade: %v", err)
	}
}

// TestStoreErrors checks that store failures surface as internal errors
// and never as a successful authentication.
func TestStoreErrors(t *testing.T) {
	boom := errors.New("disk I/O error")
	ops := &mock.OperatorService{
		FindOperatorByNameFn: func(context.Context, string) (*firebreak.Operator, error) { return nil, boom },
		FindSessionFn:        func(context.Context, string) (*firebreak.Session, error) { return nil, boom },
		FindTokenFn:          func(context.Context, string) (*firebreak.APIToken, error) { return nil, boom },
		CountOperatorsFn:     func(context.Context) (int, error) { return 0, boom },
	}
	svc := auth.NewService(ops, auth.Config{Params: auth.TestParams})
	ctx := context.Background()
	tok, _ := auth.NewToken()
	_, _, err := svc.Login(ctx, "alice", password, "")
	wantCode(t, err, firebreak.EINTERNAL)
	_, err = svc.Authenticate(ctx, "cookie")
	wantCode(t, err, firebreak.EINTERNAL)
	_, err = svc.AuthenticateToken(ctx, tok)
	wantCode(t, err, firebreak.EINTERNAL)
	_, err = svc.HasOperators(ctx)
	wantCode(t, err, firebreak.EINTERNAL)
}

// TestUnknownNameCostsAHash checks, roughly, that a login for an unknown
// name takes as long as one for a known name: both verify a hash.
func TestUnknownNameCostsAHash(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the default parameters")
	}
	f := newFixture(t)
	svc := auth.NewService(f.store, auth.Config{Now: f.clock.Now})
	if _, err := svc.CreateOperator(context.Background(), "root", "alice", firebreak.RoleViewer, password); err != nil {
		t.Fatal(err)
	}
	median := func(name string) time.Duration {
		var d []time.Duration
		for i := 0; i < 3; i++ {
			start := time.Now()
			svc.Login(context.Background(), name, "wrong password!", "")
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d[1]
	}
	known, unknown := median("alice"), median("mallory")
	if unknown < known/2 {
		t.Errorf("unknown name took %v, known %v: timing tells them apart", unknown, known)
	}
}
