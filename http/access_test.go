package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/auth"
	fbhttp "firebreak/http"
	"firebreak/mock"
	"firebreak/sqlite"
)

// wantAccess is who may use each route, written out here independently of
// the route table: "public", or the least role that may. A route the server
// serves that is missing here fails TestRouteAccess.
var wantAccess = map[string]string{
	"POST /api/v1/events":                                 "responder",
	"POST /api/v1/score":                                  "responder",
	"GET /api/v1/stats":                                   "viewer",
	"GET /api/v1/logins":                                  "viewer",
	"GET /api/v1/stream":                                  "viewer",
	"GET /api/v1/incidents":                               "viewer",
	"GET /api/v1/incidents/{id}":                          "viewer",
	"PATCH /api/v1/incidents/{id}":                        "responder",
	"GET /api/v1/incidents/{id}/accounts":                 "viewer",
	"POST /api/v1/incidents/{id}/accounts/{account}/move": "responder",
	"GET /api/v1/incidents/{id}/timeline":                 "viewer",
	"GET /api/v1/incidents/{id}/plans":                    "viewer",
	"POST /api/v1/incidents/{id}/plans":                   "responder",
	"GET /api/v1/plans/{id}":                              "viewer",
	"PUT /api/v1/plans/{id}":                              "responder",
	"GET /api/v1/plans/{id}/targets":                      "viewer",
	"POST /api/v1/plans/{id}/approvals":                   "approver",
	"POST /api/v1/plans/{id}/runs":                        "responder",
	"GET /api/v1/runs":                                    "viewer",
	"GET /api/v1/runs/{id}":                               "viewer",
	"GET /api/v1/runs/{id}/items":                         "viewer",
	"POST /api/v1/runs/{id}/pause":                        "responder",
	"POST /api/v1/runs/{id}/resume":                       "responder",
	"POST /api/v1/runs/{id}/kill":                         "responder",
	"POST /api/v1/runs/{id}/rollback":                     "responder",
	"GET /api/v1/feed/{account}":                          "viewer",
	"GET /api/v1/notices":                                 "viewer",
	"GET /api/v1/notices/{id}":                            "viewer",
	"GET /api/v1/incidents/{id}/appeals":                  "viewer",
	"POST /api/v1/appeals/{id}/decision":                  "approver",
	"GET /api/v1/incidents/{id}/notice-preview":           "viewer",
	"GET /api/v1/incidents/{id}/communication":            "viewer",
	"GET /outbox":                                         "viewer",
	"GET /outbox/{id}":                                    "viewer",
	"GET /incidents/{id}/appeals":                         "viewer",
	"POST /incidents/{id}/appeals/{appeal}/decide":        "approver",
	"GET /incidents/{id}/preview":                         "viewer",
	"GET /partials/incidents/{id}/communication":          "viewer",
	"GET /api/v1/status-updates":                          "viewer",
	"POST /api/v1/status-updates":                         "responder",
	"GET /api/v1/status-updates/overdue":                  "viewer",
	"POST /incidents/{id}/status":                         "responder",
	"GET /status":                                         "public",
	"GET /status/{path...}":                               "public",
	"POST /status/{path...}":                              "public",
	"GET /self-service/{path...}":                         "public",
	"POST /self-service/{path...}":                        "public",
	"GET /api/v1/audit":                                   "viewer",
	"GET /api/v1/audit/checkpoint":                        "viewer",
	"GET /api/v1/me":                                      "viewer",
	"GET /api/v1/operators":                               "admin",
	"POST /api/v1/operators":                              "admin",
	"PATCH /api/v1/operators/{name}":                      "admin",
	"GET /api/v1/tokens":                                  "admin",
	"POST /api/v1/tokens":                                 "admin",
	"DELETE /api/v1/tokens/{id}":                          "admin",
	"GET /api/v1/openapi.yaml":                            "public",
	"GET /healthz":                                        "public",
	"GET /readyz":                                         "public",
	"GET /metrics":                                        "public",
	"GET /login":                                          "public",
	"POST /login":                                         "public",
	"POST /logout":                                        "viewer",
	"GET /{$}":                                            "viewer",
	"GET /partials/risky":                                 "viewer",
	"GET /incidents":                                      "viewer",
	"GET /incidents/{id}":                                 "viewer",
	"POST /incidents/{id}/plans":                          "responder",
	"POST /incidents/{id}/state":                          "responder",
	"POST /incidents/{id}/accounts/{account}/move":        "responder",
	"GET /plans/{id}":                                     "viewer",
	"POST /plans/{id}/approve":                            "approver",
	"POST /plans/{id}/run":                                "responder",
	"GET /runs/{id}":                                      "viewer",
	"GET /partials/runs/{id}":                             "viewer",
	"POST /runs/{id}/pause":                               "responder",
	"POST /runs/{id}/resume":                              "responder",
	"POST /runs/{id}/kill":                                "responder",
	"POST /runs/{id}/rollback":                            "responder",
	"GET /accounts/{account}":                             "viewer",
	"GET /assets/{file}":                                  "public",
}

