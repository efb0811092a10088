package statuspage_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"firebreak"
	"firebreak/statuspage"
)

// benchEnv is a status page with three current incidents of four updates
// each and a full feed, on the real clock.
func benchEnv(b testing.TB, configure ...func(*statuspage.Config)) *env {
	e := newEnv(b, append([]func(*statuspage.Config){func(c *statuspage.Config) { c.Now = time.Now }}, configure...)...)
	for range 3 {
		id := e.incident(b)
		for _, p := range []firebreak.Phase{firebreak.PhaseInvestigating, firebreak.PhaseIdentified, firebreak.PhaseMonitoring, firebreak.PhaseMonitoring} {
			e.publish(b, id, p, "Sign-in problems for some accounts", "We are seeing failed sign-ins from a credential stuffing campaign.\n\nAffected accounts were asked to reset their password; no action is needed from others.")
		}
	}
	for range 40 {
		e.publish(b, 0, firebreak.PhaseResolved, "Maintenance done", "All done.")
	}
	return e
}

func benchGet(b *testing.B, e *env, path string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", path, nil)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkIndex is GET / from the cache, the common case.
func BenchmarkIndex(b *testing.B) { benchGet(b, benchEnv(b), "/") }

// BenchmarkIndexUncached renders GET / from the store on every request.
func BenchmarkIndexUncached(b *testing.B) {
	benchGet(b, benchEnv(b, func(c *statuspage.Config) { c.CacheFor = -1 }), "/")
}

// BenchmarkFeedUncached renders the 50-entry Atom feed on every request.
func BenchmarkFeedUncached(b *testing.B) {
	benchGet(b, benchEnv(b, func(c *statuspage.Config) { c.CacheFor = -1 }), "/feed.atom")
}

// BenchmarkIncident renders one incident's page (never cached).
func BenchmarkIncident(b *testing.B) { benchGet(b, benchEnv(b), "/incidents/1") }
