package http

import (
	nethttp "net/http"
	"net/http/httptest"
	"testing"
)

// TestDenyByDefault checks that a route that says nothing about who may
// use it is refused to everyone, even the static admin token.
func TestDenyByDefault(t *testing.T) {
	s := NewServer(Config{Token: "t0ken"})
	defer s.Close()
	called := false
	h := s.authorize("GET /forgotten", access{}, nethttp.HandlerFunc(func(nethttp.ResponseWriter, *nethttp.Request) { called = true }))
	for _, auth := range []string{"", "Bearer t0ken"} {
		r := httptest.NewRequest("GET", "/forgotten", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if called || (w.Code != 401 && w.Code != 403) {
			t.Errorf("Authorization %q: status %d, handler called %v; want refused", auth, w.Code, called)
		}
	}
	if got := (access{}).String(); got != "nobody" {
		t.Errorf("zero access is %q, want nobody", got)
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ next, want string }{
		{"", "/"},
		{"/", "/"},
		{"/incidents?state=triaged", "/incidents?state=triaged"},
		{"/accounts/a%2Fb", "/accounts/a%2Fb"},
		{"//evil.example/x", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/x\r\nSet-Cookie: a=b", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // a path on this server
	}
	for _, tt := range tests {
		if got := localPath(tt.next); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "https://x", "/a?b#c", "/%5C%5Cx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		if got != "/" && got != next {
			t.Fatalf("localPath(%q) = %q: neither the input nor /", next, got)
		}
		r := httptest.NewRequest("GET", "http://firebreak.test/login", nil)
		u, err := r.URL.Parse(got)
		if err != nil || u.Host != "firebreak.test" || u.Scheme != "http" {
			t.Fatalf("localPath(%q) = %q resolves to %v (%v), off this server", next, got, u, err)
		}
	})
}