// rank orders the roles for the expectations, least powerful first.
var rank = map[string]int{"viewer": 1, "responder": 2, "approver": 3, "admin": 4}

// password is every test operator's password.
const password = "correct horse battery"

// clock is a settable fake clock shared by the server and its auth service.
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
	a.recs = append(a.recs, rec)
	return int64(len(a.recs) - 1), nil
}

func (a *auditLog) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *auditLog) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.recs {
		out = append(out, r.Actor+" "+r.Action+" "+r.Object)
	}
	return out
}

// authFixture is a server with operators in a real SQLite store, a fake
// clock and an audit log.
type authFixture struct {
	*fixture
	incidents *mock.IncidentService
	store     *sqlite.OperatorStore
	svc       *auth.Service // over the same store, to create operators and tokens
	clock     *clock
	audit     *auditLog
}

func newAuthFixture(t testing.TB, opts ...func(*fbhttp.Config)) *authFixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &authFixture{incidents: &mock.IncidentService{}, store: sqlite.NewOperatorStore(db), clock: &clock{now: now}, audit: &auditLog{}}
	db.Now = f.clock.Now
	f.svc = auth.NewService(f.store, auth.Config{Params: auth.TestParams, Now: f.clock.Now})
	f.fixture = newFixture(t, append([]func(*fbhttp.Config){func(c *fbhttp.Config) {
		c.Operators, c.Auth, c.Auditor, c.Now = f.store, auth.Config{Params: auth.TestParams}, f.audit, f.clock.Now
		c.Incidents = f.incidents
	}}, opts...)...)
	return f
}

// operator creates an operator with the test password.
func (f *authFixture) operator(t testing.TB, name string, role firebreak.Role) {
	t.Helper()
	if _, err := f.svc.CreateOperator(context.Background(), "test", name, role, password); err != nil {
		t.Fatalf("create operator %s: %v", name, err)
	}
}

// session signs name in and returns the cookie value and CSRF token.
func (f *authFixture) session(t testing.TB, name string) (cookie, csrf string) {
	t.Helper()
	cookie, p, err := f.svc.Login(context.Background(), name, password, "192.0.2.1")
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return cookie, p.Session.CSRFToken
}

// token creates an API token with role.
func (f *authFixture) token(t testing.TB, name string, role firebreak.Role) string {
	t.Helper()
	secret, _, err := f.svc.CreateToken(context.Background(), "test", name, role)
	if err != nil {
		t.Fatalf("create token %s: %v", name, err)
	}
	return secret
}

// sessionHeaders returns headers carrying a session cookie and, when csrf is
// not empty, its CSRF token.
func sessionHeaders(cookie, csrf string) []string {
	h := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie}
	if csrf != "" {
		h = append(h, "X-CSRF-Token", csrf)
	}
	return h
}

