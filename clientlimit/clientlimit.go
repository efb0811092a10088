// Package clientlimit limits requests per client of Firebreak's public
// pages (the status page, the self-service page): a token bucket per key
// (a client address, a token's digest), a bounded number of keys, and the
// client key of a request's address (IPv6 per /64).
package clientlimit

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key: each lets through at most burst
// requests at once and limit per second after that, so over any span d a
// key gets at most burst + limit·d requests. It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int // keys tracked at most; beyond, new keys are refused

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	bucket *rate.Limiter
	seen   time.Time
}

// New returns a limiter of limit requests per second with bursts of burst,
// tracking at most max keys.
func New(limit rate.Limit, burst, max int) *Limiter {
	return &Limiter{limit: limit, burst: burst, max: max, clients: make(map[string]*client)}
}

// Allow takes a token from key's bucket at now. When there is none it
// returns false and how long until there is (at least a second, as
// Retry-After counts whole seconds).
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= l.max || now.Sub(l.lastSweep) > time.Minute {
			l.sweep(now)
		}
		if len(l.clients) >= l.max {
			return false, l.refill()
		}
		c = &client{bucket: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = c
	}
	if now.After(c.seen) {
		c.seen = now
	}
	if c.bucket.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration(math.Ceil(1/float64(l.limit))) * time.Second
}

// refill is how long an empty bucket takes to fill up again.
func (l *Limiter) refill() time.Duration {
	return time.Duration(math.Ceil(float64(l.burst)/float64(l.limit))) * time.Second
}

// sweep forgets the clients whose buckets have filled up again since their
// last request. Forgetting them loses nothing: a new bucket starts full too,
// so no client ever gets more than its limit.
func (l *Limiter) sweep(now time.Time) {
	l.lastSweep = now
	full := l.refill()
	for key, c := range l.clients {
		if now.Sub(c.seen) >= full {
			delete(l.clients, key)
		}
	}
}

// RemoteHost is the client key of the address a request's connection comes
// from (behind a proxy, read the proxy's header instead). IPv6 clients count
// per /64, the block one subscriber gets.
func RemoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return Key(host)
}

// Key maps an IP address to the key it is limited under: itself for IPv4,
// its /64 for IPv6. Anything else is its own key.
func Key(host string) string {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}
