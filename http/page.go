package http

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	nethttp "net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"firebreak"
	"firebreak/auth"
)

var (
	//go:embed html/*.html
	htmlFS embed.FS
	//go:embed assets
	assetsFS embed.FS
)

// riskyLimit is how many high-risk logins the page lists.
const riskyLimit = 25

// page holds the parsed templates and the static assets under their
// content-hashed names, all prepared once at start.
type page struct {
	tmpl   *template.Template
	assets map[string]asset  // by hashed file name
	urls   map[string]string // file name → hashed URL
}

type asset struct {
	data        []byte
	contentType string
}

func newPage() (*page, error) {
	p := &page{assets: make(map[string]asset), urls: make(map[string]string)}
	err := fs.WalkDir(assetsFS, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assetsFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		base, ext := path.Base(name), path.Ext(name)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		p.assets[hashed] = asset{data: data, contentType: mime.TypeByExtension(ext)}
		p.urls[base] = "/assets/" + hashed
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("load assets: %w", err)
	}
	p.tmpl, err = template.New("").Funcs(template.FuncMap{
		"asset":       p.assetURL,
		"count":       count,
		"pct":         func(v float64) string { return fmt.Sprintf("%.2f%%", v*100) },
		"score":       func(v float64) string { return fmt.Sprintf("%.2f", v) },
		"clock":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"source":      thresholdSourceHelp,
		"label":       func(v any) string { return label(fmt.Sprint(v)) },
		"incidentURL": incidentURL,
		"accountURL":  accountURL,
		"frame":       frame,
	}).ParseFS(htmlFS, "html/*.html")
	if err != nil {
		return p, fmt.Errorf("parse templates: %w", err)
	}
	return p, nil
}

func (p *page) assetURL(name string) (string, error) {
	u, ok := p.urls[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return u, nil
}

// count formats an integer with thousands separators, as the page's
// script does.
func count(v any) string {
	var s string
	switch n := v.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	default:
		return fmt.Sprint(v)
	}
	start := 0
	if s[0] == '-' {
		start = 1
	}
	var b strings.Builder
	for i, c := range s {
		if i > start && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// thresholdSourceHelp explains where the thresholds in force come from.
func thresholdSourceHelp(source string) string {
	switch source {
	case "budget":
		return "derived from the observed scores to keep within the challenge budget"
	case "fixed":
		return "fixed in the policy"
	case "warmup":
		return "warming up: not enough scores seen yet, every login is allowed"
	}
	return "unknown"
}

// layout is what the frame of every page shows: who is signed in, and the
// CSRF token that the page's forms and scripts send back. Page data embeds
// it and renderStatus fills it in.
type layout struct {
	Operator string         // the principal as the timeline records it; empty for nobody
	Role     firebreak.Role //
	CSRF     string         // the session's CSRF token; empty for bearer tokens
	// Overdue are status page threads whose promised next update is late:
	// every page reminds the operators until someone publishes.
	Overdue []firebreak.StatusUpdate
}

func (l *layout) setLayout(v layout) { *l = v }
func (l *layout) getLayout() layout  { return *l }

// layoutSetter is page data that embeds layout.
type layoutSetter interface {
	setLayout(layout)
	getLayout() layout
}

// layoutFor returns the layout of r's principal.
func layoutFor(r *nethttp.Request) layout {
	p := auth.FromContext(r.Context())
	if p == nil {
		return layout{}
	}
	l := layout{Operator: p.Actor(), Role: p.Role}
	if p.Session != nil {
		l.CSRF = p.Session.CSRFToken
	}
	return l
}

// frameData is what the head and nav templates render: a title or the
// current section, and the layout.
type frameData struct {
	Name   string
	Layout layout
}

// frame pairs a name with the layout of a page's data, for
// {{template "head" (frame "Title" .)}}.
func frame(name string, data any) frameData {
	f := frameData{Name: name}
	if l, ok := data.(layoutSetter); ok {
		f.Layout = l.getLayout()
	}
	return f
}

// pageData is what index.html renders.
type pageData struct {
	layout
	Stats      firebreak.EngineStats
	Decisions  []decisionCount
	MeterMax   float64 // twice the budget (so over-spending shows), or 1 when there is none
	MeterHigh  float64 // the budget: beyond it the meter turns to a warning
	Risky      []*firebreak.ScoredLogin
	RiskyError string
	// OpenIncidents is the incident card; nil without an incident service.
	OpenIncidents *openIncidents
}

type decisionCount struct {
	Name  string
	Count int64
}

func (s *Server) handleIndex(w nethttp.ResponseWriter, r *nethttp.Request) {
	st := s.cfg.Ingest.Stats()
	data := &pageData{Stats: st, MeterMax: 2 * st.Budget, MeterHigh: st.Budget}
	if data.MeterMax <= 0 {
		data.MeterMax, data.MeterHigh = 1, 1
	}
	for _, d := range []string{"allow", "challenge", "deny"} {
		data.Decisions = append(data.Decisions, decisionCount{d, st.Decisions[d]})
	}
	risky, err := s.findRisky(r)
	if err != nil {
		s.logger.Error("demo page: find risky logins", "err", err)
		data.RiskyError = firebreak.ErrorMessage(err)
	}
	data.Risky = risky
	data.OpenIncidents = s.countOpenIncidents(r.Context())
	s.render(w, r, "index.html", data)
}

// handleRiskyPartial renders the rows of the high-risk logins table, which
// the page fetches to refresh itself.
func (s *Server) handleRiskyPartial(w nethttp.ResponseWriter, r *nethttp.Request) {
	risky, err := s.findRisky(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.render(w, r, "risky", risky)
}

func (s *Server) findRisky(r *nethttp.Request) ([]*firebreak.ScoredLogin, error) {
	return s.cfg.Logins.FindScored(r.Context(), firebreak.LoginFilter{MinDecision: firebreak.Challenge, Limit: riskyLimit})
}

// render renders a template with status 200; see renderStatus.
func (s *Server) render(w nethttp.ResponseWriter, r *nethttp.Request, name string, data any) {
	s.renderStatus(w, r, nethttp.StatusOK, name, data)
}

// renderStatus executes a template into a buffer first, so that a template
// error becomes a clean 500 instead of half a page.
func (s *Server) renderStatus(w nethttp.ResponseWriter, r *nethttp.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if l, ok := data.(layoutSetter); ok {
		lay := layoutFor(r)
		if lay.Operator != "" && s.cfg.Status != nil {
			// A failed read only loses the reminder, never the page.
			if late, err := s.cfg.Status.Overdue(r.Context(), s.cfg.Now()); err == nil {
				lay.Overdue = late
			}
		}
		l.setLayout(lay)
	}
	if s.page.tmpl == nil {
		s.writeError(w, r, fmt.Errorf("render %s: templates failed to parse", name))
		return
	}
	if err := s.page.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.writeError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// handleAsset serves a static file by its content-hashed name. The name
// changes whenever the content does, so it may be cached for a year.
func (s *Server) handleAsset(w nethttp.ResponseWriter, r *nethttp.Request) {
	a, ok := s.page.assets[r.PathValue("file")]
	if !ok {
		s.writeError(w, r, firebreak.Errorf(firebreak.ENOTFOUND, "No such asset."))
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(a.data)
}
