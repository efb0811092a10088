package channel

import (
	"context"
	"encoding/json"
	"errors"
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
const maxAnswer = 64 << 10

// defaultTimeout bounds one call when the configuration gives none.
const defaultTimeout = 10 * time.Second

// maxRetryAfter caps a Retry-After we believe: a provider asking for more
// than a day is treated as asking for a day.
const maxRetryAfter = 24 * time.Hour

// newHTTPClient returns a client with a keep-alive pool for about 64
// concurrent callers that never follows redirects: a signed notice is
// sent only where it was configured to go.
func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkURL requires an absolute http(s) URL with a host and no
// credentials in it.
func checkURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return &firebreak.FieldError{Field: field, Reason: "must be an absolute http(s) URL with a host"}
	}
	if u.User != nil {
		return &firebreak.FieldError{Field: field, Reason: "must not hold credentials"}
	}
	if u.Fragment != "" {
		return &firebreak.FieldError{Field: field, Reason: "must not have a #fragment"}
	}
	return nil
}

func providerErr(outcome firebreak.CallOutcome, status int, reason string) *firebreak.ProviderError {
	return &firebreak.ProviderError{Outcome: outcome, Status: status, Reason: reason}
}

// sendErr classifies an error from http.Client.Do. A request that never
// reached the receiver (no connection) was not delivered; anything later
// (a timeout, a reset) may have been.
func sendErr(ctx context.Context, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return providerErr(firebreak.CallNotApplied, 0, "cannot connect: "+op.Err.Error())
	}
	reason := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = ue.Err.Error() // without the URL, which may hold a secret (Slack)
	}
	if ctx.Err() != nil || (ue != nil && ue.Timeout()) {
		return providerErr(firebreak.CallUnknown, 0, "no answer in time: "+reason)
	}
	return providerErr(firebreak.CallUnknown, 0, "no answer: "+reason)
}

// readAnswer reads (a bounded part of) a response body and closes it, so
// that the connection goes back to the pool.
func readAnswer(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	return b
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP
// date. ok is false for a missing or unreadable value; a date in the past
// is 0. The result is capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if v[0] >= '0' && v[0] <= '9' {
		return 0, false // digits that are not a plain integer (-1, 1.5, 1e3)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// refusedBefore is the error for an answer that says "not done, come back
// later" (429, 503).
func refusedBefore(resp *http.Response, reason string) error {
	pe := providerErr(firebreak.CallNotApplied, resp.StatusCode, reason)
	pe.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return pe
}

// answerReason extracts a short reason from an error answer: a JSON
// {"reason"|"error"|"message": "..."} or a short plain-text body, else
// fallback.
func answerReason(body []byte, fallback string) string {
	var v struct {
		Reason  string `json:"reason"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		for _, s := range []string{v.Reason, v.Error, v.Message} {
			if s != "" {
				return clip(oneLine(s), 200)
			}
		}
		return fallback
	}
	if s := oneLine(string(body)); s != "" && !strings.HasPrefix(s, "<") {
		return clip(s, 200)
	}
	return fallback
}

// oneLine trims s and replaces control characters with spaces.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// clip shortens s to at most n bytes, for reasons shown in the outbox.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
