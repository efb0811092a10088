package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"firebreak"
)

// WebhookConfig configures a Webhook connector.
type WebhookConfig struct {
	Name   string       // shown in plans; "" means "webhook"
	URL    string       // where every call is POSTed
	Secret []byte       // signs every call (HMAC-SHA256); at least 16 bytes
	Client *http.Client // nil: a 10s timeout and a pool for ~64 callers
}

// Webhook is a generic connector: it POSTs every call as signed JSON to one
// URL, for identity providers Firebreak has no built-in connector for.
//
// The body is {"op", "action", "target", "source", "key", "until",
// "reason"}, op being apply, revert or observe. Every call carries the
// Idempotency-Key header (the item's key; the receiver must not act twice
// on one key) and SignatureHeader, signed afresh for every attempt.
//
// The receiver answers apply and revert with 200 {"ok": true} or 204,
// observe with 200 and a target state {"exists", "sessions_revoked_at",
// "reset_required", "reset_used", "step_up_required", "locked_until",
// "throttled", "blocked"}. 429 and 503 mean "not done, retry" (with
// Retry-After); any other 5xx, a timeout or an unreadable answer means
// "may have been done": Firebreak observes before it retries. 401 and 403
// mean the receiver refused the signature (not done, retryable once the
// secret is fixed); any other 4xx is a refusal for good, its reason read
// from {"reason": "..."}.
type Webhook struct {
	name   string
	url    string
	secret []byte
	hc     *http.Client
}

// NewWebhook returns a Webhook connector.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	if len(cfg.Secret) < 16 {
		return nil, &firebreak.FieldError{Field: "secret", Reason: "must be at least 16 bytes"}
	}
	w := &Webhook{name: cfg.Name, url: cfg.URL, secret: cfg.Secret, hc: cfg.Client}
	if w.name == "" {
		w.name = "webhook"
	}
	if w.hc == nil {
		w.hc = newHTTPClient(0)
	}
	return w, nil
}

// webhookCall is the body of every webhook call.
type webhookCall struct {
	Op     string               `json:"op"`
	Action firebreak.ActionKind `json:"action,omitempty"`
	Target string               `json:"target"`
	Source bool                 `json:"source"`
	Key    string               `json:"key,omitempty"`
	Until  time.Time            `json:"until,omitzero"`
	Reason string               `json:"reason,omitempty"`
}

// Name implements firebreak.Connector.
func (w *Webhook) Name() string { return w.name }

// Apply implements firebreak.Connector.
func (w *Webhook) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	return w.act(ctx, "apply", req)
}

// Revert implements firebreak.Connector.
func (w *Webhook) Revert(ctx context.Context, req firebreak.ActionRequest) error {
	return w.act(ctx, "revert", req)
}

func (w *Webhook) act(ctx context.Context, op string, req firebreak.ActionRequest) error {
	info, ok := req.Action.Info()
	if !ok {
		return providerErr(firebreak.CallRejected, 0, "unknown action "+string(req.Action))
	}
	status, answer, err := w.post(ctx, webhookCall{Op: op, Action: req.Action, Target: req.Target,
		Source: info.OnSource, Key: req.Key, Until: req.Until, Reason: req.Reason})
	switch {
	case err != nil:
		return err
	case status == http.StatusNoContent:
		return nil
	}
	var v struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal(answer, &v); err != nil {
		return garbled(status, op, err)
	} else if !v.OK {
		return garbled(status, op, errNotOK)
	}
	return nil
}

// Observe implements firebreak.Connector.
func (w *Webhook) Observe(ctx context.Context, target string, source bool) (firebreak.TargetState, error) {
	status, answer, err := w.post(ctx, webhookCall{Op: "observe", Target: target, Source: source})
	if err != nil {
		return firebreak.TargetState{}, err
	}
	return decodeState(status, answer)
}

// post sends one signed call and classifies a failed answer.
func (w *Webhook) post(ctx context.Context, call webhookCall) (int, []byte, error) {
	body, err := json.Marshal(call)
	if err != nil {
		return 0, nil, providerErr(firebreak.CallNotApplied, 0, "encode call: "+err.Error())
	}
	// The body is wrapped so that net/http cannot rewind it: with an
	// Idempotency-Key header and a rewindable body it would silently
	// resend the call on a broken keep-alive connection, with the same
	// signature, which the receiver rightly refuses as a replay.
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return 0, nil, providerErr(firebreak.CallRejected, 0, "bad request: "+err.Error())
	}
	hreq.ContentLength = int64(len(body))
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("User-Agent", "firebreak-webhook/1")
	if call.Key != "" {
		hreq.Header.Set("Idempotency-Key", call.Key)
	}
	hreq.Header.Set(SignatureHeader, Sign(w.secret, body, time.Now()))
	resp, err := w.hc.Do(hreq)
	if err != nil {
		return 0, nil, sendErr(ctx, err)
	}
	answer, err := readAnswer(resp)
	if err != nil {
		return 0, nil, err
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return s, answer, nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return 0, nil, refusedBefore(resp, answer)
	case s == http.StatusRequestTimeout || s >= 500:
		return 0, nil, providerErr(firebreak.CallUnknown, s, answerReason(answer, "receiver error; it may have acted"))
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		// A configuration problem, not the target's: retryable once fixed.
		return 0, nil, providerErr(firebreak.CallNotApplied, s, "the receiver refused the signature: "+answerReason(answer, "check the webhook secret"))
	case s >= 400:
		return 0, nil, providerErr(firebreak.CallRejected, s, answerReason(answer, http.StatusText(s)))
	}
	return 0, nil, providerErr(firebreak.CallUnknown, resp.StatusCode, "unexpected answer "+resp.Status)
}
