package selfservice

import (
	"context"
	"sync"
	"time"

	"firebreak"
)

// facts are the reads behind one page: the incident, the account's record
// and what was done to it.
type facts struct {
	inc  *firebreak.Incident
	acct *firebreak.AffectedAccount
	acts []firebreak.AccountAction
	err  error // the first failed read
}

// cache keeps recent reads per incident and account for a short while, so
// that a page under load costs a map lookup instead of three queries. It
// holds at most max entries; when full it starts over.
type cache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct {
	incident int64
	account  string
}

type cacheEntry struct {
	f       facts
	expires time.Time
}

func newCache(ttl time.Duration, max int) *cache {
	return &cache{ttl: ttl, max: max, entries: make(map[cacheKey]cacheEntry)}
}

// get returns the cached facts of (incident, account), or reads them with
// read and caches them. Failures are not cached, except "not found": an
// unknown incident (and the dummy lookup of an invalid token) is cached
// like a page, so that invalid tokens cost what valid ones do.
func (c *cache) get(ctx context.Context, incident int64, account string, read func(context.Context, int64, string) facts) facts {
	if c.ttl <= 0 {
		return read(ctx, incident, account)
	}
	k, now := cacheKey{incident, account}, time.Now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.f
	}
	f := read(ctx, incident, account)
	if f.err == nil || firebreak.ErrorCode(f.err) == firebreak.ENOTFOUND {
		c.mu.Lock()
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
		c.entries[k] = cacheEntry{f: f, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return f
}

// forget drops (incident, account): after an appeal, the page reads afresh.
func (c *cache) forget(incident int64, account string) {
	c.mu.Lock()
	delete(c.entries, cacheKey{incident, account})
	c.mu.Unlock()
}
