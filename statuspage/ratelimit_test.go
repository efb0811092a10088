package statuspage_test

import (
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"firebreak/statuspage"
)

// limited returns a status page limiting each client to 2 requests a second
// with bursts of 5, and a function that asks it for / as the client at ip.
func limited(t *testing.T, configure ...func(*statuspage.Config)) (*env, func(ip string) *httptest.ResponseRecorder) {
	e := newEnv(t, append([]func(*statuspage.Config){func(c *statuspage.Config) {
		c.RateLimit, c.RateBurst = 2, 5
	}}, configure...)...)
	return e, func(ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = net.JoinHostPort(ip, "40000")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return w
	}
}

func TestRateLimit(t *testing.T) {
	e, get := limited(t)
	passed := func(ip string, n int) int {
		ok := 0
		for range n {
			w := get(ip)
			switch w.Code {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				if w.Header().Get("Retry-After") != "1" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Fatalf("429 headers = %v, want Retry-After 1 and the security headers", w.Header())
				}
			default:
				t.Fatalf("status %d", w.Code)
			}
		}
		return ok
	}
	if got := passed("192.0.2.1", 50); got != 5 {
		t.Fatalf("a burst of 50 let %d through, want the burst of 5", got)
	}
	if got := passed("192.0.2.2", 50); got != 5 {
		t.Fatalf("another client got %d through, want its own burst of 5", got)
	}
	e.clock.Add(time.Second)
	if got := passed("192.0.2.1", 50); got != 2 {
		t.Fatalf("a second later %d went through, want the rate of 2", got)
	}
	// IPv6 clients count per /64.
	if got := passed("2001:db8::1", 3) + passed("2001:db8::2", 3); got != 5 {
		t.Fatalf("two addresses in one /64 got %d through, want 5 together", got)
	}
}

// TestRateLimitNeverExceeds drives one client at random times, with other
// clients coming and going so that the limiter forgets idle ones, and checks
// that by every moment the client got at most burst + rate·elapsed through.
func TestRateLimitNeverExceeds(t *testing.T) {
	const limit, burst = 20, 10
	e, get := limited(t, func(c *statuspage.Config) {
		c.RateLimit, c.RateBurst, c.MaxClients = limit, burst, 50
	})
	rng := rand.New(rand.NewPCG(1, 2))
	passed := 0
	start := e.clock.Now()
	for i := range 5000 {
		e.clock.Add(time.Duration(rng.IntN(int(40 * time.Millisecond))))
		if get("198.51.100.7").Code == http.StatusOK {
			passed++
		}
		get("203.0.113." + itoa(int64(i%200))) // churn beyond MaxClients
		elapsed := e.clock.Now().Sub(start).Seconds()
		if max := burst + limit*elapsed; float64(passed) > max+1e-9 {
			t.Fatalf("after %.3fs %d requests went through, limit %.1f", elapsed, passed, max)
		}
	}
	if passed < 1000 {
		t.Fatalf("only %d requests went through in %v; the limiter is too strict", passed, e.clock.Now().Sub(start))
	}
}

// TestRateLimitFull checks that a limiter full of active clients turns new
// ones away rather than forgetting a client that is still limited.
func TestRateLimitFull(t *testing.T) {
	_, get := limited(t, func(c *statuspage.Config) { c.MaxClients = 2; c.RateLimit = rate.Limit(1) })
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		if get(ip).Code != http.StatusOK {
			t.Fatal("a new client was limited")
		}
	}
	w := get("192.0.2.3")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a third client got %d, want 429 with Retry-After", w.Code)
	}
}
