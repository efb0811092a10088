package clientlimit

import (
	"testing"
	"time"
)

func TestLimiterHoldsBurstAndRate(t *testing.T) {
	l := New(2, 3, 10)
	now := time.Unix(1_000, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i)
		}
	}
	ok, retry := l.Allow("a", now)
	if ok || retry < time.Second {
		t.Fatalf("4th request at once: ok %v retry %s, want refused with Retry-After ≥ 1s", ok, retry)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Error("another key shares the first key's bucket")
	}
	if ok, _ := l.Allow("a", now.Add(600*time.Millisecond)); !ok {
		t.Error("a token should be back after 0.5 s at 2/s")
	}
}

func TestLimiterRefusesNewKeysWhenFull(t *testing.T) {
	l := New(1, 1, 2)
	now := time.Unix(1_000, 0)
	l.Allow("a", now)
	l.Allow("b", now)
	if ok, _ := l.Allow("c", now); ok {
		t.Fatal("a third key admitted into a limiter of two busy keys")
	}
	// Once a and b have filled up again they are forgotten, and c gets in.
	if ok, _ := l.Allow("c", now.Add(2*time.Second)); !ok {
		t.Fatal("c refused after the idle keys were swept")
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}
