package statuspage

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rendered is a page's bytes with its content type and ETag.
type rendered struct {
	body        []byte
	contentType string
	etag        string
}

func newRendered(body []byte, contentType string) *rendered {
	sum := sha256.Sum256(body)
	return &rendered{body: body, contentType: contentType,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// pageCache keeps rendered pages for a short time. A page is rendered once
// however many requests wait for it; Invalidate makes every page stale.
type pageCache struct {
	ttl   time.Duration
	gen   atomic.Uint64
	mu    sync.Mutex
	slots map[string]*slot
}

type slot struct {
	mu  sync.Mutex
	gen uint64
	at  time.Time
	pg  *rendered
}

func newPageCache(ttl time.Duration) *pageCache {
	return &pageCache{ttl: ttl, slots: make(map[string]*slot)}
}

func (c *pageCache) invalidate() { c.gen.Add(1) }

// get returns the page under key, rendering it when it is missing, older
// than the TTL or from before the last invalidation. Keys must come from a
// small fixed set: the cache never forgets a key.
func (c *pageCache) get(key string, now time.Time, render func() (*rendered, error)) (*rendered, error) {
	if c.ttl < 0 {
		return render()
	}
	c.mu.Lock()
	s, ok := c.slots[key]
	if !ok {
		s = &slot{}
		c.slots[key] = s
	}
	c.mu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	gen := c.gen.Load()
	if s.pg != nil && s.gen == gen && now.Sub(s.at) < c.ttl && !now.Before(s.at) {
		return s.pg, nil
	}
	pg, err := render()
	if err != nil {
		return nil, err
	}
	s.pg, s.gen, s.at = pg, gen, now
	return pg, nil
}

// write sends pg with its validators, or 304 Not Modified when the client
// holds it already. cacheControl is the Cache-Control header.
func (pg *rendered) write(w http.ResponseWriter, r *http.Request, status int, cacheControl string) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", pg.etag)
	if status == http.StatusOK && etagMatch(r.Header.Get("If-None-Match"), pg.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", pg.contentType)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(pg.body)
	}
}

// etagMatch reports whether an If-None-Match header names etag, comparing
// weakly (a W/ prefix is ignored) as RFC 9110 asks for If-None-Match.
func etagMatch(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
