package http_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"firebreak"
	"firebreak/auth"
	fbhttp "firebreak/http"
)

func TestMe(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleApprover)
	cookie, csrf := f.session(t, "alice")
	tok := f.token(t, "ci", firebreak.RoleResponder)
	tests := []struct {
		name    string
		headers []string
		want    fbhttp.MeResponse
	}{
		{"session", sessionHeaders(cookie, ""), fbhttp.MeResponse{Name: "alice", Role: firebreak.RoleApprover, Kind: "session", Actor: "alice", CSRFToken: csrf}},
		{"token", []string{"Authorization", "Bearer " + tok}, fbhttp.MeResponse{Name: "ci", Role: firebreak.RoleResponder, Kind: "token", Actor: "token:ci"}},
		{"static token", []string{"Authorization", "Bearer " + testToken}, fbhttp.MeResponse{Name: "api", Role: firebreak.RoleAdmin, Kind: "token", Actor: "api"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", "/api/v1/me", nil, tt.headers...)
			if got := decode[fbhttp.MeResponse](t, w); w.Code != 200 || got != tt.want {
				t.Errorf("GET /api/v1/me = %d %+v, want %+v", w.Code, got, tt.want)
			}
		})
	}
}

// TestManageOperators drives the admin API as an admin's session: create,
// list and change operators, with each change audited.
func TestManageOperators(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "root", firebreak.RoleAdmin)
	cookie, csrf := f.session(t, "root")
	admin := append(sessionHeaders(cookie, csrf), "Content-Type", ctJSON)

	w := f.do("POST", "/api/v1/operators", []byte(`{"name":"bob","role":"responder","password":"`+password+`"}`), admin...)
	if got := decode[firebreak.Operator](t, w); w.Code != 201 || got.Name != "bob" || got.Role != firebreak.RoleResponder || got.ID == 0 {
		t.Fatalf("create = %d %+v", w.Code, got)
	}
	if strings.Contains(w.Body.String(), "argon2") || strings.Contains(w.Body.String(), password) {
		t.Errorf("the response leaks the password or its hash: %s", w.Body)
	}
	w = f.do("POST", "/api/v1/operators", []byte(`{"name":"bob","role":"viewer","password":"`+password+`"}`), admin...)
	wantMessage(t, w, firebreak.ECONFLICT, "bob")
	w = f.do("POST", "/api/v1/operators", []byte(`{"name":"carol","role":"viewer","password":"short"}`), admin...)
	checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EINVALID, "password")

	w = f.do("PATCH", "/api/v1/operators/bob", []byte(`{"role":"approver","disabled":true}`), admin...)
	if got := decode[firebreak.Operator](t, w); w.Code != 200 || got.Role != firebreak.RoleApprover || !got.Disabled {
		t.Fatalf("update = %d %+v", w.Code, got)
	}
	w = f.do("PATCH", "/api/v1/operators/root", []byte(`{"role":"viewer"}`), admin...)
	wantMessage(t, w, firebreak.ECONFLICT, "last enabled admin")
	w = f.do("PATCH", "/api/v1/operators/nobody", []byte(`{"disabled":true}`), admin...)
	wantMessage(t, w, firebreak.ENOTFOUND, "nobody")
	w = f.do("PATCH", "/api/v1/operators/bob", []byte(`{"colour":"red"}`), admin...)
	if w.Code != 400 {
		t.Errorf("unknown field = %d, want 400", w.Code)
	}

	w = f.do("GET", "/api/v1/operators", nil, admin...)
	got := decode[fbhttp.OperatorsResponse](t, w)
	if len(got.Operators) != 2 || got.Operators[0].Name != "bob" || got.Operators[1].Name != "root" {
		t.Errorf("list = %+v", got.Operators)
	}
	want := []string{"root operator.created operator/bob", "root operator.updated operator/bob"}
	if got := f.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestManageTokens creates a token through the API, uses it, and revokes it.
