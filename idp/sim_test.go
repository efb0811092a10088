package idp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

var ctx = context.Background()

// clock is a settable time source for the simulator.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func req(action firebreak.ActionKind, target string) firebreak.ActionRequest {
	return firebreak.ActionRequest{Action: action, Target: target, Key: "fb-1-" + target, Until: time.Now().Add(time.Hour), Reason: "test"}
}

// wantOutcome fails unless err is a *ProviderError with the outcome and a
// reason containing reason.
func wantOutcome(t *testing.T, err error, outcome firebreak.CallOutcome, reason string) *firebreak.ProviderError {
	t.Helper()
	var pe *firebreak.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *ProviderError with outcome %d", err, err, outcome)
	}
	if pe.Outcome != outcome || !strings.Contains(pe.Reason, reason) {
		t.Fatalf("err = %+v, want outcome %d and a reason containing %q", pe, outcome, reason)
	}
	return pe
}

func TestSimAppliesObservesAndReverts(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{})
	since := time.Now()
	for _, a := range firebreak.ActionKinds {
		if info, _ := a.Info(); info.Channel != "" {
			// Notices are the notifier's, never an identity provider's.
			if err := sim.Apply(ctx, req(a, "alice")); firebreak.ProviderOutcome(err) != firebreak.CallRejected {
				t.Errorf("%s at the provider: %v; want rejected", a, err)
			}
			continue
		}
		t.Run(string(a), func(t *testing.T) {
			target := "alice-" + string(a)
			info, _ := a.Info()
			if info.OnSource {
				target = "203.0.113.0/24"
			}
			if err := sim.Apply(ctx, req(a, target)); err != nil {
				t.Fatal(err)
			}
			st, err := sim.Observe(ctx, target, info.OnSource)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Exists || !st.Applied(a, since) {
				t.Fatalf("after apply: state %+v, want %s applied", st, a)
			}
			if got := sim.Effects(target, a); got != 1 {
				t.Fatalf("Effects = %d, want 1", got)
			}
			err = sim.Revert(ctx, req(a, target))
			if !info.Reversible {
				wantOutcome(t, err, firebreak.CallRejected, "cannot be undone")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st := sim.Snapshot(target, info.OnSource); !st.Reverted(a) {
				t.Fatalf("after revert: state %+v, want %s reverted", st, a)
			}
			if got := sim.RevertEffects(target, a); got != 1 {
				t.Fatalf("RevertEffects = %d, want 1", got)
			}
		})
	}
}

func TestSimCountsRepeatedEffects(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{})
	r := req(firebreak.ActionLock, "bob")
	for range 3 {
		if err := sim.Apply(ctx, r); err != nil { // same idempotency key each time
			t.Fatal(err)
		}
	}
	if err := sim.Apply(ctx, req(firebreak.ActionStepUp, "carol")); err != nil {
		t.Fatal(err)
	}
	if got := sim.Effects("bob", firebreak.ActionLock); got != 3 {
		t.Fatalf("Effects = %d, want 3: repeats must be counted, not deduplicated by key", got)
	}
	got := sim.Repeats()
	want := []idp.Repeat{{Target: "bob", Action: firebreak.ActionLock, Applies: 3}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Repeats = %v, want %v", got, want)
	}
	if got := sim.TotalEffects(); got != 4 {
		t.Fatalf("TotalEffects = %d, want 4", got)
	}
}

func TestSimRefusals(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{Known: func(a string) bool { return a != "ghost" }})
	past := req(firebreak.ActionLock, "dave")
	past.Until = time.Now().Add(-time.Minute)
	noUntil := req(firebreak.ActionBlockSource, "198.51.100.7")
	noUntil.Until = time.Time{}
	tests := []struct {
		name   string
		req    firebreak.ActionRequest
		reason string
	}{
		{"unknown account", req(firebreak.ActionRevokeSessions, "ghost"), "unknown account"},
		{"unknown action", req("wipe_disk", "dave"), "unknown action"},
		{"bad source", req(firebreak.ActionBlockSource, "not-an-ip"), "not an IP address"},
		{"until in the past", past, "in the past"},
		{"no until", noUntil, "needs an until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOutcome(t, sim.Apply(ctx, tt.req), firebreak.CallRejected, tt.reason)
		})
	}
	if sim.TotalEffects() != 0 {
		t.Fatalf("refused calls had %d effects", sim.TotalEffects())
	}
	st, err := sim.Observe(ctx, "ghost", false)
	if err != nil || st.Exists {
		t.Fatalf("Observe(unknown) = %+v, %v; want Exists false and no error", st, err)
	}
}

