package idp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

// serveSim serves sim on loopback and returns a client for it.
func serveSim(t *testing.T, sim *idp.Sim) (firebreak.Connector, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(idp.NewSimHandler(sim))
	t.Cleanup(srv.Close)
	return idp.NewSimClient(srv.URL, nil), srv
}

func TestSimClientRoundTrip(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{Known: func(a string) bool { return a != "ghost" }})
	c, srv := serveSim(t, sim)
	since := time.Now()
	tests := []struct {
		action firebreak.ActionKind
		target string
	}{
		{firebreak.ActionRevokeSessions, "alice"},
		{firebreak.ActionForceReset, "alice"},
		{firebreak.ActionLock, "user/with/slashes"},
		{firebreak.ActionBlockSource, "2001:db8::/32"},
		{firebreak.ActionThrottleSource, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			info, _ := tt.action.Info()
			if err := c.Apply(ctx, req(tt.action, tt.target)); err != nil {
				t.Fatal(err)
			}
			st, err := c.Observe(ctx, tt.target, info.OnSource)
			if err != nil || !st.Applied(tt.action, since) {
				t.Fatalf("Observe = %+v, %v; want %s applied", st, err, tt.action)
			}
			if got := sim.Effects(tt.target, tt.action); got != 1 {
				t.Fatalf("the sim counted %d effects on %q, want 1", got, tt.target)
			}
			if info.Reversible {
				if err := c.Revert(ctx, req(tt.action, tt.target)); err != nil {
					t.Fatal(err)
				}
				if !sim.Snapshot(tt.target, info.OnSource).Reverted(tt.action) {
					t.Fatal("not reverted")
				}
			}
		})
	}
	t.Run("unknown account", func(t *testing.T) {
		pe := wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "ghost")), firebreak.CallRejected, "unknown account")
		if pe.Status != http.StatusNotFound {
			t.Fatalf("status %d, want 404", pe.Status)
		}
		if st, err := c.Observe(ctx, "ghost", false); err != nil || st.Exists {
			t.Fatalf("Observe(ghost) = %+v, %v", st, err)
		}
	})
	t.Run("stats", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/v1/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st idp.SimStats
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		if st.Applies != 5 || st.Rate.Calls == 0 {
			t.Fatalf("stats = %+v, want 5 applies and a rate", st)
		}
	})
}

func TestSimClientFaultsOverHTTP(t *testing.T) {
	t.Run("5xx", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{ErrorRate: 1}})
		c, _ := serveSim(t, sim)
		pe := wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "a")), firebreak.CallNotApplied, "server error")
		if pe.Status != 500 || sim.TotalEffects() != 0 {
			t.Fatalf("status %d, %d effects; want 500 and none", pe.Status, sim.TotalEffects())
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{BurstEvery: time.Hour, BurstFor: time.Hour}})
		c, _ := serveSim(t, sim)
		pe := wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "a")), firebreak.CallNotApplied, "rate limited")
		if pe.Status != 429 || pe.RetryAfter < 59*time.Minute {
			t.Fatalf("status %d, RetryAfter %v; want 429 and about an hour", pe.Status, pe.RetryAfter)
		}
	})
	t.Run("latency", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{Latency: 30 * time.Millisecond}})
		c, _ := serveSim(t, sim)
		start := time.Now()
		if err := c.Apply(ctx, req(firebreak.ActionStepUp, "a")); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 30*time.Millisecond {
			t.Fatalf("answered in %v, want at least the 30ms latency", took)
		}
	})
	t.Run("reset after apply on a reused connection", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{})
		c, _ := serveSim(t, sim)
		// Warm a keep-alive connection first: net/http retries some
		// requests that fail on a reused connection, and must not here.
		if _, err := c.Observe(ctx, "b", false); err != nil {
			t.Fatal(err)
		}
		sim.SetFaults(idp.Faults{ResetRate: 1})
		wantOutcome(t, c.Apply(ctx, req(firebreak.ActionLock, "b")), firebreak.CallUnknown, "no answer")
		if got := sim.Effects("b", firebreak.ActionLock); got != 1 {
			t.Fatalf("effects = %d, want exactly 1 (applied once, answer lost)", got)
		}
		sim.SetFaults(idp.Faults{})
		st, err := c.Observe(ctx, "b", false)
		if err != nil || !st.Applied(firebreak.ActionLock, time.Time{}) {
			t.Fatalf("Observe after the reset = %+v, %v; want the lock in place", st, err)
		}
	})
}

func TestSimClientBadAnswers(t *testing.T) {
	handler := http.NewServeMux()
	handler.HandleFunc("POST /v1/targets/garbled/actions/{action}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>proxy login</html>"))
	})
	handler.HandleFunc("GET /v1/targets/garbled", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"locked": true}`))
	})
	handler.HandleFunc("POST /v1/targets/slow/actions/{action}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
	})
	handler.HandleFunc("POST /v1/targets/busy/actions/{action}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	c := idp.NewSimClient(srv.URL, &http.Client{Timeout: 50 * time.Millisecond})

	wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "garbled")), firebreak.CallUnknown, "garbled answer")
	_, err := c.Observe(ctx, "garbled", false)
	wantOutcome(t, err, firebreak.CallUnknown, `no "exists" field`)
	wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "slow")), firebreak.CallUnknown, "no answer in time")
	pe := wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "busy")), firebreak.CallNotApplied, "")
	if pe.RetryAfter != 7*time.Second {
		t.Fatalf("RetryAfter = %v, want 7s", pe.RetryAfter)
	}

	srv.Close()
	wantOutcome(t, c.Apply(ctx, req(firebreak.ActionStepUp, "x")), firebreak.CallNotApplied, "cannot connect")
}
