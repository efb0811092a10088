package selfservice_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/selfservice"
)

// open is a configuration whose limits stay out of the way.
var open = selfservice.Config{PerIP: 1e4, IPBurst: 1e4, PerToken: 1e4, TokenBurst: 1e4}

// invalidTokens returns tampered, expired, foreign and malformed tokens.
func invalidTokens(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(f.token(t, "r0"))
	raw[len(raw)-1] ^= 1
	past, _ := selfservice.NewTokens(key, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, err := past.Issue("r0", f.inc.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := f.tokens.Issue("r0", f.inc.ID+1000, time.Hour)
	return map[string]string{
		"tampered": base64.RawURLEncoding.EncodeToString(raw),
		"expired":  expired,
		"unknown":  unknown, // signed, for an incident that does not exist
		"garbage":  "hello",
	}
}

func TestPageInvalidTokensLookAlike(t *testing.T) {
	f := newFixture(t, open)
	var first string
	for name, tok := range invalidTokens(t, f) {
		for _, res := range []response{f.get(t, "/self-service/"+tok), f.post(t, "/self-service/"+tok, "this was me")} {
			if res.status != 200 || !strings.Contains(res.body, "If this link is valid") {
				t.Fatalf("%s token: %d %q", name, res.status, res.body)
			}
			if first == "" {
				first = res.body
			} else if res.body != first {
				t.Errorf("%s token: the page differs from another invalid token's", name)
			}
		}
	}
	if got := f.get(t, "/self-service/"); got.body != first {
		t.Error("the bare prefix answers differently from an invalid token")
	}
	if n := f.auditor.count(firebreak.AuditAppealRecorded); n != 0 {
		t.Errorf("%d appeals recorded from invalid tokens", n)
	}
}

func TestPageValid(t *testing.T) {
	f := newFixture(t, open)
	res := f.get(t, "/self-service/"+f.token(t, "c0"))
	for _, want := range []string{"Someone else signed in to your account", "choose a new password the next time",
		"signed you out on all your devices", "second check", "This was me", "passwords leaked from other sites"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page for c0 lacks %q", want)
		}
	}
	// Nothing of the evidence: no confidence, no addresses, no counts.
	for _, leak := range []string{"0.973", "97", "203.0.113", "41 failures", "Stuffing from"} {
		if strings.Contains(res.body, leak) {
			t.Errorf("page for c0 shows %q", leak)
		}
	}
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script") ||
		res.header.Get("Referrer-Policy") != "no-referrer" || res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", res.header)
	}
	clean := f.get(t, "/self-service/"+f.token(t, "nobody"))
	if !strings.Contains(clean.body, "was not affected") || strings.Contains(clean.body, "This was me") {
		t.Errorf("page for a clean account: %s", clean.body)
	}
	g := f.get(t, "/self-service/"+f.token(t, "g0"))
	if !strings.Contains(g.body, "They did not get in") || strings.Contains(g.body, "This was me") {
		t.Errorf("page for a targeted account with nothing done: %s", g.body)
	}
	if css := f.get(t, "/self-service/assets/style.css"); css.status != 200 || !strings.Contains(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("style: %d %v", css.status, css.header)
	}
}

// TestPageTiming compares the median answer times of valid, tampered and
// expired tokens, with the default latency floor and without one.
func TestPageTiming(t *testing.T) {
	for _, floor := range []time.Duration{0, -1} {
		cfg := open
		cfg.MinLatency = floor
		f := newFixture(t, cfg)
		bad := invalidTokens(t, f)
		paths := map[string]string{"valid": "/self-service/" + f.token(t, "c0"),
			"tampered": "/self-service/" + bad["tampered"], "expired": "/self-service/" + bad["expired"]}
		med := map[string]time.Duration{}
		const n = 41
		samples := map[string][]time.Duration{}
		for range n { // interleaved, so that load drifts hit all alike
			for name, p := range paths {
				start := time.Now()
				f.get(t, p)
				samples[name] = append(samples[name], time.Since(start))
			}
		}
		for name, s := range samples {
			slices.Sort(s)
			med[name] = s[n/2]
		}
		t.Logf("floor %v: median valid %v, tampered %v, expired %v", floor, med["valid"], med["tampered"], med["expired"])
		if floor == 0 {
			lo, hi := min(med["valid"], med["tampered"], med["expired"]), max(med["valid"], med["tampered"], med["expired"])
			if hi-lo > 3*time.Millisecond {
				t.Errorf("medians differ by %v, want at most 3ms", hi-lo)
			}
		}
	}
}

func TestPageRateLimits(t *testing.T) {
	f := newFixture(t, selfservice.Config{PerIP: 0.5, IPBurst: 6, PerToken: 0.1, TokenBurst: 3, MinLatency: -1})
	tok := f.token(t, "r0")
	var codes []int
	for range 4 {
		codes = append(codes, f.get(t, "/self-service/"+tok).status)
	}
	if !slices.Equal(codes, []int{200, 200, 200, 429}) {
		t.Errorf("per-token: %v, want 3 answers then 429", codes)
	}
	// Another token from the same address: two more, then the address is spent.
	other, codes := f.token(t, "r1"), nil
	for range 3 {
		res := f.get(t, "/self-service/"+other)
		codes = append(codes, res.status)
		if res.status == 429 && res.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if !slices.Equal(codes, []int{200, 200, 429}) {
		t.Errorf("per-address: %v, want 2 more answers then 429", codes)
	}
}
