package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
	"firebreak/idp"
)

const testSecret = "0123456789abcdef-webhook-secret"

func sms(key string) firebreak.Message {
	return firebreak.Message{Channel: firebreak.ChannelSMS, To: "+4915123456789", Key: key,
		Text: "Example: we locked your account after a suspected attack. Details in the app.",
		Meta: map[string]string{"incident": "7"}}
}

func newWebhook(t *testing.T, url string, hc *http.Client) *channel.Webhook {
	t.Helper()
	w, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelSMS, URL: url, Secret: []byte(testSecret), Client: hc})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookSignsAndSends(t *testing.T) {
	type got struct {
		key  string
		body map[string]any
		err  error
	}
	calls := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g := got{key: r.Header.Get("Idempotency-Key")}
		g.err = idp.VerifySignature([]byte(testSecret), r.Header.Get(idp.SignatureHeader), b, time.Now(), 0, nil)
		_ = json.Unmarshal(b, &g.body)
		calls <- g
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	if err := newWebhook(t, srv.URL, nil).Send(context.Background(), sms("n-7")); err != nil {
		t.Fatal(err)
	}
	g := <-calls
	if g.err != nil {
		t.Fatalf("signature: %v", g.err)
	}
	if g.key != "n-7" || g.body["to"] != "+4915123456789" || g.body["channel"] != "sms" || g.body["key"] != "n-7" ||
		!strings.Contains(g.body["text"].(string), "locked your account") || g.body["meta"].(map[string]any)["incident"] != "7" {
		t.Fatalf("got key %q body %v", g.key, g.body)
	}
}

func TestWebhookOutcomes(t *testing.T) {
	for _, c := range []struct {
		name       string
		status     int
		header     string // Retry-After
		body       string
		want       firebreak.CallOutcome
		retryAfter time.Duration
		reason     string
	}{
		{"429 with seconds", 429, "3", "", firebreak.CallNotApplied, 3 * time.Second, "Too Many Requests"},
		{"503 with a date", 503, time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), "", firebreak.CallNotApplied, 89 * time.Second, ""},
		{"429 garbled Retry-After", 429, "soon", "", firebreak.CallNotApplied, 0, ""},
		{"401 signature refused", 401, "", "", firebreak.CallNotApplied, 0, "signature"},
		{"500 may have sent", 500, "", "", firebreak.CallUnknown, 0, ""},
		{"400 json reason", 400, "", `{"reason":"not a mobile number"}`, firebreak.CallRejected, 0, "not a mobile number"},
		{"422 plain text", 422, "", "number blocked by carrier\n", firebreak.CallRejected, 0, "number blocked by carrier"},
		{"302 not followed", 302, "", "", firebreak.CallRejected, 0, "redirect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				if c.status == 302 {
					w.Header().Set("Location", "http://example.invalid/")
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			pe := outcome(t, newWebhook(t, srv.URL, nil).Send(context.Background(), sms("n-1")))
			if pe.Outcome != c.want || pe.Status != c.status || !strings.Contains(pe.Reason, c.reason) {
				t.Fatalf("got %+v, want outcome %d with %q", pe, c.want, c.reason)
			}
			if d := pe.RetryAfter - c.retryAfter; d < 0 || d > 2*time.Second {
				t.Fatalf("RetryAfter %v, want about %v", pe.RetryAfter, c.retryAfter)
			}
		})
	}
}

func TestWebhookTransportFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer slow.Close()
	pe := outcome(t, newWebhook(t, slow.URL, &http.Client{Timeout: 50 * time.Millisecond}).Send(context.Background(), sms("n-1")))
	if pe.Outcome != firebreak.CallUnknown || !strings.Contains(pe.Reason, "in time") {
		t.Fatalf("timeout: got %+v, want CallUnknown", pe)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	pe = outcome(t, newWebhook(t, closed.URL, nil).Send(context.Background(), sms("n-1")))
	if pe.Outcome != firebreak.CallNotApplied {
		t.Fatalf("refused connection: got %+v, want CallNotApplied", pe)
	}
}

func TestNewWebhookRefusesMalformedEndpoints(t *testing.T) {
	for _, u := range []string{"", "sms.example.com/send", "ftp://sms.example.com/", "http://", "https://user:pw@sms.example.com/",
		"https://sms.example.com/#x", "http://[::1", "https://:443/"} {
		_, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelSMS, URL: u, Secret: []byte(testSecret)})
		var fe *firebreak.FieldError
		if !errors.As(err, &fe) || fe.Field != "url" {
			t.Errorf("%q: got %v, want a field error on url", u, err)
		}
	}
	_, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelSMS, URL: "https://sms.example.com/", Secret: []byte("short")})
	var fe *firebreak.FieldError
	if !errors.As(err, &fe) || fe.Field != "secret" {
		t.Errorf("short secret: got %v, want a field error on secret", err)
	}
}
