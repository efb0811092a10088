// Package notice renders the notices Firebreak sends to affected people and
// operators: templates per incident kind, tier, channel and locale, a linter
// that refuses unsafe or incomplete templates, and fast rendering for
// campaigns of a million notices. See docs/notices.md.
package notice

import (
	"bytes"
	"fmt"
	htmpl "html/template"
	"io"
	"slices"
	"strings"
	"sync"
	ttmpl "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"firebreak"
)

// AnyTier names the file of a template that serves every tier ("any.txt").
const AnyTier = "any"

// Source is the text of one template before parsing.
type Source struct {
	// Path is "<locale>/<channel>/<tier>" or "<locale>/<channel>/<kind>/<tier>",
	// without extension; tier may be "any".
	Path   string
	Text   string // the .txt file: the body, and for email {{define "subject"}}
	HTML   string // the .html file; email only, where it is required
	Common string // the locale's common.txt: shared {{define}} blocks; may be empty
}

// Template is one parsed template: the subject, text and HTML parts for one
// locale, channel, tier and (optionally) incident kind. It is safe for
// concurrent use.
type Template struct {
	Path    string                 // "en/email/compromised", as loaded
	Locale  string                 // "en"
	Channel firebreak.Channel      // email, sms, ...
	Kind    firebreak.IncidentKind // "" serves every kind
	Tier    firebreak.Tier         // "" serves every tier (any.txt)

	maxLen  int // runes of the text part; 0: no limit
	subject *ttmpl.Template
	text    *ttmpl.Template
	html    *htmpl.Template
	parts   []part // unexecuted parse trees, for the linter
	files   map[string]string
}

// part is one output of a template, as the linter sees it.
type part struct {
	name  string // subject, text or html
	root  string // the tree that starts it
	trees map[string]*parse.Tree
	html  bool
}

// Message is one rendered notice.
type Message struct {
	Template string // the logical template name, e.g. "email/compromised" (see Name)
	Locale   string // the locale of the template that rendered it
	Subject  string // email only
	Text     string
	HTML     string // email only
}

// Name returns the logical template name of a tier on a channel,
// "channel/tier": the Template of a firebreak.Notice and part of its
// deduplication key, the same in every locale and for every kind.
func Name(channel firebreak.Channel, tier firebreak.Tier) string {
	return string(channel) + "/" + string(tier)
}

// funcs are the functions templates may call besides the built-in ones.
// Times are shown in UTC with the zone written out, so that nobody has to
// guess.
var funcs = map[string]any{
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}

// builtins are the predefined functions of text/template that templates
// may call; the parser refuses the others. printf (whose widths can
// allocate without bound) and call are left out.
var builtins = map[string]any{}

func init() {
	for _, n := range []string{"and", "html", "index", "slice", "js", "len", "not",
		"or", "print", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		builtins[n] = true
	}
}

// Parse parses one template without linting it. The error names the file
// and line of a syntax error, or the part that is missing.
func Parse(src Source) (*Template, error) {
	t, err := templateAt(src.Path)
	if err != nil {
		return nil, err
	}
	t.files = map[string]string{src.Path + ".txt": src.Text}
	common := map[string]*parse.Tree{}
	if src.Common != "" {
		commonFile := t.Locale + "/common.txt"
		t.files[commonFile] = src.Common
		if common, err = parseFile(commonFile, src.Common); err != nil {
			return nil, err
		}
	}
	if err := t.parseText(src, common); err != nil {
		return nil, err
	}
	if t.Channel == firebreak.ChannelEmail {
		if src.HTML == "" {
			return nil, &firebreak.FieldError{Field: src.Path + ".html", Reason: "email templates need an HTML part"}
		}
		t.files[src.Path+".html"] = src.HTML
		if err := t.parseHTML(src); err != nil {
			return nil, err
		}
	} else if src.HTML != "" {
		return nil, &firebreak.FieldError{Field: src.Path + ".html", Reason: "only email templates have an HTML part"}
	}
	for _, p := range t.parts {
		if err := bounded(p); err != nil {
			return nil, &firebreak.FieldError{Field: p.root, Reason: err.Error()}
		}
	}
	return t, nil
}

// templateAt reads locale, channel, kind and tier from a template's path.
func templateAt(path string) (*Template, error) {
	bad := func(reason string) error {
		return &firebreak.FieldError{Field: path, Reason: reason}
	}
	seg := strings.Split(path, "/")
	if len(seg) != 3 && len(seg) != 4 {
		return nil, bad("path must be <locale>/<channel>/<tier> or <locale>/<channel>/<kind>/<tier>")
	}
	t := &Template{Path: path, Locale: seg[0], Channel: firebreak.Channel(seg[1]), maxLen: DefaultMaxLen[firebreak.Channel(seg[1])]}
	if !validLocale(t.Locale) {
		return nil, bad("locale " + fmt.Sprintf("%q", t.Locale) + " is not a language tag such as en or pt-BR")
	}
	if !slices.Contains(firebreak.Channels, t.Channel) {
		return nil, bad("channel " + fmt.Sprintf("%q", seg[1]) + " must be one of " + join(firebreak.Channels))
	}
	if len(seg) == 4 {
		t.Kind = firebreak.IncidentKind(seg[2])
		if !slices.Contains(firebreak.IncidentKinds, t.Kind) {
			return nil, bad("kind " + fmt.Sprintf("%q", seg[2]) + " must be one of " + join(firebreak.IncidentKinds))
		}
	}
	if tier := seg[len(seg)-1]; tier != AnyTier {
		t.Tier = firebreak.Tier(tier)
		if !slices.Contains(firebreak.Tiers, t.Tier) {
			return nil, bad("tier " + fmt.Sprintf("%q", tier) + " must be " + AnyTier + " or one of " + join(firebreak.Tiers))
		}
	}
	return t, nil
}

