package idp_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

func newKeycloak(t *testing.T, url, secret string) *idp.Keycloak {
	t.Helper()
	k, err := idp.NewKeycloak(idp.KeycloakConfig{URL: url, Realm: "acme", ClientID: "firebreak", ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func requiredActions(u map[string]any) []string {
	var out []string
	list, _ := u["requiredActions"].([]any)
	for _, a := range list {
		out = append(out, a.(string))
	}
	return out
}

func TestKeycloakActions(t *testing.T) {
	f, srv := newFakeKeycloak(t)
	k := newKeycloak(t, srv.URL, f.secret)
	id := f.addUser("Alice", 3)
	since := time.Now()

	t.Run("revoke sessions", func(t *testing.T) {
		if st, _ := k.Observe(ctx, "Alice", false); st.Applied(firebreak.ActionRevokeSessions, since) {
			t.Fatal("revoked before any call")
		}
		if err := k.Apply(ctx, req(firebreak.ActionRevokeSessions, "Alice")); err != nil {
			t.Fatal(err)
		}
		st, err := k.Observe(ctx, "Alice", false)
		if err != nil || !st.Applied(firebreak.ActionRevokeSessions, since) || f.sessions[id] != 0 {
			t.Fatalf("after logout: %+v, %v, %d sessions", st, err, f.sessions[id])
		}
		wantOutcome(t, k.Revert(ctx, req(firebreak.ActionRevokeSessions, "Alice")), firebreak.CallRejected, "cannot be undone")
	})
	t.Run("force reset and step-up", func(t *testing.T) {
		for _, a := range []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionStepUp} {
			if err := k.Apply(ctx, req(a, "Alice")); err != nil {
				t.Fatal(err)
			}
		}
		puts := f.count("PUT user")
		if err := k.Apply(ctx, req(firebreak.ActionStepUp, "Alice")); err != nil { // already in place
			t.Fatal(err)
		}
		if f.count("PUT user") != puts {
			t.Fatal("re-applying an action already in place wrote the user again")
		}
		u := f.user(id)
		if got := requiredActions(u); !slices.Equal(got, []string{"UPDATE_PASSWORD", "CONFIGURE_TOTP"}) {
			t.Fatalf("requiredActions = %v", got)
		}
		if u["email"] != "Alice@example.com" || u["attributes"].(map[string]any)["department"] == nil {
			t.Fatalf("fields Firebreak does not own were lost: %v", u)
		}
		st, _ := k.Observe(ctx, "Alice", false)
		if !st.ResetRequired || !st.StepUpRequired || st.ResetUsed {
			t.Fatalf("Observe = %+v", st)
		}
		if err := k.Revert(ctx, req(firebreak.ActionStepUp, "Alice")); err != nil {
			t.Fatal(err)
		}
		if got := requiredActions(f.user(id)); !slices.Equal(got, []string{"UPDATE_PASSWORD"}) {
			t.Fatalf("after reverting step-up: requiredActions = %v", got)
		}
	})
	t.Run("a reset the person did cannot be reverted", func(t *testing.T) {
		f.mu.Lock()
		f.users[id]["requiredActions"] = []any{} // Keycloak drops it once the password is changed
		f.mu.Unlock()
		st, _ := k.Observe(ctx, "Alice", false)
		if !st.ResetUsed || !st.Applied(firebreak.ActionForceReset, since) {
			t.Fatalf("Observe = %+v, want ResetUsed", st)
		}
		wantOutcome(t, k.Revert(ctx, req(firebreak.ActionForceReset, "Alice")), firebreak.CallRejected, "already reset")
	})
	t.Run("temporary lock", func(t *testing.T) {
		r := req(firebreak.ActionLock, "Alice")
		if err := k.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
		st, _ := k.Observe(ctx, "Alice", false)
		if f.user(id)["enabled"] != false || !st.LockedUntil.Equal(r.Until.Truncate(time.Second)) {
			t.Fatalf("after lock: enabled=%v, LockedUntil %v (want %v)", f.user(id)["enabled"], st.LockedUntil, r.Until)
		}
		if err := k.Revert(ctx, r); err != nil {
			t.Fatal(err)
		}
		st, _ = k.Observe(ctx, "Alice", false)
		if f.user(id)["enabled"] != true || !st.Reverted(firebreak.ActionLock) {
			t.Fatalf("after unlock: enabled=%v, %+v", f.user(id)["enabled"], st)
		}
	})
	t.Run("unknown user and sources", func(t *testing.T) {
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionLock, "ghost")), firebreak.CallRejected, "unknown account")
		if st, err := k.Observe(ctx, "ghost", false); err != nil || st.Exists {
			t.Fatalf("Observe(ghost) = %+v, %v", st, err)
		}
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionBlockSource, "192.0.2.1")), firebreak.CallRejected, "keycloak cannot block sources")
	})
	if got := f.count("POST token"); got != 1 {
		t.Fatalf("%d token requests, want 1 (cached)", got)
	}
}

