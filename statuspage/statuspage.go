// Package statuspage serves Firebreak's public status page: the incidents
// that are current with their updates and the time of the next promised
// update, the history, an Atom feed, and subscriptions by email and webhook.
// It needs no login and no JavaScript; every page is rendered on the server
// from templates parsed once at start.
//
// Mount it under its public path, e.g.
//
//	mux.Handle("/status/", http.StripPrefix("/status", h))
//
// with Config.BaseURL "https://example.com/status".
package statuspage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"firebreak"
	"firebreak/clientlimit"
)

// Config configures the status page. Status and BaseURL are required; zero
// values of the rest take the defaults documented on each field.
type Config struct {
	// Status is where updates and subscriptions live.
	Status firebreak.StatusService
	// BaseURL is the page's public absolute URL, e.g.
	// "https://status.example.com" or "https://example.com/status". Its
	// path prefixes every link; the feed uses it for ids and links.
	BaseURL string
	// Title heads every page and the feed. Default "Status".
	Title string
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger

	// RateLimit is the requests per second each client may make, with
	// bursts of up to RateBurst. Defaults 10 and 20.
	RateLimit rate.Limit
	RateBurst int
	// MaxClients bounds how many clients the rate limiter tracks; when it
	// is full of active clients, new ones get 429. Default 100,000.
	MaxClients int
	// ClientIP names the client a request counts against. Default: the
	// host of RemoteAddr. Behind a proxy, read the header the proxy sets.
	ClientIP func(r *http.Request) string

	// CacheFor is how long a rendered page is reused, unless Invalidate is
	// called first. Default 1s; negative disables the cache.
	CacheFor time.Duration
	// MaxAge is the Cache-Control max-age of public pages. Default 10s.
	MaxAge time.Duration
	// HistoryPageSize is how many updates a history page shows. Default 20.
	HistoryPageSize int

	// OnSubscribe is called with each new or renewed subscription, its
	// plain-text Token set, so that the caller sends the confirmation link
	// (ConfirmURL) to its target. It runs on the request, so it must only
	// queue the message: a slow call would tell callers which targets exist.
	OnSubscribe func(ctx context.Context, sub firebreak.Subscription)
}

// Handler is the status page as an http.Handler.
type Handler struct {
	cfg     Config
	base    *url.URL
	path    string // BaseURL's path without a trailing slash: the link prefix
	mux     *http.ServeMux
	tmpl    *templates
	cache   *pageCache
	limiter *clientlimit.Limiter
	started time.Time
}

// New returns the status page's handler; it fails on a bad Config.
func New(cfg Config) (*Handler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	base, _ := url.Parse(cfg.BaseURL) // checked by setDefaults
	h := &Handler{cfg: cfg, base: base, path: strings.TrimSuffix(base.Path, "/"),
		cache:   newPageCache(cfg.CacheFor),
		limiter: clientlimit.New(cfg.RateLimit, cfg.RateBurst, cfg.MaxClients),
		started: cfg.Now().UTC()}
	var err error
	if h.tmpl, err = parseTemplates(h.path); err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	h.mux = h.routes()
	return h, nil
}

func (c *Config) setDefaults() error {
	if c.Status == nil {
		return errors.New("config Status: required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("config BaseURL %q: must be an absolute http(s) URL without query or fragment", c.BaseURL)
	}
	if c.RateLimit < 0 || c.RateBurst < 0 || c.MaxClients < 0 || c.HistoryPageSize < 0 || c.HistoryPageSize > firebreak.MaxPageLimit {
		return errors.New("config RateLimit, RateBurst, MaxClients and HistoryPageSize: must not be negative (HistoryPageSize at most 1000)")
	}
	setDefault(&c.Title, "Status")
	setDefault(&c.RateLimit, 10)
	setDefault(&c.RateBurst, 20)
	setDefault(&c.MaxClients, 100_000)
	setDefault(&c.CacheFor, time.Second)
	setDefault(&c.MaxAge, 10*time.Second)
	setDefault(&c.HistoryPageSize, 20)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ClientIP == nil {
		c.ClientIP = clientlimit.RemoteHost
	}
	return nil
}

// setDefault sets *v to def when it is zero.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// routes is the status page's route table.
func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.handleIndex)
	mux.HandleFunc("GET /history", h.handleHistory)
	mux.HandleFunc("GET /incidents/{id}", h.handleIncident)
	mux.HandleFunc("GET /notices", h.handleNotices)
	mux.HandleFunc("GET /feed.atom", h.handleFeed)
	mux.HandleFunc("POST /subscribe", h.handleSubscribe)
	mux.HandleFunc("GET /confirm", h.handleTokenForm("confirm"))
	mux.HandleFunc("POST /confirm", h.handleConfirm)
	mux.HandleFunc("GET /unsubscribe", h.handleTokenForm("unsubscribe"))
	mux.HandleFunc("POST /unsubscribe", h.handleUnsubscribe)
	mux.HandleFunc("GET /assets/{file}", h.handleAsset)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, firebreak.Errorf(firebreak.ENOTFOUND, "There is no such page."))
	})
	return mux
}

// ServeHTTP sets the security headers, applies the per-client rate limit
// and serves the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if ok, retry := h.limiter.Allow(h.cfg.ClientIP(r), h.cfg.Now()); !ok {
		// A plain, fixed answer: under a flood, refusing must cost less
		// than serving.
		hd.Set("Retry-After", fmt.Sprint(int(retry.Seconds())))
		hd.Set("Cache-Control", "no-store")
		http.Error(w, "Too many requests; try again in a few seconds.", http.StatusTooManyRequests)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Invalidate drops every cached page, so that the next request shows a
// update just published. Call it after StatusService.Publish.
func (h *Handler) Invalidate() { h.cache.invalidate() }

// ConfirmURL is the link that confirms a subscription, to send to its target.
func (h *Handler) ConfirmURL(token string) string {
	return h.absURL("/confirm?token=" + url.QueryEscape(token))
}

// UnsubscribeURL is the link that ends a subscription, to put in every
// message sent to it.
func (h *Handler) UnsubscribeURL(token string) string {
	return h.absURL("/unsubscribe?token=" + url.QueryEscape(token))
}

// absURL is the absolute URL of a path on the status page.
func (h *Handler) absURL(p string) string {
	return h.base.Scheme + "://" + h.base.Host + h.path + p
}
