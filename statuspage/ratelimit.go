package statuspage

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client: each lets through at most burst
// requests at once and limit per second after that, so over any span d a
// client gets at most burst + limit·d requests.
type limiter struct {
	limit rate.Limit
	burst int
	max   int // clients tracked at most

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	bucket *rate.Limiter
	seen   time.Time
}

func newLimiter(limit rate.Limit, burst, max int) *limiter {
	return &limiter{limit: limit, burst: burst, max: max, clients: make(map[string]*client)}
}

// allow takes a token from key's bucket at now. When there is none it
// returns false and how long until there is (at least a second, as
// Retry-After counts whole seconds).
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
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
func (l *limiter) refill() time.Duration {
	return time.Duration(math.Ceil(float64(l.burst)/float64(l.limit))) * time.Second
}

// sweep forgets the clients whose buckets have filled up again since their
// last request. Forgetting them loses nothing: a new bucket starts full too,
// so no client ever gets more than its limit.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	full := l.refill()
	for key, c := range l.clients {
		if now.Sub(c.seen) >= full {
			delete(l.clients, key)
		}
	}
}

// remoteHost is the default Config.ClientIP: the address the connection
// comes from. IPv6 clients count per /64, the block one subscriber gets.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return clientKey(host)
}

// clientKey maps an IP address to the key it is limited under: itself for
// IPv4, its /64 for IPv6. Anything else is its own key.
func clientKey(host string) string {
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
