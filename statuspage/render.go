package statuspage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

var (
	//go:embed html/*.html
	htmlFS embed.FS
	//go:embed assets/status.css
	css []byte
)

// templates are the parsed pages and the stylesheet's content-hashed URL.
type templates struct {
	t      *template.Template
	cssURL string
	cssTag string // the stylesheet's ETag
}

func parseTemplates(prefix string) (*templates, error) {
	sum := sha256.Sum256(css)
	hash := hex.EncodeToString(sum[:6])
	tp := &templates{cssURL: prefix + "/assets/status." + hash + ".css", cssTag: `"` + hash + `"`}
	var err error
	tp.t, err = template.New("").Funcs(template.FuncMap{
		"link":       func(p string) string { return prefix + p },
		"utc":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"relative":   relative,
		"paragraphs": paragraphs,
		"phase":      phaseLabel,
		"threadURL":  func(id int64) string { return prefix + threadPath(id) },
		"dict":       dict,
	}).ParseFS(htmlFS, "html/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	return tp, nil
}

// frame is what every page's head and foot show.
type frame struct {
	Site    string    // Config.Title
	Heading string    // this page's title
	CSS     string    // stylesheet URL
	Now     time.Time // when the page was rendered
}

// render executes the template name with data into an HTML page.
func (h *Handler) render(name string, data any) (*rendered, error) {
	var buf bytes.Buffer
	if err := h.tmpl.t.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return newRendered(buf.Bytes(), "text/html; charset=utf-8"), nil
}

func (h *Handler) frame(heading string, now time.Time) frame {
	return frame{Site: h.cfg.Title, Heading: heading, CSS: h.tmpl.cssURL, Now: now.UTC()}
}

// publicCache is the Cache-Control of public pages.
func (h *Handler) publicCache() string {
	return "public, max-age=" + strconv.Itoa(int(h.cfg.MaxAge.Seconds()))
}

// handleAsset serves the stylesheet under its content-hashed name.
func (h *Handler) handleAsset(w http.ResponseWriter, r *http.Request) {
	if h.path+"/assets/"+r.PathValue("file") != h.tmpl.cssURL {
		h.writeError(w, r, firebreak.Errorf(firebreak.ENOTFOUND, "No such file."))
		return
	}
	pg := &rendered{body: css, contentType: "text/css; charset=utf-8", etag: h.tmpl.cssTag}
	pg.write(w, r, http.StatusOK, "public, max-age=31536000, immutable")
}

// message is the data of message.html: a heading and a sentence, with an
// optional form that posts a token back.
type message struct {
	Frame  frame
	Text   string
	Action string // form action, e.g. "/confirm"; empty for no form
	Button string
	Token  string
}

// writeError renders an error page with the status its code maps to.
// Internal errors are logged and shown as a generic message.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := firebreak.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
		h.cfg.Logger.Error("status page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	data := message{Frame: h.frame(http.StatusText(status), h.cfg.Now()), Text: firebreak.ErrorMessage(err)}
	pg, rerr := h.render("message.html", data)
	if rerr != nil {
		h.cfg.Logger.Error("status page", "err", rerr)
		http.Error(w, http.StatusText(status), status)
		return
	}
	pg.write(w, r, status, "no-store")
}

// statusOf maps error codes to HTTP statuses; anything else is 500.
var statusOf = map[string]int{
	firebreak.EINVALID:        http.StatusBadRequest,
	firebreak.ENOTFOUND:       http.StatusNotFound,
	firebreak.ECONFLICT:       http.StatusConflict,
	firebreak.EFORBIDDEN:      http.StatusForbidden,
	firebreak.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	firebreak.ETOOMANYREQUEST: http.StatusTooManyRequests,
}

var blankLine = regexp.MustCompile(`\r?\n[ \t]*\r?\n`)

// paragraphs splits plain text at blank lines; the template escapes each.
func paragraphs(body string) []string {
	var out []string
	for _, p := range blankLine.Split(strings.TrimSpace(body), -1) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// relative says how far t is from now in words: "in 25 minutes",
// "3 hours ago".
func relative(now, t time.Time) string {
	d := t.Sub(now)
	if d >= 0 {
		return "in " + span(d)
	}
	return span(-d) + " ago"
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return count(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return count(h, "hour")
		}
		return count(h, "hour") + " " + count(m, "minute")
	}
	return count(int(d/(24*time.Hour)), "day")
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// phaseLabel is a phase as a heading shows it: "Investigating".
func phaseLabel(p firebreak.Phase) string {
	if p == "" {
		return ""
	}
	return strings.ToUpper(string(p[:1])) + string(p[1:])
}

// threadPath is the page of one thread: an incident's, or the general notices'.
func threadPath(id int64) string {
	if id == 0 {
		return "/notices"
	}
	return "/incidents/" + strconv.FormatInt(id, 10)
}

// dict builds a map from key, value pairs, to pass several values to a
// nested template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