func TestManageTokens(t *testing.T) {
	f := newAuthFixture(t)
	admin := []string{"Authorization", "Bearer " + testToken, "Content-Type", ctJSON}
	w := f.do("POST", "/api/v1/tokens", []byte(`{"name":"siem","role":"viewer"}`), admin...)
	created := decode[fbhttp.CreateTokenResponse](t, w)
	if w.Code != 201 || !strings.HasPrefix(created.Token, "fbt_") || created.APIToken == nil || created.CreatedBy != fbhttp.APIActor {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("the token's response may be cached: %q", w.Header().Get("Cache-Control"))
	}
	use := []string{"Authorization", "Bearer " + created.Token}
	if w := f.do("GET", "/api/v1/stats", nil, use...); w.Code != 200 {
		t.Fatalf("the new token reads stats: %d", w.Code)
	}
	if w := f.do("POST", "/api/v1/events", lines(event("u1")), append(use, "Content-Type", "application/x-ndjson")...); w.Code != 403 {
		t.Errorf("a viewer token posts events: %d, want 403", w.Code)
	}
	w = f.do("GET", "/api/v1/tokens", nil, admin...)
	if strings.Contains(w.Body.String(), created.Token) || strings.Contains(w.Body.String(), auth.HashSecret(created.Token)) {
		t.Errorf("the token list shows the secret or its hash: %s", w.Body)
	}
	if got := decode[fbhttp.TokensResponse](t, w); len(got.Tokens) != 1 || got.Tokens[0].Name != "siem" || got.Tokens[0].LastUsed.IsZero() {
		t.Errorf("list = %+v, want siem, used", got.Tokens)
	}
	if w := f.do("DELETE", "/api/v1/tokens/"+strconv.FormatInt(created.ID, 10), nil, admin...); w.Code != 204 {
		t.Fatalf("revoke = %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/api/v1/stats", nil, use...); w.Code != 401 {
		t.Errorf("a revoked token reads stats: %d", w.Code)
	}
	wantMessage(t, f.do("DELETE", "/api/v1/tokens/999", nil, admin...), firebreak.ENOTFOUND, "999")
	checkError(t, decode[fbhttp.ErrorResponse](t, f.do("DELETE", "/api/v1/tokens/x", nil, admin...)), firebreak.EINVALID, "id")
	want := []string{"api token.created token/siem", "api token.revoked token/siem"}
	if got := f.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestAuditFailsClosed checks that operator and token changes answer 503
// and change nothing when the audit trail cannot be written.
func TestAuditFailsClosed(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "bob", firebreak.RoleViewer)
	f.audit.fail(errors.New("disk full"))
	admin := []string{"Authorization", "Bearer " + testToken, "Content-Type", ctJSON}
	requests := []struct{ method, path, body string }{
		{"POST", "/api/v1/operators", `{"name":"carol","role":"viewer","password":"` + password + `"}`},
		{"PATCH", "/api/v1/operators/bob", `{"role":"admin"}`},
		{"POST", "/api/v1/tokens", `{"name":"siem","role":"viewer"}`},
	}
	for _, rq := range requests {
		w := f.do(rq.method, rq.path, []byte(rq.body), admin...)
		wantMessage(t, w, firebreak.EUNAVAILABLE, "audit trail")
	}
	w := f.do("GET", "/api/v1/operators", nil, admin...)
	if got := decode[fbhttp.OperatorsResponse](t, w); len(got.Operators) != 1 || got.Operators[0].Role != firebreak.RoleViewer {
		t.Errorf("operators changed without an audit record: %+v", got.Operators)
	}
	if w := f.postLogin("bob", password, ""); w.Code != 503 {
		t.Errorf("login without an audit trail = %d, want 503", w.Code)
	}
}

func TestOperatorsWithoutStore(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/api/v1/operators", "/api/v1/tokens"} {
		wantMessage(t, f.do("GET", path, nil), firebreak.EUNAVAILABLE, "operator store")
	}
	if w := f.do("POST", "/login", []byte("name=a&password=b"), "Authorization", "", "Content-Type", ctForm); w.Code != 503 {
		t.Errorf("POST /login without a store = %d, want 503", w.Code)
	}
}
