package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
)

// syncBuffer is an io.Writer safe for a command writing on one goroutine
// while the test reads on another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var urlPattern = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// waitURL waits until w holds a line with a loopback URL and returns it.
func waitURL(t *testing.T, w *syncBuffer, timeout time.Duration, exited <-chan struct{}) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if u := urlPattern.FindString(w.String()); u != "" {
			return u
		}
		select {
		case <-exited:
			t.Fatalf("the command exited before printing its URL; output:\n%s", w.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no URL printed within %s; output:\n%s", timeout, w.String())
	return ""
}

// testToken is the static token of the servers the tests open; testClient
// sends it on every request that carries no credential of its own.
const testToken = "e2e-test-token"

var testClient = &http.Client{Timeout: 10 * time.Second, Transport: tokenTransport{}}

// tokenTransport adds "Authorization: Bearer testToken" to requests
// without an Authorization header or a cookie.
type tokenTransport struct{}

func (tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+testToken)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// signIn signs in through the real /login form and returns a client whose
// cookie jar holds the session.
func signIn(t *testing.T, base, name, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"name": {name}, "password": {password}})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(base)
	if resp.StatusCode != http.StatusOK || len(jar.Cookies(u)) == 0 {
		t.Fatalf("sign in as %s: status %d after redirects, cookies %v; body %.300s", name, resp.StatusCode, jar.Cookies(u), body)
	}
	return c
}

// get returns the status and body of GET url with testClient.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getWith(t, testClient, url)
}

// getWith returns the status and body of GET url with client c.
func getWith(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := testClient.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not 200 within %s (last error %v)", base, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stats fetches GET /api/v1/stats.
func stats(t *testing.T, base string) firebreak.EngineStats {
	t.Helper()
	return statsWith(t, testClient, base)
}

// statsWith fetches GET /api/v1/stats with client c.
func statsWith(t *testing.T, c *http.Client, base string) firebreak.EngineStats {
	t.Helper()
	code, body := getWith(t, c, base+"/api/v1/stats")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/stats: status %d, body %s", code, body)
	}
	var s firebreak.EngineStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("GET /api/v1/stats: %v in %s", err, body)
	}
	return s
}

// waitStats polls /api/v1/stats until ok accepts the figures.
func waitStats(t *testing.T, base string, timeout time.Duration, ok func(firebreak.EngineStats) bool) firebreak.EngineStats {
	t.Helper()
	return waitStatsWith(t, testClient, base, timeout, ok)
}

// waitStatsWith is waitStats with client c.
func waitStatsWith(t *testing.T, c *http.Client, base string, timeout time.Duration, ok func(firebreak.EngineStats) bool) firebreak.EngineStats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := statsWith(t, c, base)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats not as expected within %s: %+v", timeout, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventLine returns one native NDJSON login event stamped now.
func eventLine(account, ip, device, outcome string) string {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	line := fmt.Sprintf(`{"time":%q,"account":%q,"outcome":%q,"ip":%q,"device_id":%q,"country":"NL","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"`,
		ts, account, outcome, ip, device)
	if outcome == "failure" {
		line += `,"failure_reason":"bad_password"`
	}
	return line + "}"
}

// postBody posts body and returns the status and response body.
func postBody(ctx context.Context, url, contentType, encoding string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// lines splits NDJSON text into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
