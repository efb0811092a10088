package http_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"slices"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

func TestEvents(t *testing.T) {
	bomb := gzipped(t, bytes.Repeat([]byte("\n"), 8<<20)) // 8 MiB of blank lines, ~8 KiB sent
	var manyBad []string
	for i := range 150 {
		manyBad = append(manyBad, fmt.Sprintf(`{"time":"2026-03-02T08:00:00Z","account":"a%d","outcome":"success","ip":"nope"}`, i))
	}
	manyBad = append(manyBad, event("survivor"))

	tests := []struct {
		name        string
		cfg         func(*fbhttp.Config)
		ingestErr   error
		headers     []string // overrides of Content-Type: application/x-ndjson
		body        []byte
		status      int
		accepted    int
		rejected    int
		errors      []string // "line:field" of each reported error
		truncated   bool
		code        string
		retryAfter  string
		wantIngest  []string // accounts handed to Ingest
		wantMessage string   // substring of the error message
	}{
		{name: "one JSON event", headers: []string{"Content-Type", "application/json"},
			body: []byte(event("u1")), status: 202, accepted: 1, wantIngest: []string{"u1"}},
		{name: "pretty-printed JSON event", headers: []string{"Content-Type", "application/json; charset=utf-8"},
			body:   []byte("{\n  \"time\": \"2026-03-02T08:15:04Z\",\n  \"account\": \"u1\",\n  \"outcome\": \"failure\",\n  \"ip\": \"2001:db8::1\"\n}\n"),
			status: 202, accepted: 1, wantIngest: []string{"u1"}},
		{name: "NDJSON as application/json", headers: []string{"Content-Type", "application/json"},
			body: lines(event("u1"), event("u2")), status: 202, accepted: 2, wantIngest: []string{"u1", "u2"}},
		{name: "mixed batch reports bad lines and accepts the rest",
			body: lines(event("u1"), event("u2"),
				`{"time":"2026-03-02T08:15:04Z","account":"u3","outcome":"success","ip":"999.1.1.1"}`,
				event("u4"),
				`{"time":"2031-01-01T00:00:00Z","account":"u5","outcome":"success","ip":"10.0.0.1"}`,
				`{"account":"u6"`),
			status: 202, accepted: 3, rejected: 3, errors: []string{"3:ip", "5:time", "6:"},
			wantIngest: []string{"u1", "u2", "u4"}},
		{name: "byte order mark is skipped", body: append([]byte("\xEF\xBB\xBF"), lines(event("u1"), event("u2"))...),
			status: 202, accepted: 2, wantIngest: []string{"u1", "u2"}},
		{name: "byte order mark before one JSON event", headers: []string{"Content-Type", "application/json"},
			body: append([]byte("\xEF\xBB\xBF"), event("u1")...), status: 202, accepted: 1, wantIngest: []string{"u1"}},
		{name: "invalid UTF-8 line is rejected alone",
			body:   lines(event("u1"), `{"time":"2026-03-02T08:15:04Z","account":"bad`+"\xff\xfe"+`","outcome":"success","ip":"10.0.0.1"}`, event("u3")),
			status: 202, accepted: 2, rejected: 1, errors: []string{"2:"}, wantIngest: []string{"u1", "u3"}},
		{name: "blank lines are skipped", body: lines("", event("u1"), "   ", event("u2"), ""),
			status: 202, accepted: 2, wantIngest: []string{"u1", "u2"}},
		{name: "errors are capped", body: lines(manyBad...),
			status: 202, accepted: 1, rejected: 150, truncated: true, wantIngest: []string{"survivor"}},
		{name: "account changes are events", body: lines(event("u1"),
			`{"time":"2026-03-02T08:15:05Z","account":"u1","outcome":"success","ip":"81.23.4.56","type":"mfa_remove"}`,
			`{"time":"2026-03-02T08:15:06Z","account":"u1","outcome":"success","ip":"81.23.4.56","type":"mfa_disable"}`),
			status: 202, accepted: 2, rejected: 1, errors: []string{"3:type"}, wantIngest: []string{"u1", "u1"}},
		{name: "gzip accepted", headers: []string{"Content-Encoding", "gzip"},
			body: gzipped(t, lines(event("u1"), event("u2"))), status: 202, accepted: 2, wantIngest: []string{"u1", "u2"}},

		{name: "every line bad", body: lines(`{"time":"2026-03-02T08:15:04Z","account":"u1","outcome":"success"}`, `not json`),
			status: 400, rejected: 2, errors: []string{"1:ip", "2:"}, code: firebreak.EINVALID},
		{name: "empty body", body: nil, status: 400, code: firebreak.EINVALID, wantMessage: "Empty body"},
		{name: "only blank lines", body: []byte("\n\n  \n"), status: 400, code: firebreak.EINVALID, wantMessage: "Empty body"},
		{name: "empty gzip body", headers: []string{"Content-Encoding", "gzip"}, body: nil, status: 400, code: firebreak.EINVALID},
		{name: "corrupt gzip", headers: []string{"Content-Encoding", "gzip"}, body: []byte("\x1f\x8b\x08\x00garbage-garbage"),
			status: 400, code: firebreak.EINVALID, wantMessage: "gzip"},

		{name: "body over the limit", cfg: func(c *fbhttp.Config) { c.MaxBodyBytes = 1000 },
			body:   lines(event("u1"), event("u2"), event("u3"), event("u4"), event("u5"), event("u6")),
			status: 413, code: firebreak.ETOOLARGE},
		{name: "body exactly at the limit", cfg: func(c *fbhttp.Config) { c.MaxBodyBytes = int64(len(lines(event("u1")))) },
			body: lines(event("u1")), status: 202, accepted: 1, wantIngest: []string{"u1"}},
		{name: "gzip bomb", cfg: func(c *fbhttp.Config) { c.MaxDecodedBytes = 1 << 20 },
			headers: []string{"Content-Encoding", "gzip"}, body: bomb, status: 413, code: firebreak.ETOOLARGE, wantMessage: "decompression"},
		{name: "too many events", cfg: func(c *fbhttp.Config) { c.MaxEvents = 2 },
			body: lines(event("u1"), event("u2"), event("u3")), status: 413, code: firebreak.ETOOLARGE, wantMessage: "More than 2 events"},

		{name: "wrong content type", headers: []string{"Content-Type", "text/plain"}, body: lines(event("u1")),
			status: 415, code: firebreak.EUNSUPPORTED, wantMessage: "application/json or application/x-ndjson"},
		{name: "no content type", headers: []string{"Content-Type", ""}, body: lines(event("u1")),
			status: 415, code: firebreak.EUNSUPPORTED},
		{name: "non-UTF-8 charset", headers: []string{"Content-Type", "application/json; charset=latin1"}, body: lines(event("u1")),
			status: 415, code: firebreak.EUNSUPPORTED},
		{name: "unsupported encoding", headers: []string{"Content-Encoding", "br"}, body: lines(event("u1")),
			status: 415, code: firebreak.EUNSUPPORTED, wantMessage: "gzip"},

		{name: "engine overloaded", ingestErr: firebreak.Errorf(firebreak.ETOOMANYREQUEST, "Ingest queue full."),
			body: lines(event("u1"), `bad`), status: 429, rejected: 1, errors: []string{"2:"}, code: firebreak.ETOOMANYREQUEST, retryAfter: "3"},
		{name: "engine unavailable", ingestErr: firebreak.Errorf(firebreak.EUNAVAILABLE, "Journal closed."),
			body: lines(event("u1")), status: 503, code: firebreak.EUNAVAILABLE, retryAfter: "3", wantMessage: "Journal closed."},
		{name: "engine failure is not leaked", ingestErr: errors.New("fsync /data/journal: disk on fire"),
			body: lines(event("u1")), status: 500, code: firebreak.EINTERNAL, wantMessage: "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *fbhttp.Config) {
				c.RetryAfter = 2500 * 1e6 // 2.5 s rounds up to 3
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			if tt.ingestErr != nil {
				f.engine.IngestFn = func(context.Context, []firebreak.Event) error { return tt.ingestErr }
			}
			headers := append([]string{"Content-Type", "application/x-ndjson"}, tt.headers...)
			w := f.do("POST", "/api/v1/events", tt.body, headers...)
			if got, want := w.Code, tt.status; got != want {
				t.Fatalf("status = %d, want %d; body %s", got, want, w.Body)
			}
			res := decode[fbhttp.EventsResponse](t, w)
			checkEventsResponse(t, res, tt.accepted, tt.rejected, tt.errors, tt.truncated, tt.code)
			if tt.wantMessage != "" && !strings.Contains(res.Error, tt.wantMessage) {
				t.Errorf("error = %q, want it to contain %q", res.Error, tt.wantMessage)
			}
			if got, want := w.Header().Get("Retry-After"), tt.retryAfter; got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			if tt.ingestErr == nil {
				if got, want := f.accounts(), tt.wantIngest; !slices.Equal(got, want) {
					t.Errorf("ingested %q, want %q", got, want)
				}
			}
		})
	}
}

