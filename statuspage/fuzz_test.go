package statuspage_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"firebreak"
)

// FuzzRequest sends arbitrary paths, queries and form bodies: the page must
// answer without a server error and never echo a tag unescaped.
func FuzzRequest(f *testing.F) {
	e := newEnv(f)
	e.publish(f, e.incident(f), firebreak.PhaseInvestigating, "t", "b")
	for _, seed := range [][3]string{
		{"GET", "/history?cursor=c3RhdHVzOjE", ""},
		{"GET", "/incidents/1", ""},
		{"GET", "/confirm?token=%3Cb%3E", ""},
		{"POST", "/subscribe", "kind=email&target=a%40example.com"},
		{"POST", "/unsubscribe", "token=x"},
		{"GET", "/feed.atom", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || strings.Contains(target, "<b>") {
			return
		}
		r, err := http.NewRequest(method, "http://status.example.com"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s (%q) = %d:\n%s", method, target, body, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "<b>") {
			t.Fatalf("%s %s (%q) echoed a tag unescaped", method, target, body)
		}
	})
}
