package http_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

const ctForm = "application/x-www-form-urlencoded"

// postLogin posts the sign-in form; extra headers alternate names and values.
func (f *authFixture) postLogin(name, pw, next string, headers ...string) *httptest.ResponseRecorder {
	form := url.Values{"name": {name}, "password": {pw}}
	if next != "" {
		form.Set("next", next)
	}
	return f.do("POST", "/login", []byte(form.Encode()), append([]string{"Authorization", "", "Content-Type", ctForm}, headers...)...)
}

// sessionOf returns the session cookie a response set.
func sessionOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == fbhttp.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("no session cookie in %q (status %d, body %.300s)", w.Header().Values("Set-Cookie"), w.Code, w.Body)
	return ""
}

func TestLoginSetsCookie(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	w := f.postLogin("alice", password, "/incidents?state=triaged")
	if w.Code != 303 || w.Header().Get("Location") != "/incidents?state=triaged" {
		t.Fatalf("POST /login = %d to %q, want 303 to next", w.Code, w.Header().Get("Location"))
	}
	set := w.Header().Get("Set-Cookie")
	for _, attr := range []string{fbhttp.SessionCookie + "=", "Path=/", "Max-Age=43200", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(set, attr) {
			t.Errorf("Set-Cookie %q lacks %s", set, attr)
		}
	}
	if strings.Contains(set, "Domain=") {
		t.Errorf("Set-Cookie %q has a Domain: the cookie must stay on this host", set)
	}
	cookie := sessionOf(t, w)
	page := f.do("GET", "/incidents", nil, "Authorization", "", "Cookie", fbhttp.SessionCookie+"="+cookie)
	if page.Code != 200 {
		t.Fatalf("GET /incidents with the cookie = %d", page.Code)
	}
	want := []string{"Signed in as", `id="operator">alice</strong>`, `action="/logout"`, `name="csrf"`, `<meta name="csrf-token"`, `hx-headers='{"X-CSRF-Token":`}
	for _, s := range want {
		if !strings.Contains(page.Body.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if got := f.audit.actions(); len(got) != 1 || got[0] != "alice operator.login operator/alice" {
		t.Errorf("audit = %q, want the login", got)
	}
}

func TestLoginOpenRedirect(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/\t/evil.example"} {
		w := f.postLogin("alice", password, next)
		if w.Code != 303 || w.Header().Get("Location") != "/" {
			t.Errorf("next=%q: %d to %q, want 303 to /", next, w.Code, w.Header().Get("Location"))
		}
	}
	// The form keeps a local next, and only that.
	w := f.do("GET", "/login?next="+url.QueryEscape("https://evil.example/"), nil, "Authorization", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), "evil.example") {
		t.Errorf("GET /login with a foreign next = %d, body keeps it: %v", w.Code, strings.Contains(w.Body.String(), "evil"))
	}
}

func TestLoginForm(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	w := f.do("GET", "/login?next=%2Fincidents%2F4", nil, "Authorization", "")
	body := checkHTML(t, w, 200)
	containsAll(t, body, `<form method="post" action="/login"`, `name="next" value="/incidents/4"`, `autocomplete="current-password"`,
		"plain HTTP") // httptest's Host is example.com, not loopback
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q does not let the form post to this server", csp)
	}
	loopback := httptest.NewRequest("GET", "/login", nil)
	loopback.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	f.server.Handler().ServeHTTP(rec, loopback)
	if strings.Contains(rec.Body.String(), "plain HTTP") {
		t.Error("the plain-HTTP warning shows on loopback, where browsers keep Secure cookies")
	}

	w = f.postLogin("alice", "wrong password!", "/incidents")
	body = checkHTML(t, w, 401)
	containsAll(t, body, "Wrong name or password.", `value="alice"`, `name="next" value="/incidents"`)
	if c := w.Header().Get("Set-Cookie"); c != "" {
		t.Errorf("a failed login set a cookie: %q", c)
	}

	// Signed in already: straight on to next.
	cookie, _ := f.session(t, "alice")
	w = f.do("GET", "/login?next=%2Fincidents", nil, "Authorization", "", "Cookie", fbhttp.SessionCookie+"="+cookie)
	if w.Code != 303 || w.Header().Get("Location") != "/incidents" {
		t.Errorf("GET /login when signed in = %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestLoginCrossSite(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		if w := f.postLogin("alice", password, "", h...); w.Code != 403 || w.Header().Get("Set-Cookie") != "" {
			t.Errorf("cross-site login with %s = %d, Set-Cookie %q; want 403 and no cookie", h[0], w.Code, w.Header().Get("Set-Cookie"))
		}
	}
	if w := f.postLogin("alice", password, "", "Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"); w.Code != 303 {
		t.Errorf("same-origin login = %d, want 303", w.Code)
	}
}