func checkEventsResponse(t *testing.T, res fbhttp.EventsResponse, accepted, rejected int, errs []string, truncated bool, code string) {
	t.Helper()
	if res.Accepted != accepted || res.Rejected != rejected {
		t.Errorf("accepted, rejected = %d, %d; want %d, %d", res.Accepted, res.Rejected, accepted, rejected)
	}
	if res.Errors == nil {
		t.Errorf("errors is null, want an array")
	}
	if errs != nil {
		var got []string
		for _, e := range res.Errors {
			got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
			if e.Reason == "" {
				t.Errorf("line %d: empty reason", e.Line)
			}
		}
		if !slices.Equal(got, errs) {
			t.Errorf("errors = %q, want %q (%+v)", got, errs, res.Errors)
		}
	}
	if truncated && len(res.Errors) != fbhttp.MaxErrors {
		t.Errorf("len(errors) = %d, want %d", len(res.Errors), fbhttp.MaxErrors)
	}
	if res.Truncated != truncated {
		t.Errorf("truncated = %v, want %v", res.Truncated, truncated)
	}
	if res.Code != code {
		t.Errorf("code = %q, want %q", res.Code, code)
	}
}

// TestEventsDecodesFields checks that an accepted event reaches the engine
// with its fields parsed and its user agent run through the configured parser.
func TestEventsDecodesFields(t *testing.T) {
	f := newFixture(t, func(c *fbhttp.Config) { c.Agents = agentParser{} })
	w := f.do("POST", "/api/v1/events", lines(event("u1")), "Content-Type", "application/x-ndjson")
	if w.Code != nethttp.StatusAccepted {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	got := f.ingested[0]
	if got.Account != "u1" || got.IP.String() != "81.23.4.56" || got.Country != "NO" || got.ASN != 2119 || got.Outcome != firebreak.OutcomeSuccess {
		t.Errorf("event = %+v", got)
	}
	if got, want := got.Agent.Browser, "Firefox"; got != want {
		t.Errorf("agent browser = %q, want %q", got, want)
	}
	if !got.IsLogin() {
		t.Errorf("type = %q, want a login", got.Type)
	}
}

// TestEventsAcceptsAccountChanges checks that an account change reaches the
// engine (which journals it) with its type, next to a login.
func TestEventsAcceptsAccountChanges(t *testing.T) {
	f := newFixture(t)
	change := `{"time":"2026-03-02T08:20:00Z","account":"u1","outcome":"success","ip":"81.23.4.56","device_id":"d-1","type":"recovery_change"}`
	w := f.do("POST", "/api/v1/events", lines(event("u1"), change), "Content-Type", "application/x-ndjson")
	if w.Code != nethttp.StatusAccepted {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	if len(f.ingested) != 2 {
		t.Fatalf("ingested %d events, want 2", len(f.ingested))
	}
	if got := f.ingested[0].Type; got != "" {
		t.Errorf("login type = %q, want empty", got)
	}
	if got := f.ingested[1]; got.Type != firebreak.TypeRecoveryChange || got.DeviceID != "d-1" || got.Outcome != firebreak.OutcomeSuccess {
		t.Errorf("change = %+v", got)
	}
}

// agentParser is a stand-in user agent parser.
type agentParser struct{}

func (agentParser) Parse(ua string) firebreak.Agent {
	if strings.Contains(ua, "Firefox") {
		return firebreak.Agent{Browser: "Firefox", DeviceType: "desktop"}
	}
	return firebreak.Agent{DeviceType: "other"}
}