func TestKeycloakTokenAndCache(t *testing.T) {
	f, srv := newFakeKeycloak(t)
	k := newKeycloak(t, srv.URL, f.secret)
	id := f.addUser("bob", 1)
	if err := k.Apply(ctx, req(firebreak.ActionStepUp, "bob")); err != nil {
		t.Fatal(err)
	}
	t.Run("revoked token is replaced on 401", func(t *testing.T) {
		f.mu.Lock()
		clear(f.tokens)
		f.mu.Unlock()
		if err := k.Apply(ctx, req(firebreak.ActionForceReset, "bob")); err != nil {
			t.Fatal(err)
		}
		if got := f.count("POST token"); got != 2 {
			t.Fatalf("%d token requests, want 2", got)
		}
		if got := f.count("GET search"); got != 1 {
			t.Fatalf("%d user searches, want 1 (id cached)", got)
		}
	})
	t.Run("user re-created under a new id", func(t *testing.T) {
		f.mu.Lock()
		delete(f.users, id)
		f.mu.Unlock()
		newID := f.addUser("bob", 1)
		if err := k.Apply(ctx, req(firebreak.ActionLock, "bob")); err != nil {
			t.Fatal(err)
		}
		if f.user(newID)["enabled"] != false {
			t.Fatal("the lock did not reach the re-created user")
		}
	})
	t.Run("errors before and after the change", func(t *testing.T) {
		f.mu.Lock()
		f.failNext["GET user"] = 500
		f.mu.Unlock()
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionStepUp, "bob")), firebreak.CallNotApplied, "")
		f.mu.Lock()
		f.failNext["PUT user"] = 500
		f.mu.Unlock()
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionStepUp, "bob")), firebreak.CallUnknown, "may have been made")
		f.mu.Lock()
		f.failNext["POST logout"] = 502
		f.mu.Unlock()
		wantOutcome(t, k.Apply(ctx, req(firebreak.ActionRevokeSessions, "bob")), firebreak.CallUnknown, "")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad := newKeycloak(t, srv.URL, "wrong")
		wantOutcome(t, bad.Apply(ctx, req(firebreak.ActionStepUp, "bob")), firebreak.CallNotApplied, "Invalid client")
	})
}

// Changes to one user are read-modify-write; concurrent actions on the same
// user must not overwrite each other.
func TestKeycloakConcurrentChangesToOneUser(t *testing.T) {
	f, srv := newFakeKeycloak(t)
	k := newKeycloak(t, srv.URL, f.secret)
	id := f.addUser("carol", 1)
	var wg sync.WaitGroup
	for _, a := range []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionStepUp, firebreak.ActionLock} {
		wg.Go(func() {
			if err := k.Apply(ctx, req(a, "carol")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st, _ := k.Observe(ctx, "carol", false)
	if !st.ResetRequired || !st.StepUpRequired || st.LockedUntil.IsZero() || f.user(id)["enabled"] != false {
		t.Fatalf("state %+v: a concurrent change was lost", st)
	}
}