// TestRouteAccess walks every route of the router with every role, as a
// session and as an API token, and anonymously, and checks who gets in
// against wantAccess.
func TestRouteAccess(t *testing.T) {
	f := newAuthFixture(t)
	f.incidents.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	f.operator(t, "walker", firebreak.RoleViewer) // signs in through POST /login
	type who struct {
		name, role string
		headers    func(method string) []string
	}
	principals := []who{{name: "anonymous", headers: func(string) []string { return []string{"Authorization", ""} }}}
	for _, role := range firebreak.Roles {
		name := "op-" + string(role)
		f.operator(t, name, role)
		cookie, csrf := f.session(t, name)
		principals = append(principals, who{name: string(role) + " session", role: string(role), headers: func(method string) []string {
			if method == "POST /logout" { // signing out ends the session: use a fresh one
				c, x := f.session(t, name)
				return sessionHeaders(c, x)
			}
			return sessionHeaders(cookie, csrf)
		}})
		tok := f.token(t, "tok-"+string(role), role)
		principals = append(principals, who{name: string(role) + " token", role: string(role), headers: func(string) []string {
			return []string{"Authorization", "Bearer " + tok}
		}})
	}
	principals = append(principals, who{name: "static token", role: "admin", headers: func(string) []string {
		return []string{"Authorization", "Bearer " + testToken}
	}})

	routes := f.server.Routes()
	seen := map[string]bool{}
	for _, pattern := range routes {
		seen[pattern] = true
		want, ok := wantAccess[pattern]
		if !ok {
			t.Errorf("route %q is missing from wantAccess: say who may use it", pattern)
			continue
		}
		for _, p := range principals {
			t.Run(pattern+" as "+p.name, func(t *testing.T) {
				allowed := want == "public" || (p.role != "" && rank[p.role] >= rank[want])
				w := walk(f, pattern, p.headers(pattern))
				if denied := deniedByAccess(pattern, w); denied == allowed {
					t.Errorf("status %d (Location %q), want allowed=%v for %s; body %.300s",
						w.Code, w.Header().Get("Location"), allowed, want, w.Body)
				}
				if w.Code == 403 && !strings.Contains(w.Body.String(), want) {
					t.Errorf("403 does not name the role needed (%s): %.300s", want, w.Body)
				}
			})
		}
	}
	for pattern := range wantAccess {
		if !seen[pattern] {
			t.Errorf("wantAccess has %q, which the server does not serve", pattern)
		}
	}
}

// walk sends one request to pattern with path values filled in and a body
// that gets past access control.
func walk(f *authFixture, pattern string, headers []string) *httptest.ResponseRecorder {
	method, path, _ := strings.Cut(pattern, " ")
	if strings.HasPrefix(path, "/api/v1/tokens/") {
		path = "/api/v1/tokens/999" // not a token the walk uses
	}
	path = strings.NewReplacer("{$}", "", "{id}", "1", "{account}", "u1", "{name}", "nobody", "{file}", "missing.css").Replace(path)
	var body []byte
	switch {
	case pattern == "POST /login":
		body = []byte(url.Values{"name": {"walker"}, "password": {password}}.Encode())
		headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
	case method != "GET" && method != "DELETE":
		body = []byte(`{}`)
		headers = append(headers, "Content-Type", "application/json")
	}
	r := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	// The live stream runs until its request ends.
	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
	defer cancel()
	w := httptest.NewRecorder()
	f.server.Handler().ServeHTTP(w, r.WithContext(ctx))
	return w
}

// deniedByAccess reports whether access control turned the request away:
// 401, 403, or a page sending the visitor to the sign-in form.
func deniedByAccess(pattern string, w *httptest.ResponseRecorder) bool {
	switch w.Code {
	case 401, 403:
		return true
	case 303:
		loc := w.Header().Get("Location")
		if pattern == "POST /logout" {
			// Signing out also ends at the sign-in form, but clears the cookie.
			return !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0")
		}
		return strings.HasPrefix(loc, "/login")
	}
	return false
}

// TestAccessDocumented checks that docs/access.md lists every route with
// the role the route table gives it.
func TestAccessDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "access.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ra := range newFixture(t).server.Access() {
		row := fmt.Sprintf("| `%s` | %s |", ra.Pattern, ra.Access)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/access.md lacks the row %q", row)
		}
	}
}

// TestTimelineActor checks that changes are recorded under who made them.
func TestTimelineActor(t *testing.T) {
	f := newAuthFixture(t)
	var actors []string
	f.incidents.UpdateFn = func(_ context.Context, id int64, _ firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
		actors = append(actors, actor)
		return incident(id), nil
	}
	f.operator(t, "alice", firebreak.RoleResponder)
	cookie, csrf := f.session(t, "alice")
	tok := f.token(t, "ci", firebreak.RoleResponder)
	for _, headers := range [][]string{
		sessionHeaders(cookie, csrf),
		{"Authorization", "Bearer " + tok},
		{"Authorization", "Bearer " + testToken},
	} {
		w := f.do("PATCH", "/api/v1/incidents/3", []byte(`{"state":"triaged"}`), append(headers, "Content-Type", "application/json")...)
		if w.Code != 200 {
			t.Fatalf("PATCH = %d %s", w.Code, w.Body)
		}
	}
	if want := []string{"alice", "token:ci", fbhttp.APIActor}; strings.Join(actors, ",") != strings.Join(want, ",") {
		t.Errorf("actors = %q, want %q", actors, want)
	}
}
