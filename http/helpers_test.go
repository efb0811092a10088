package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"firebreak"
	fbhttp "firebreak/http"
	"firebreak/mock"
)

// now is the clock of every test server.
var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testToken is the static token of every fixture unless a test sets
// another; requests through serve carry it unless they set Authorization.
const testToken = "test-token"

// fixture is a server over fakes, driven through its Handler.
type fixture struct {
	engine   *mock.IngestService
	logins   *mock.LoginService
	registry *prometheus.Registry
	server   *fbhttp.Server

	mu       sync.Mutex
	ingested []firebreak.Event
	calls    int
}

// newFixture returns a fixture whose engine accepts everything and records
// it; edit the fakes' funcs to change that. opts adjust the config.
func newFixture(t testing.TB, opts ...func(*fbhttp.Config)) *fixture {
	t.Helper()
	f := &fixture{engine: &mock.IngestService{}, logins: &mock.LoginService{}, registry: prometheus.NewRegistry()}
	f.engine.IngestFn = func(ctx context.Context, events []firebreak.Event) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ingested = append(f.ingested, events...)
		f.calls++
		return nil
	}
	f.engine.StatsFn = func() firebreak.EngineStats { return firebreak.EngineStats{Ready: true} }
	cfg := fbhttp.Config{
		Ingest: f.engine, Logins: f.logins, Registry: f.registry,
		Now: func() time.Time { return now }, Token: testToken,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	f.server = fbhttp.NewServer(cfg)
	t.Cleanup(func() { f.server.Close() })
	return f
}

// do sends a request through the handler. headers alternate names and values.
func (f *fixture) do(method, target string, body []byte, headers ...string) *httptest.ResponseRecorder {
	return serve(f.server.Handler(), method, target, body, headers...)
}

// serve sends a request through h. headers alternate names and values;
// without an Authorization header the request carries testToken.
func serve(h nethttp.Handler, method, target string, body []byte, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// accounts returns the accounts of the ingested events, in order.
func (f *fixture) accounts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, e := range f.ingested {
		got = append(got, e.Account)
	}
	return got
}

// event returns a valid native event line for account.
func event(account string) string {
	return fmt.Sprintf(`{"time":"2026-03-02T08:15:04.123Z","account":%q,"outcome":"success","ip":"81.23.4.56","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0","country":"NO","asn":2119}`, account)
}

// lines joins NDJSON lines.
func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, w.Body.String(), err)
	}
	return v
}

// scored returns a scored login for the page and logins tests.
func scored(seq uint64, account, ip string, score float64, d firebreak.Decision, reasons ...string) *firebreak.ScoredLogin {
	return &firebreak.ScoredLogin{
		Seq: seq,
		Event: firebreak.Event{
			Time: now.Add(-time.Minute), Account: account, Outcome: firebreak.OutcomeSuccess,
			IP: netip.MustParseAddr(ip), Country: "BR",
		},
		Assessment: firebreak.Assessment{Score: score, Decision: d, Reasons: reasons},
	}
}
