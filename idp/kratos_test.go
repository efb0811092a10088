package idp_test

import (
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

func newKratos(t *testing.T, url, key string) *idp.Kratos {
	t.Helper()
	k, err := idp.NewKratos(idp.KratosConfig{URL: url, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKratosActions(t *testing.T) {
	f, srv := newFakeKratos(t)
	k := newKratos(t, srv.URL, f.apiKey)
	id := f.addIdentity(2, nil)                                   // metadata_admin null
	other := f.addIdentity(0, map[string]any{"plan": "business"}) // the application's own metadata
	since := time.Now()

	t.Run("revoke sessions", func(t *testing.T) {
		for range 2 { // the second finds no session: Kratos answers 404, which is success here
			if err := k.Apply(ctx, req(firebreak.ActionRevokeSessions, id)); err != nil {
				t.Fatal(err)
			}
		}
		st, err := k.Observe(ctx, id, false)
		if err != nil || !st.Applied(firebreak.ActionRevokeSessions, since) || f.sessions[id] != 0 {
			t.Fatalf("after revoke: %+v, %v", st, err)
		}
	})
	t.Run("lock and unlock", func(t *testing.T) {
		r := req(firebreak.ActionLock, other)
		if err := k.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
		patches := f.calls["PATCH /admin/identities/{id}"]
		if err := k.Apply(ctx, r); err != nil { // already in place
			t.Fatal(err)
		}
		if f.calls["PATCH /admin/identities/{id}"] != patches {
			t.Fatal("re-applying a lock already in place patched again")
		}
		ident := f.identity(other)
		meta := ident["metadata_admin"].(map[string]any)
		if ident["state"] != "inactive" || meta["plan"] != "business" {
			t.Fatalf("after lock: %v", ident)
		}
		st, _ := k.Observe(ctx, other, false)
		if !st.LockedUntil.Equal(r.Until.Truncate(time.Second)) {
			t.Fatalf("LockedUntil = %v, want %v", st.LockedUntil, r.Until)
		}
		if err := k.Revert(ctx, r); err != nil {
			t.Fatal(err)
		}
		if st, _ := k.Observe(ctx, other, false); f.identity(other)["state"] != "active" || !st.Reverted(firebreak.ActionLock) {
			t.Fatalf("after unlock: %v", f.identity(other))
		}
	})
	t.Run("reset and step-up flags", func(t *testing.T) {
		for _, a := range []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionStepUp} {
			if err := k.Apply(ctx, req(a, id)); err != nil {
				t.Fatal(err)
			}
		}
		st, _ := k.Observe(ctx, id, false)
		if !st.ResetRequired || !st.StepUpRequired {
			t.Fatalf("Observe = %+v", st)
		}
		if err := k.Revert(ctx, req(firebreak.ActionStepUp, id)); err != nil {
			t.Fatal(err)
		}
		// The application records the person's new password.
		f.mu.Lock()
		meta := f.identities[id]["metadata_admin"].(map[string]any)
		delete(meta, "firebreak_reset_required")
		meta["firebreak_reset_done_at"] = time.Now().Format(time.RFC3339)
		f.mu.Unlock()
		st, _ = k.Observe(ctx, id, false)
		if !st.ResetUsed || st.StepUpRequired {
			t.Fatalf("Observe = %+v, want ResetUsed and no step-up", st)
		}
		wantOutcome(t, k.Revert(ctx, req(firebreak.ActionForceReset, id)), firebreak.CallRejected, "already reset")
	})
	t.Run("unknown identity, sources, credentials", func(t *testing.T) {
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionRevokeSessions, "00000000-0000-0000-0000-000000000000")), firebreak.CallRejected, "unknown account")
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionLock, "00000000-0000-0000-0000-000000000000")), firebreak.CallRejected, "unknown account")
		if st, err := k.Observe(ctx, "00000000-0000-0000-0000-000000000000", false); err != nil || st.Exists {
			t.Fatalf("Observe(unknown) = %+v, %v", st, err)
		}
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionThrottleSource, "192.0.2.0/24")), firebreak.CallRejected, "kratos cannot block sources")
		bad := newKratos(t, srv.URL, "wrong")
		wantOutcome(t, bad.Apply(ctx, req(firebreak.ActionLock, id)), firebreak.CallNotApplied, "credentials")
	})
	t.Run("metadata_admin that is not an object is left alone", func(t *testing.T) {
		odd := f.addIdentity(0, "legacy-string")
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionStepUp, odd)), firebreak.CallRejected, "not an object")
		if f.identity(odd)["metadata_admin"] != "legacy-string" {
			t.Fatal("metadata_admin was overwritten")
		}
	})
}