// TestLoginBackoff checks that the sixth failed login in a row is locked
// out with 429 and Retry-After, even with the right password.
func TestLoginBackoff(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	for i := 0; i < 5; i++ {
		if w := f.postLogin("alice", "wrong password!", ""); w.Code != 401 {
			t.Fatalf("failure %d: status %d, want 401", i+1, w.Code)
		}
	}
	w := f.postLogin("alice", password, "")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "Too many failed sign-ins") {
		t.Fatalf("locked login = %d, Retry-After %q; want 429 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	f.clock.Add(time.Second)
	if w := f.postLogin("alice", password, ""); w.Code != 303 {
		t.Errorf("after the lock: %d, want 303", w.Code)
	}
}

// TestSessionExpiry checks the idle and the absolute timeout through the
// server, and what a page and the API answer once a session has ended.
func TestSessionExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		f := newAuthFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		cookie := sessionOf(t, f.postLogin("alice", password, ""))
		headers := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie}
		f.clock.Add(29 * time.Minute)
		if w := f.do("GET", "/api/v1/me", nil, headers...); w.Code != 200 {
			t.Fatalf("after 29 idle minutes: %d", w.Code)
		}
		f.clock.Add(30 * time.Minute)
		w := f.do("GET", "/api/v1/me", nil, headers...)
		wantMessage(t, w, firebreak.EUNAUTHORIZED, "session has ended")
		if !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("the ended session's cookie was not cleared: %q", w.Header().Get("Set-Cookie"))
		}
		w = f.do("GET", "/incidents/7?tier=at_risk", nil, headers...)
		if w.Code != 303 || w.Header().Get("Location") != "/login?next="+url.QueryEscape("/incidents/7?tier=at_risk") {
			t.Errorf("page after expiry = %d to %q, want the sign-in form coming back here", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("absolute", func(t *testing.T) {
		f := newAuthFixture(t)
		f.operator(t, "alice", firebreak.RoleViewer)
		cookie := sessionOf(t, f.postLogin("alice", password, ""))
		headers := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie}
		for i := 0; i < 35; i++ { // 35 × 20 min = 11 h 40 min
			f.clock.Add(20 * time.Minute)
			if w := f.do("GET", "/api/v1/me", nil, headers...); w.Code != 200 {
				t.Fatalf("after %d × 20 min: %d", i+1, w.Code)
			}
		}
		f.clock.Add(20 * time.Minute)
		if w := f.do("GET", "/api/v1/me", nil, headers...); w.Code != 401 {
			t.Errorf("after 12 h: %d, want 401", w.Code)
		}
	})
}

