package statuspage_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"firebreak"
)

func TestSubscribeFlow(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"kind": {"email"}, "target": {"ops@example.com"}}
	r := e.post(t, "/subscribe", form)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "confirmation link")
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
	}
	subs := e.received()
	if len(subs) != 1 || subs[0].Token == "" || subs[0].Target != "ops@example.com" {
		t.Fatalf("OnSubscribe got %+v, want one subscription with a token", subs)
	}
	token := subs[0].Token
	if strings.Contains(r.body, token) {
		t.Fatal("the response shows the confirmation token")
	}
	if want := baseURL + "/confirm?token=" + url.QueryEscape(token); e.h.ConfirmURL(token) != want {
		t.Errorf("ConfirmURL = %q, want %q", e.h.ConfirmURL(token), want)
	}

	// Following the link only shows a form: a mail scanner confirms nothing.
	page := e.get(t, "/confirm?token="+url.QueryEscape(token))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.body, `action="/confirm"`, `value="`+token+`"`)
	if subs := confirmed(t, e); len(subs) != 0 {
		t.Fatalf("GET /confirm confirmed %+v", subs)
	}
	wantStatus(t, e.post(t, "/confirm", url.Values{"token": {"wrong"}}), http.StatusNotFound)
	wantStatus(t, e.post(t, "/confirm", url.Values{"token": {token}}), http.StatusOK)
	if subs := confirmed(t, e); len(subs) != 1 {
		t.Fatalf("after POST /confirm, subscribers = %+v", subs)
	}

	// Subscribing a subscribed address again looks exactly the same.
	again := e.post(t, "/subscribe", form)
	if again.status != r.status || again.body != r.body || len(e.received()) != 1 {
		t.Fatalf("re-subscribing answered %d (%d calls to OnSubscribe); want the same answer as the first time", again.status, len(e.received()))
	}

	wantContains(t, e.get(t, "/unsubscribe?token="+url.QueryEscape(token)).body, `action="/unsubscribe"`)
	out := e.post(t, "/unsubscribe", url.Values{"token": {token}})
	wantStatus(t, out, http.StatusOK)
	if subs := confirmed(t, e); len(subs) != 0 {
		t.Fatalf("after unsubscribing, subscribers = %+v", subs)
	}
	unknown := e.post(t, "/unsubscribe", url.Values{"token": {token}})
	if unknown.status != out.status || unknown.body != out.body {
		t.Error("unsubscribing an unknown token answers differently")
	}
}

func confirmed(t *testing.T, e *env) []firebreak.Subscription {
	t.Helper()
	subs, err := e.status.ListSubscribers(context.Background(), firebreak.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

func TestSubscribeBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		form   url.Values
		header []string
		status int
		want   string
	}{
		{"unknown kind", url.Values{"kind": {"sms"}, "target": {"1"}}, nil, 400, "field kind"},
		{"bad email", url.Values{"kind": {"email"}, "target": {"<b>not mail</b>"}}, nil, 400, "field target"},
		{"http webhook", url.Values{"kind": {"webhook"}, "target": {"http://hooks.example.com"}}, nil, 400, "https"},
		{"private webhook", url.Values{"kind": {"webhook"}, "target": {"https://192.168.1.1/x"}}, nil, 400, "public"},
		{"too large", url.Values{"kind": {"email"}, "target": {strings.Repeat("a", 5000)}}, nil, 413, "larger than"},
		{"other origin", url.Values{"kind": {"email"}, "target": {"a@example.com"}}, []string{"Origin", "https://evil.example"}, 403, "status page itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "/subscribe", tt.form, tt.header...)
			wantStatus(t, r, tt.status)
			wantContains(t, r.body, tt.want)
			if strings.Contains(r.body, "<b>") {
				t.Error("the error page shows input unescaped")
			}
		})
	}
	if subs := e.received(); len(subs) != 0 {
		t.Fatalf("bad input reached OnSubscribe: %+v", subs)
	}
	ok := e.post(t, "/subscribe", url.Values{"kind": {"webhook"}, "target": {"https://hooks.example.com/s"}}, "Origin", baseURL)
	wantStatus(t, ok, http.StatusOK)
}

// TestTokenEscaped checks that a token from the query cannot break out of
// the form's attribute.
func TestTokenEscaped(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "/confirm?token="+url.QueryEscape(`"><script>alert(1)</script>`))
	wantStatus(t, r, http.StatusOK)
	if regexp.MustCompile(`<script>`).MatchString(r.body) {
		t.Fatalf("the token broke out of the attribute:\n%s", r.body)
	}
}