// parseFile parses one file into its trees, keeping comments (they mark
// sections). The root tree is named after the file.
func parseFile(name, text string) (map[string]*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	tr := parse.New(name)
	tr.Mode = parse.ParseComments
	if _, err := tr.Parse(text, "", "", trees, funcs, builtins); err != nil {
		return nil, &firebreak.FieldError{Field: name, Reason: err.Error()}
	}
	if _, ok := trees[name]; !ok {
		// An empty file (or one with only defines) still has a root.
		trees[name] = &parse.Tree{Name: name, ParseName: name, Root: &parse.ListNode{NodeType: parse.NodeList}}
	}
	return trees, nil
}

// merge returns the common trees overlaid by a file's own.
func merge(common, own map[string]*parse.Tree) map[string]*parse.Tree {
	all := make(map[string]*parse.Tree, len(common)+len(own))
	for n, tr := range common {
		all[n] = tr.Copy()
	}
	for n, tr := range own {
		all[n] = tr
	}
	return all
}

func (t *Template) parseText(src Source, common map[string]*parse.Tree) error {
	name := src.Path + ".txt"
	own, err := parseFile(name, src.Text)
	if err != nil {
		return err
	}
	_, hasSubject := own["subject"]
	switch {
	case t.Channel == firebreak.ChannelEmail && !hasSubject:
		return &firebreak.FieldError{Field: name, Reason: `email templates define a subject: {{define "subject"}}...{{end}}`}
	case t.Channel != firebreak.ChannelEmail && hasSubject:
		return &firebreak.FieldError{Field: name, Reason: "only email templates have a subject"}
	}
	trees := merge(common, own)
	t.text = ttmpl.New(name).Funcs(funcs).Option("missingkey=error")
	for n, tr := range trees {
		if _, err := t.text.AddParseTree(n, tr); err != nil {
			return &firebreak.FieldError{Field: name, Reason: err.Error()}
		}
	}
	t.parts = append(t.parts, part{name: "text", root: name, trees: trees})
	if hasSubject {
		t.subject = t.text.Lookup("subject")
		t.parts = append(t.parts, part{name: "subject", root: "subject", trees: trees})
	}
	return nil
}

// parseHTML parses the HTML part twice: html/template rewrites the trees it
// escapes, so the linter keeps its own copy.
func (t *Template) parseHTML(src Source) error {
	name := src.Path + ".html"
	var trees map[string]*parse.Tree
	t.html = htmpl.New(name).Funcs(funcs).Option("missingkey=error")
	for i := range 2 {
		common := map[string]*parse.Tree{}
		if src.Common != "" {
			common, _ = parseFile(t.Locale+"/common.txt", src.Common) // parsed fine above
		}
		own, err := parseFile(name, src.HTML)
		if err != nil {
			return err
		}
		trees = merge(common, own)
		if i == 1 {
			break
		}
		for n, tr := range trees {
			if _, err := t.html.AddParseTree(n, tr); err != nil {
				return &firebreak.FieldError{Field: name, Reason: err.Error()}
			}
		}
		// html/template's AddParseTree makes a new template for the root
		// name; execute that one.
		t.html = t.html.Lookup(name)
	}
	t.parts = append(t.parts, part{name: "html", root: name, trees: trees, html: true})
	return nil
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Execute renders the template for one person. Unknown fields, a failing
// function and a text longer than the channel allows are errors; nothing is
// truncated.
func (t *Template) Execute(d *Data) (Message, error) {
	m := Message{Template: Name(t.Channel, d.Tier), Locale: t.Locale}
	if err := d.Validate(); err != nil {
		return m, err
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(buf)
	var err error
	if m.Text, err = execute(buf, t.text, d); err != nil {
		return m, err
	}
	if n := utf8.RuneCountInString(m.Text); t.maxLen > 0 && n > t.maxLen {
		return m, firebreak.Errorf(firebreak.ETOOLARGE, "%s: the text is %d characters; %s allows %d", t.Path, n, t.Channel, t.maxLen)
	}
	if t.subject != nil {
		if m.Subject, err = execute(buf, t.subject, d); err != nil {
			return m, err
		}
		m.Subject = strings.Join(strings.Fields(m.Subject), " ") // one header line
	}
	if t.html != nil {
		if m.HTML, err = execute(buf, t.html, d); err != nil {
			return m, err
		}
	}
	return m, nil
}

// executor is what text/template and html/template templates share.
type executor interface {
	Execute(w io.Writer, data any) error
}

func execute(buf *bytes.Buffer, tmpl executor, d *Data) (string, error) {
	buf.Reset()
	if err := tmpl.Execute(&limitWriter{buf: buf, max: firebreak.MaxNoticeBody}, d); err != nil {
		return "", firebreak.Errorf(firebreak.EINVALID, "render: %v", err)
	}
	return buf.String(), nil
}

func validLocale(s string) bool {
	if len(s) < 2 || len(s) > firebreak.MaxLocaleLen {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if len(sub) == 0 || len(sub) > 8 || (i == 0 && (len(sub) < 2 || len(sub) > 3)) {
			return false
		}
		for _, r := range sub {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

func join[T ~string](set []T) string {
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