// TestCSRF checks that state-changing requests of sessions need the
// session's CSRF token and must not come from another site, while bearer
// tokens and reads need neither.
func TestCSRF(t *testing.T) {
	f := newAuthFixture(t)
	f.incidents.UpdateFn = func(_ context.Context, id int64, _ firebreak.IncidentUpdate, _ string) (*firebreak.Incident, error) {
		return incident(id), nil
	}
	f.incidents.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	f.operator(t, "alice", firebreak.RoleResponder)
	cookie, csrf := f.session(t, "alice")
	other, _ := f.session(t, "alice")
	_, otherCSRF := f.session(t, "alice")
	tok := f.token(t, "ci", firebreak.RoleResponder)
	sess := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie, "Content-Type", ctJSON}
	tests := []struct {
		name    string
		headers []string
		status  int
	}{
		{"no token", sess, 403},
		{"wrong token", append(sess, "X-CSRF-Token", csrf+"x"), 403},
		{"another session's token", append(sess, "X-CSRF-Token", otherCSRF), 403},
		{"right token", append(sess, "X-CSRF-Token", csrf), 200},
		{"cross-site", append(sess, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"), 403},
		{"same-site subdomain", append(sess, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-site"), 403},
		{"foreign origin", append(sess, "X-CSRF-Token", csrf, "Origin", "https://evil.example"), 403},
		{"same origin", append(sess, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"), 200},
		{"bearer token needs none", []string{"Authorization", "Bearer " + tok, "Content-Type", ctJSON}, 200},
		{"other session's cookie with this token", []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + other, "Content-Type", ctJSON, "X-CSRF-Token", csrf}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("PATCH", "/api/v1/incidents/4", []byte(`{"state":"triaged"}`), tt.headers...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if w.Code == 403 {
				checkError(t, decode[fbhttp.ErrorResponse](t, w), firebreak.EFORBIDDEN, "")
			}
		})
	}
	if w := f.do("GET", "/api/v1/incidents/4", nil, sess...); w.Code != 200 {
		t.Errorf("a read without a CSRF token = %d, want 200", w.Code)
	}
}

func TestLogout(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	cookie, csrf := f.session(t, "alice")
	sess := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie, "Content-Type", ctForm}
	if w := f.do("POST", "/logout", []byte("csrf=wrong"), sess...); w.Code != 403 {
		t.Fatalf("logout with a wrong CSRF field = %d, want 403", w.Code)
	}
	w := f.do("POST", "/logout", []byte("csrf="+url.QueryEscape(csrf)), sess...)
	if w.Code != 303 || w.Header().Get("Location") != "/login" || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout = %d to %q, Set-Cookie %q", w.Code, w.Header().Get("Location"), w.Header().Get("Set-Cookie"))
	}
	if w := f.do("GET", "/api/v1/me", nil, sess...); w.Code != 401 {
		t.Errorf("the session works after logout: %d", w.Code)
	}
	if got := f.audit.actions(); len(got) != 1 || got[0] != "alice operator.logout operator/alice" {
		t.Errorf("audit = %q, want the logout", got)
	}
}

func TestForbiddenNamesTheRole(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "vera", firebreak.RoleViewer)
	cookie, csrf := f.session(t, "vera")
	sess := []string{"Authorization", "", "Cookie", fbhttp.SessionCookie + "=" + cookie}
	w := f.do("PATCH", "/api/v1/incidents/4", []byte(`{"state":"triaged"}`), append(sess, "X-CSRF-Token", csrf, "Content-Type", ctJSON)...)
	wantMessage(t, w, firebreak.EFORBIDDEN, "This needs the responder role; vera has the viewer role.")
	w = f.do("GET", "/api/v1/operators", nil, sess...)
	wantMessage(t, w, firebreak.EFORBIDDEN, "admin")
}

// TestAnonymousPages checks where people and programs without credentials
// are sent.
func TestAnonymousPages(t *testing.T) {
	f := newAuthFixture(t)
	f.operator(t, "alice", firebreak.RoleViewer)
	w := f.do("GET", "/incidents?state=triaged", nil, "Authorization", "")
	if w.Code != 303 || w.Header().Get("Location") != "/login?next=%2Fincidents%3Fstate%3Dtriaged" {
		t.Errorf("anonymous page = %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = f.do("GET", "/api/v1/incidents", nil, "Authorization", "")
	wantMessage(t, w, firebreak.EUNAUTHORIZED, "Sign in")
	w = f.do("GET", "/api/v1/incidents", nil, "Authorization", "Bearer fbt_"+strings.Repeat("A", 43))
	wantMessage(t, w, firebreak.EUNAUTHORIZED, "not valid")
}

// wantMessage fails t unless w is a JSON error with code whose message
// holds msg.
func wantMessage(t *testing.T, w *httptest.ResponseRecorder, code, msg string) {
	t.Helper()
	res := decode[fbhttp.ErrorResponse](t, w)
	if res.Code != code || !strings.Contains(res.Error, msg) {
		t.Errorf("status %d %+v, want code %s and a message holding %q", w.Code, res, code, msg)
	}
	if status := fbhttp.ErrorStatusCode(code); w.Code != status {
		t.Errorf("status %d, want %d", w.Code, status)
	}
}

// checkHTML fails t unless w is an HTML page with status, and returns it.
func checkHTML(t *testing.T, w *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if w.Code != status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %s, want %d text/html; body %.300s", w.Code, w.Header().Get("Content-Type"), status, w.Body)
	}
	return w.Body.String()
}