func TestSimUsedResetCannotBeReverted(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{})
	r := req(firebreak.ActionForceReset, "erin")
	if sim.UseReset("erin") {
		t.Fatal("UseReset with no reset pending reported true")
	}
	if err := sim.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if !sim.UseReset("erin") {
		t.Fatal("UseReset with a reset pending reported false")
	}
	st := sim.Snapshot("erin", false)
	if !st.ResetUsed || st.ResetRequired || !st.Applied(firebreak.ActionForceReset, time.Time{}) {
		t.Fatalf("after the person reset: %+v, want ResetUsed and still applied", st)
	}
	wantOutcome(t, sim.Revert(ctx, r), firebreak.CallRejected, "already reset")
	if got := sim.RevertEffects("erin", firebreak.ActionForceReset); got != 0 {
		t.Fatalf("RevertEffects = %d, want 0", got)
	}
}

func TestSimRevocationTimeAndSessions(t *testing.T) {
	c := newClock()
	sim := idp.NewSim(idp.SimConfig{Now: c.Now, Sessions: 2})
	sim.Login("frank")
	if got := sim.Sessions("frank"); got != 3 {
		t.Fatalf("Sessions = %d, want 3", got)
	}
	before := c.Now()
	c.Advance(time.Second)
	if err := sim.Apply(ctx, req(firebreak.ActionRevokeSessions, "frank")); err != nil {
		t.Fatal(err)
	}
	st := sim.Snapshot("frank", false)
	if got := sim.Sessions("frank"); got != 0 || !st.SessionsRevokedAt.Equal(c.Now()) {
		t.Fatalf("after revoke: %d sessions, revoked at %v; want 0 at %v", got, st.SessionsRevokedAt, c.Now())
	}
	if !st.Applied(firebreak.ActionRevokeSessions, before) || st.Applied(firebreak.ActionRevokeSessions, c.Now().Add(time.Second)) {
		t.Fatal("revocation must count for runs sent before it, not after")
	}
}

func TestSimTimedActionsLapse(t *testing.T) {
	c := newClock()
	sim := idp.NewSim(idp.SimConfig{Now: c.Now})
	r := req(firebreak.ActionThrottleSource, "192.0.2.1")
	r.Until = c.Now().Add(time.Minute)
	if err := sim.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if !sim.Snapshot("192.0.2.1", true).Throttled {
		t.Fatal("not throttled after apply")
	}
	c.Advance(2 * time.Minute)
	if sim.Snapshot("192.0.2.1", true).Throttled {
		t.Fatal("still throttled after until")
	}
}

