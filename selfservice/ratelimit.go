package selfservice

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per key (a client address, or a token's
// digest): at most burst requests at once and limit per second after.
type limiter struct {
	limit rate.Limit
	burst int
	max   int // keys tracked at most; beyond, new keys are refused

	mu        sync.Mutex
	keys      map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens *rate.Limiter
	seen   time.Time
}

func newLimiter(limit rate.Limit, burst, max int) *limiter {
	return &limiter{limit: limit, burst: burst, max: max, keys: make(map[string]*bucket)}
}

// allow takes a token from key's bucket at now, or says how long until
// there is one (whole seconds, for Retry-After).
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.max || now.Sub(l.lastSweep) > time.Minute {
			l.sweep(now)
		}
		if len(l.keys) >= l.max {
			return false, l.refill()
		}
		b = &bucket{tokens: rate.NewLimiter(l.limit, l.burst)}
		l.keys[key] = b
	}
	if now.After(b.seen) {
		b.seen = now
	}
	if b.tokens.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration(math.Ceil(1/float64(l.limit))) * time.Second
}

func (l *limiter) refill() time.Duration {
	return time.Duration(math.Ceil(float64(l.burst)/float64(l.limit))) * time.Second
}

// sweep forgets keys whose buckets have filled up again: a new bucket
// starts full too, so forgetting gives nobody more than the limit.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	full := l.refill()
	for key, b := range l.keys {
		if now.Sub(b.seen) >= full {
			delete(l.keys, key)
		}
	}
}

// remoteHost is the default Config.ClientIP: the connection's address,
// IPv6 per /64.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip = ip.Unmap(); ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
