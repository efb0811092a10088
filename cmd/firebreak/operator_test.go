package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"firebreak"
	"firebreak/audit"
)

func TestOperatorCommand(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runOperatorCmd(t, "", "add", "--data", dir, "--name", "alice", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Password \(shown once, keep it safe\): ([A-Za-z0-9_-]{24})$`).FindStringSubmatch(out)
	if !strings.Contains(out, "Created operator alice (admin).") || m == nil {
		t.Fatalf("add printed %q: want the operator and a generated password", out)
	}
	out, _, err = runOperatorCmd(t, "a chosen password\n", "add", "--data", dir, "--name", "bob", "--role", "responder", "--password-stdin")
	if err != nil || strings.Contains(out, "Password") {
		t.Fatalf("add --password-stdin = %q, %v: want no password printed", out, err)
	}
	token, info, err := runOperatorCmd(t, "", "token", "--data", dir, "--name", "siem", "--role", "responder")
	if err != nil || !regexp.MustCompile(`^fbt_[A-Za-z0-9_-]{43}\n$`).MatchString(token) || !strings.Contains(info, "shown once") {
		t.Fatalf("token printed %q and %q, %v: want the token alone on stdout", token, info, err)
	}
	out, _, err = runOperatorCmd(t, "", "list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice", "admin", "bob", "responder", "siem (id 1)", "never", "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	// The credentials work against a server on the same data directory.
	c, _ := openServe(t, dir)
	base := c.Server.URL()
	client := signIn(t, base, "alice", m[1])
	if code, body := getWith(t, client, base+"/incidents"); code != http.StatusOK || !strings.Contains(body, `id="operator">alice<`) {
		t.Errorf("GET /incidents signed in = %d", code)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/me with the token = %d", resp.StatusCode)
	}
	// While the server runs it holds the audit trail, and an operator
	// added behind its back would go unrecorded: the command refuses and
	// points at the API.
	if _, _, err := runOperatorCmd(t, "", "add", "--data", dir, "--name", "carol", "--role", "viewer"); err == nil || !strings.Contains(err.Error(), "use its API") {
		t.Errorf("add while serving: err = %v, want a refusal pointing at the API", err)
	}
	// Listing needs no audit record and works alongside the server.
	if out, _, err := runOperatorCmd(t, "", "list", "--data", dir); err != nil || !strings.Contains(out, "alice") {
		t.Errorf("list while serving: %v\n%s", err, out)
	}
}

func TestOperatorCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runOperatorCmd(t, "", "add", "--data", dir, "--name", "alice", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		usage bool   // a usage error, explained on stderr
		want  string // in the error or on stderr
	}{
		{"no subcommand", "", nil, true, "Usage"},
		{"unknown subcommand", "", []string{"remove"}, true, `unknown subcommand "remove"`},
		{"no name", "", []string{"add", "--data", dir, "--role", "admin"}, true, "--name is required"},
		{"no role", "", []string{"token", "--data", dir, "--name", "x1"}, true, "--role is required"},
		{"extra argument", "", []string{"list", "--data", dir, "extra"}, true, `unexpected argument "extra"`},
		{"bad role", "", []string{"add", "--data", dir, "--name", "bob", "--role", "root"}, false, "--role: must be one of viewer, responder, approver, admin"},
		{"bad name", "", []string{"add", "--data", dir, "--name", "Bob", "--role", "viewer"}, false, "--name: must be"},
		{"taken", "", []string{"add", "--data", dir, "--name", "alice", "--role", "viewer"}, false, `Operator "alice" already exists.`},
		{"short password", "short\n", []string{"add", "--data", dir, "--name", "bob", "--role", "viewer", "--password-stdin"}, false, "--password: must be at least 12 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runOperatorCmd(t, tt.stdin, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, errUsage) != tt.usage {
				t.Errorf("err = %v, usage error %v, want %v", err, errors.Is(err, errUsage), tt.usage)
			}
			if !strings.Contains(err.Error()+stderr, tt.want) {
				t.Errorf("error %q, stderr %q: want %q", err, stderr, tt.want)
			}
		})
	}
}

// runOperatorCmd runs an operator subcommand with stdin as its standard
// input, and returns what it printed.
func runOperatorCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	cmd := &OperatorCommand{stdout: &out, stderr: &errOut, stdin: strings.NewReader(stdin)}
	err = cmd.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// TestDemoOperator checks that the demo's admin gets a fresh password on
// every run, also on a data directory it used before.
func TestDemoOperator(t *testing.T) {
	dir, ctx := t.TempDir(), context.Background()
	_, first, err := demoOperator(ctx, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	name, second, err := demoOperator(ctx, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	svc, closeDB, err := openAuth(ctx, dir, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if _, _, err := svc.Login(ctx, name, first, ""); err == nil {
		t.Error("the first run's password still works")
	}
	if _, p, err := svc.Login(ctx, name, second, ""); err != nil || p.Role != firebreak.RoleAdmin {
		t.Errorf("login with the new password: %+v, %v; want an admin", p, err)
	}
}

// TestOperatorCommandIsAudited checks that operators and tokens created
// from the command line go on the audit trail like any other step.
func TestOperatorCommandIsAudited(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runOperatorCmd(t, "", "add", "--data", dir, "--name", "alice", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runOperatorCmd(t, "", "token", "--data", dir, "--name", "siem", "--role", "responder"); err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	recs, err := log.Records(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action+" "+r.Actor)
	}
	want := []string{firebreak.AuditOperatorCreated + " cli", firebreak.AuditTokenCreated + " cli"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit records %v, want %v", actions, want)
	}
}
