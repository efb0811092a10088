// Package selfservice is the public page where a person checks their own
// account after an incident: reached through a signed, expiring token from
// the in-app feed (never a login link by e-mail), it says whether the
// account was affected, what was done and why in plain words, and what to
// do; "This was me" records an appeal that the policy lifts at once
// (through containment's rollback machinery) or queues for review.
//
// Nothing on it helps enumerate accounts: a tampered, expired or unknown
// token gets the same page after the same lookups, and every answer takes
// at least Config.MinLatency. Requests are rate limited per client address
// and per token.
package selfservice

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"firebreak"
	"firebreak/clientlimit"
)

//go:embed html/*.html
var htmlFS embed.FS

//go:embed assets/style.css
var styleCSS []byte

// IncidentFinder finds an incident (firebreak.IncidentService does).
type IncidentFinder interface {
	Find(ctx context.Context, id int64) (*firebreak.Incident, error)
}

// Config tunes the handler. Zero fields take the defaults.
type Config struct {
	// Prefix is where the pages are mounted (default "/self-service").
	Prefix string
	// PerIP and IPBurst limit requests per client address (default 2/s, burst 10).
	PerIP   rate.Limit
	IPBurst int
	// PerToken and TokenBurst limit requests per token, valid or not
	// (default one every 5s, burst 5).
	PerToken   rate.Limit
	TokenBurst int
	// MaxClients bounds the addresses and tokens tracked (default 100,000 each).
	MaxClients int
	// MinLatency is the least time every page answer takes, so that the
	// time of an answer says nothing about the token (default 10ms;
	// negative: no floor).
	MinLatency time.Duration
	// CacheTTL is how long the reads behind a page are reused (default
	// 2s; negative: not at all). An appeal drops its account's entry.
	CacheTTL time.Duration
	// ClientIP returns the key a request is limited under (default: the
	// connection's address, IPv6 per /64). Behind a proxy, read its header.
	ClientIP func(r *http.Request) string
	Logger   *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "/self-service"
	}
	if c.PerIP <= 0 {
		c.PerIP = 2
	}
	if c.IPBurst <= 0 {
		c.IPBurst = 10
	}
	if c.PerToken <= 0 {
		c.PerToken = 0.2
	}
	if c.TokenBurst <= 0 {
		c.TokenBurst = 5
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 100_000
	}
	if c.MinLatency == 0 {
		c.MinLatency = 10 * time.Millisecond
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 2 * time.Second
	}
	if c.ClientIP == nil {
		c.ClientIP = clientlimit.RemoteHost
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Handler serves the self-service pages.
type Handler struct {
	cfg       Config
	tokens    *Tokens
	incidents IncidentFinder
	facts     Facts
	appeals   *Appeals // nil: no "This was me" form
	tmpl      *template.Template
	mux       *http.ServeMux
	byIP      *clientlimit.Limiter
	byToken   *clientlimit.Limiter
	cache     *cache
}

// NewHandler returns the handler; appeals may be nil (no appeal form).
func NewHandler(cfg Config, tokens *Tokens, incidents IncidentFinder, facts Facts, appeals *Appeals) (*Handler, error) {
	if tokens == nil || incidents == nil || facts == nil {
		return nil, fmt.Errorf("selfservice: tokens, incidents and facts are required")
	}
	if appeals != nil {
		if err := appeals.Policy.Validate(); err != nil {
			return nil, err
		}
	}
	cfg = cfg.withDefaults()
	tmpl, err := template.ParseFS(htmlFS, "html/*.html")
	if err != nil {
		return nil, fmt.Errorf("selfservice: parse templates: %w", err)
	}
	h := &Handler{cfg: cfg, tokens: tokens, incidents: incidents, facts: facts, appeals: appeals, tmpl: tmpl,
		mux:     http.NewServeMux(),
		byIP:    clientlimit.New(cfg.PerIP, cfg.IPBurst, cfg.MaxClients),
		byToken: clientlimit.New(cfg.PerToken, cfg.TokenBurst, cfg.MaxClients),
		cache:   newCache(cfg.CacheTTL, cfg.MaxClients)}
	p := cfg.Prefix
	h.mux.HandleFunc("GET "+p+"/assets/style.css", h.handleStyle)
	h.mux.HandleFunc("GET "+p+"/{token}", h.handlePage)
	h.mux.HandleFunc("POST "+p+"/{token}", h.handleAppeal)
	h.mux.HandleFunc(p+"/", h.handleOther)
	return h, nil
}

// ServeHTTP sets the security headers, applies the per-address limit and
// serves the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	hd.Set("Cache-Control", "no-store")
	if ok, retry := h.byIP.Allow(h.cfg.ClientIP(r), time.Now()); !ok {
		tooMany(w, retry)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// tooMany is the fixed, cheap answer to a client over its limit.
func tooMany(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprintln(w, "Too many requests. Please wait a moment and try again.")
}

// tokenKey is what a token is limited under: a digest, so that the
// limiter holds no credential.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:12])
}

func (h *Handler) handleStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleCSS)
}

// handleOther answers every other path under the prefix with the page for
// an invalid link.
func (h *Handler) handleOther(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v := h.lookup(r.Context(), "")
	h.write(w, r, start, http.StatusOK, v)
}

func (h *Handler) handlePage(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	token := r.PathValue("token")
	if ok, retry := h.byToken.Allow(tokenKey(token), time.Now()); !ok {
		tooMany(w, retry)
		return
	}
	h.write(w, r, start, http.StatusOK, h.lookup(r.Context(), token))
}

// write renders v and sends it no earlier than start + MinLatency.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, start time.Time, status int, v *view) {
	v.Prefix = h.cfg.Prefix
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, "page", v); err != nil {
		h.cfg.Logger.Error("self-service page failed to render", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("Something went wrong. Please try again later.\n")
	}
	if wait := h.cfg.MinLatency - time.Since(start); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pathOf is the page's own path, for the form.
func (h *Handler) pathOf(token string) string { return h.cfg.Prefix + "/" + token }