func TestSimFaults(t *testing.T) {
	t.Run("5xx before acting", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{ErrorRate: 1}})
		pe := wantOutcome(t, sim.Apply(ctx, req(firebreak.ActionStepUp, "gus")), firebreak.CallNotApplied, "server error")
		if pe.Status != 500 || sim.TotalEffects() != 0 || sim.Stats().Errors5xx != 1 {
			t.Fatalf("status %d, %d effects, stats %+v; want 500, no effect, one 5xx", pe.Status, sim.TotalEffects(), sim.Stats())
		}
	})
	t.Run("answer lost after the effect", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{ResetRate: 1}})
		wantOutcome(t, sim.Apply(ctx, req(firebreak.ActionStepUp, "gus")), firebreak.CallUnknown, "reset")
		if sim.Effects("gus", firebreak.ActionStepUp) != 1 || !sim.Snapshot("gus", false).StepUpRequired {
			t.Fatal("a lost answer must still carry the effect out and count it")
		}
		sim.SetFaults(idp.Faults{})
		if err := sim.Apply(ctx, req(firebreak.ActionStepUp, "hal")); err != nil {
			t.Fatalf("after SetFaults(zero): %v", err)
		}
	})
	t.Run("429 bursts", func(t *testing.T) {
		c := newClock()
		sim := idp.NewSim(idp.SimConfig{Now: c.Now, Faults: idp.Faults{BurstEvery: 2 * time.Second, BurstFor: 200 * time.Millisecond}})
		c.Advance(50 * time.Millisecond)
		pe := wantOutcome(t, sim.Apply(ctx, req(firebreak.ActionStepUp, "ivy")), firebreak.CallNotApplied, "rate limited")
		if pe.Status != 429 || pe.RetryAfter != 150*time.Millisecond {
			t.Fatalf("status %d, RetryAfter %v; want 429 and the rest of the burst (150ms)", pe.Status, pe.RetryAfter)
		}
		c.Advance(200 * time.Millisecond) // 250ms into the period: outside the burst
		if err := sim.Apply(ctx, req(firebreak.ActionStepUp, "ivy")); err != nil {
			t.Fatal(err)
		}
		c.Advance(1800 * time.Millisecond) // 2.05s: the next burst
		wantOutcome(t, sim.Apply(ctx, req(firebreak.ActionStepUp, "ivy")), firebreak.CallNotApplied, "rate limited")
	})
	t.Run("latency honours the context", func(t *testing.T) {
		sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{Latency: time.Hour}})
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		wantOutcome(t, sim.Apply(cctx, req(firebreak.ActionStepUp, "jo")), firebreak.CallNotApplied, "canceled")
		if sim.TotalEffects() != 0 {
			t.Fatal("a canceled call had an effect")
		}
	})
	t.Run("seeded draws repeat", func(t *testing.T) {
		outcomes := func() string {
			sim := idp.NewSim(idp.SimConfig{Faults: idp.Faults{ErrorRate: 0.5, Seed: 7}})
			var b strings.Builder
			for range 64 {
				fmt.Fprint(&b, sim.Apply(ctx, req(firebreak.ActionStepUp, "kim")) == nil, " ")
			}
			return b.String()
		}
		if a, b := outcomes(), outcomes(); a != b {
			t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
		}
	})
}

func TestSimRate(t *testing.T) {
	c := newClock()
	sim := idp.NewSim(idp.SimConfig{Now: c.Now})
	// 100 calls in the first 100ms, 300 calls within the next 500ms, a
	// quiet 3 seconds, then 10 calls.
	for range 100 {
		sim.Apply(ctx, req(firebreak.ActionStepUp, "x"))
		c.Advance(time.Millisecond)
	}
	for range 300 {
		sim.Apply(ctx, req(firebreak.ActionStepUp, "x"))
		c.Advance(time.Millisecond + 2*time.Millisecond/3)
	}
	c.Advance(3 * time.Second)
	for range 10 {
		sim.Apply(ctx, req(firebreak.ActionStepUp, "x"))
	}
	r := sim.Rate()
	if r.Calls != 410 || r.MaxPerSecond != 400 {
		t.Fatalf("Rate = %+v, want 410 calls and at most 400 in one second", r)
	}
	if r.Span < 3500*time.Millisecond || r.Span > 3700*time.Millisecond || r.Mean < 100 || r.Mean > 120 {
		t.Fatalf("Rate = %+v, want a span of about 3.6s and a mean of about 114/s", r)
	}
}

func TestSimConcurrent(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{})
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				target := fmt.Sprintf("user-%d-%d", w, i)
				if err := sim.Apply(ctx, req(firebreak.ActionRevokeSessions, target)); err != nil {
					t.Error(err)
					return
				}
				sim.Observe(ctx, target, false)
			}
		})
	}
	wg.Wait()
	st := sim.Stats()
	if st.Applies != workers*each || st.Targets != workers*each || st.Repeats != 0 || st.Observes != workers*each {
		t.Fatalf("Stats = %+v, want %d applies on as many targets and no repeats", st, workers*each)
	}
}
