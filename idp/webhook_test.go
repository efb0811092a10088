package idp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

var webhookSecret = []byte("0123456789abcdef-test-secret")

// receiver is a webhook receiver as an integrator would write one: it
// verifies the signature, refuses replays, and acts on a Sim.
type receiver struct {
	sim    *idp.Sim
	seen   idp.ReplayCache
	mu     sync.Mutex
	keys   []string // Idempotency-Key of every accepted call
	last   *http.Request
	body   []byte
	reject error // the last VerifySignature refusal
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := idp.VerifySignature(webhookSecret, r.Header.Get(idp.SignatureHeader), body, time.Now(), time.Minute, rc.seen); err != nil {
		rc.mu.Lock()
		rc.reject = err
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"reason": err.Error()})
		return
	}
	rc.mu.Lock()
	rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
	rc.last, rc.body = r, body
	rc.mu.Unlock()
	var call struct {
		Op, Action, Target, Key, Reason string
		Source                          bool
		Until                           time.Time
	}
	if err := json.Unmarshal(body, &call); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if call.Op == "observe" {
		st, _ := rc.sim.Observe(r.Context(), call.Target, call.Source)
		json.NewEncoder(w).Encode(map[string]any{"exists": st.Exists, "step_up_required": st.StepUpRequired,
			"locked_until": st.LockedUntil, "reset_required": st.ResetRequired})
		return
	}
	areq := firebreak.ActionRequest{Action: firebreak.ActionKind(call.Action), Target: call.Target, Key: call.Key, Until: call.Until}
	var err error
	if call.Op == "apply" {
		err = rc.sim.Apply(r.Context(), areq)
	} else {
		err = rc.sim.Revert(r.Context(), areq)
	}
	var pe *firebreak.ProviderError
	if errors.As(err, &pe) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]string{"reason": pe.Reason})
		return
	}
	w.Write([]byte(`{"ok": true}`))
}

