package http_test

import (
	"strings"
	"testing"

	"firebreak"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.engine.StatsFn = func() firebreak.EngineStats {
		return firebreak.EngineStats{Events: 1234, Accounts: 56, QueueLength: 7, Challenged: 0.0125, Budget: 0.01,
			Decisions:  map[string]int64{"allow": 1100, "challenge": 12, "deny": 2},
			Thresholds: firebreak.Thresholds{Challenge: 0.7, Deny: 0.95, Source: "budget", Observed: 1114}, Ready: true}
	}
	f.do("POST", "/api/v1/events", lines(event("u1"), "bad", event("u2"), event("u3"), "bad"), "Content-Type", "application/x-ndjson")
	f.do("POST", "/api/v1/events", nil, "Content-Type", "text/plain")
	w := f.do("GET", "/metrics", nil)
	if w.Code != 200 {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		"firebreak_http_events_accepted_total 3",
		"firebreak_http_events_rejected_total 2",
		`firebreak_http_requests_total{code="202",route="POST /api/v1/events"} 1`,
		`firebreak_http_requests_total{code="415",route="POST /api/v1/events"} 1`,
		`firebreak_http_request_duration_seconds_count{code="202",route="POST /api/v1/events"} 1`,
		"firebreak_engine_events_total 1234",
		"firebreak_engine_accounts 56",
		"firebreak_engine_queue_length 7",
		"firebreak_engine_challenge_rate 0.0125",
		"firebreak_engine_challenge_budget 0.01",
		`firebreak_engine_threshold{decision="challenge",source="budget"} 0.7`,
		`firebreak_engine_threshold{decision="deny",source="budget"} 0.95`,
		`firebreak_engine_decisions_total{decision="challenge"} 12`,
		"firebreak_engine_ready 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics serves the global registry's collectors, want only the configured registry")
	}
}
