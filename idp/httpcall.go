package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// maxAnswer bounds how much of a provider's answer is read.
const maxAnswer = 1 << 20

// defaultTimeout bounds one provider call when the configuration gives none.
const defaultTimeout = 10 * time.Second

// newHTTPClient returns a client whose keep-alive pool holds enough idle
// connections for about 64 concurrent callers to one provider.
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// providerErr builds a *firebreak.ProviderError.
func providerErr(outcome firebreak.CallOutcome, status int, reason string) *firebreak.ProviderError {
	return &firebreak.ProviderError{Outcome: outcome, Status: status, Reason: reason}
}

// sendErr classifies an error from http.Client.Do. A request that never
// reached the provider (no connection) was not applied; anything later (a
// timeout, a reset) may have been.
func sendErr(ctx context.Context, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return providerErr(firebreak.CallNotApplied, 0, "cannot connect: "+op.Err.Error())
	}
	reason := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = ue.Err.Error() // without the URL, which may name the account
	}
	if ctx.Err() != nil || (ue != nil && ue.Timeout()) {
		reason = "no answer in time: " + reason
	} else {
		reason = "no answer: " + reason
	}
	return providerErr(firebreak.CallUnknown, 0, reason)
}

// readAnswer reads and closes a response body, so that the connection
// goes back to the pool. A body cut off midway is an unknown outcome.
func readAnswer(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, providerErr(firebreak.CallUnknown, resp.StatusCode, "answer cut off: "+err.Error())
	}
	return b, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// refusedBefore returns the error for a 429 or 503: the provider refused
// before acting, and says when to come back.
func refusedBefore(resp *http.Response, body []byte) error {
	pe := providerErr(firebreak.CallNotApplied, resp.StatusCode, answerReason(body, http.StatusText(resp.StatusCode)))
	pe.RetryAfter = retryAfter(resp.Header, time.Now())
	return pe
}

// answerReason extracts a short reason from a JSON error answer, the
// fallback if there is none.
func answerReason(body []byte, fallback string) string {
	var v struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		ErrorMessage     string          `json:"errorMessage"`
		Reason           string          `json:"reason"`
		Message          string          `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return fallback
	}
	var s string
	var nested struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	switch {
	case json.Unmarshal(v.Error, &nested) == nil && (nested.Reason != "" || nested.Message != ""):
		s = firstOf(nested.Reason, nested.Message)
	case json.Unmarshal(v.Error, &s) == nil && s != "":
		if v.ErrorDescription != "" {
			s += ": " + v.ErrorDescription
		}
	default:
		s = firstOf(v.Reason, v.ErrorMessage, v.Message)
	}
	if s == "" {
		return fallback
	}
	return clip(s, 200)
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// clip shortens s to at most n bytes, for reasons shown on a timeline.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// garbled is the error for an answer that cannot be read.
func garbled(status int, what string, err error) error {
	return providerErr(firebreak.CallUnknown, status, fmt.Sprintf("garbled answer: %s: %v", what, err))
}

// wireState is a TargetState on the wire (the simulated provider's and the
// webhook's observe answers). Exists is required, so that an answer of the
// wrong shape is recognised as garbled, not read as "nothing in place".
type wireState struct {
	Exists            *bool     `json:"exists"`
	SessionsRevokedAt time.Time `json:"sessions_revoked_at,omitzero"`
	ResetRequired     bool      `json:"reset_required"`
	ResetUsed         bool      `json:"reset_used"`
	StepUpRequired    bool      `json:"step_up_required"`
	LockedUntil       time.Time `json:"locked_until,omitzero"`
	Throttled         bool      `json:"throttled"`
	Blocked           bool      `json:"blocked"`
}

func toWire(s firebreak.TargetState) wireState {
	return wireState{Exists: &s.Exists, SessionsRevokedAt: s.SessionsRevokedAt, ResetRequired: s.ResetRequired,
		ResetUsed: s.ResetUsed, StepUpRequired: s.StepUpRequired, LockedUntil: s.LockedUntil,
		Throttled: s.Throttled, Blocked: s.Blocked}
}

// decodeState reads an observe answer.
func decodeState(status int, body []byte) (firebreak.TargetState, error) {
	var w wireState
	if err := json.Unmarshal(body, &w); err != nil {
		return firebreak.TargetState{}, garbled(status, "target state", err)
	}
	if w.Exists == nil {
		return firebreak.TargetState{}, garbled(status, "target state", errors.New(`no "exists" field`))
	}
	return firebreak.TargetState{Exists: *w.Exists, SessionsRevokedAt: w.SessionsRevokedAt,
		ResetRequired: w.ResetRequired, ResetUsed: w.ResetUsed, StepUpRequired: w.StepUpRequired,
		LockedUntil: w.LockedUntil, Throttled: w.Throttled, Blocked: w.Blocked}, nil
}

// errNotOK is the reason for a 2xx answer that does not say {"ok": true}.
var errNotOK = errors.New(`no "ok": true`)