func newWebhook(t *testing.T, url string, secret []byte) *idp.Webhook {
	t.Helper()
	w, err := idp.NewWebhook(idp.WebhookConfig{URL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookRoundTrip(t *testing.T) {
	rc := &receiver{sim: idp.NewSim(idp.SimConfig{Known: func(a string) bool { return a != "ghost" }}), seen: idp.NewReplayCache(1000)}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w := newWebhook(t, srv.URL, webhookSecret)

	r := req(firebreak.ActionLock, "alice")
	if err := w.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	st, err := w.Observe(ctx, "alice", false)
	if err != nil || !st.Exists || !st.Applied(firebreak.ActionLock, time.Time{}) {
		t.Fatalf("Observe = %+v, %v; want the lock in place", st, err)
	}
	if err := w.Revert(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := rc.sim.Effects("alice", firebreak.ActionLock); got != 1 {
		t.Fatalf("effects = %d, want 1", got)
	}
	if rc.keys[0] != r.Key {
		t.Fatalf("Idempotency-Key = %q, want %q", rc.keys[0], r.Key)
	}
	wantOutcome(t, w.Apply(ctx, req(firebreak.ActionStepUp, "ghost")), firebreak.CallRejected, "unknown account")
}

func TestWebhookRefusesForgedAndReplayedCalls(t *testing.T) {
	rc := &receiver{sim: idp.NewSim(idp.SimConfig{}), seen: idp.NewReplayCache(1000)}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	t.Run("forged", func(t *testing.T) {
		forger := newWebhook(t, srv.URL, []byte("not-the-secret-at-all"))
		wantOutcome(t, forger.Apply(ctx, req(firebreak.ActionLock, "bob")), firebreak.CallNotApplied, "refused the signature")
		if !errors.Is(rc.reject, idp.ErrSignatureMismatch) || rc.sim.TotalEffects() != 0 {
			t.Fatalf("receiver: %v, %d effects; want a mismatch and no effect", rc.reject, rc.sim.TotalEffects())
		}
	})
	t.Run("replayed", func(t *testing.T) {
		if err := newWebhook(t, srv.URL, webhookSecret).Apply(ctx, req(firebreak.ActionStepUp, "carol")); err != nil {
			t.Fatal(err)
		}
		// An attacker who captured the call sends it again, byte for byte.
		again, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(rc.body))
		again.Header = rc.last.Header.Clone()
		resp, err := http.DefaultClient.Do(again)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !errors.Is(rc.reject, idp.ErrSignatureReplayed) {
			t.Fatalf("replay: HTTP %d, %v; want 401 and a replay refusal", resp.StatusCode, rc.reject)
		}
		if got := rc.sim.Effects("carol", firebreak.ActionStepUp); got != 1 {
			t.Fatalf("effects = %d, want 1", got)
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		body := bytes.Replace(rc.body, []byte("carol"), []byte("carl!"), 1)
		again, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		again.Header.Set(idp.SignatureHeader, idp.Sign(webhookSecret, rc.body, time.Now()))
		resp, err := http.DefaultClient.Do(again)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !errors.Is(rc.reject, idp.ErrSignatureMismatch) {
			t.Fatalf("tampered body: %v, want a mismatch", rc.reject)
		}
	})
}

func TestWebhookBadAnswers(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"html":   func(w http.ResponseWriter) { w.Write([]byte("<html>Sign in to the proxy</html>")) },
		"not ok": func(w http.ResponseWriter) { w.Write([]byte(`{"ok": false}`)) },
		"crash":  func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
		"busy": func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		"no": func(w http.ResponseWriter) {
			w.WriteHeader(422)
			w.Write([]byte(`{"reason": "account is a service account"}`))
		},
		"nocontent": func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) },
		"cut":       func(w http.ResponseWriter) { w.Header().Set("Content-Length", "100"); w.Write([]byte(`{"ok":`)) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call struct{ Target string }
		json.NewDecoder(r.Body).Decode(&call)
		answers[call.Target](w)
	}))
	defer srv.Close()
	w := newWebhook(t, srv.URL, webhookSecret)
	tests := []struct {
		target  string
		outcome firebreak.CallOutcome
		reason  string
	}{
		{"html", firebreak.CallUnknown, "garbled answer: apply"},
		{"not ok", firebreak.CallUnknown, `no "ok": true`},
		{"crash", firebreak.CallUnknown, "may have acted"},
		{"busy", firebreak.CallNotApplied, ""},
		{"no", firebreak.CallRejected, "service account"},
		{"cut", firebreak.CallUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			pe := wantOutcome(t, w.Apply(ctx, req(firebreak.ActionStepUp, tt.target)), tt.outcome, tt.reason)
			if tt.target == "busy" && pe.RetryAfter != 3*time.Second {
				t.Fatalf("RetryAfter = %v, want 3s", pe.RetryAfter)
			}
		})
	}
	if err := w.Apply(ctx, req(firebreak.ActionStepUp, "nocontent")); err != nil {
		t.Fatalf("204: %v", err)
	}
	_, err := w.Observe(ctx, "html", false)
	wantOutcome(t, err, firebreak.CallUnknown, "garbled answer: target state")
}

// A webhook call carries an Idempotency-Key, which makes net/http resend it
// on its own when a reused connection breaks; the connector must prevent
// that, or one Apply could act twice.
func TestWebhookNoSilentResendAfterReset(t *testing.T) {
	sim := idp.NewSim(idp.SimConfig{})
	// The sim's HTTP handler resets the connection after the effect.
	rc := &receiver{sim: sim, seen: nil}
	mux := http.NewServeMux()
	simh := idp.NewSimHandler(sim)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var call struct{ Op, Action, Target string }
		json.Unmarshal(body, &call)
		if call.Op != "apply" {
			r.Body = io.NopCloser(bytes.NewReader(body))
			rc.ServeHTTP(w, r)
			return
		}
		r2 := httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/v1/targets/"+call.Target+"/actions/"+call.Action, strings.NewReader(`{}`))
		simh.ServeHTTP(w, r2.WithContext(r.Context()))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	w := newWebhook(t, srv.URL, webhookSecret)
	if _, err := w.Observe(ctx, "dan", false); err != nil { // warm a keep-alive connection
		t.Fatal(err)
	}
	sim.SetFaults(idp.Faults{ResetRate: 1})
	wantOutcome(t, w.Apply(ctx, req(firebreak.ActionStepUp, "dan")), firebreak.CallUnknown, "no answer")
	if got := sim.Effects("dan", firebreak.ActionStepUp); got != 1 {
		t.Fatalf("effects = %d, want exactly 1: the call was resent", got)
	}
}
