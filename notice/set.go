package notice

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"firebreak"
)

//go:embed templates
var embedded embed.FS

// Embedded returns the default templates, rooted at the locale directories.
func Embedded() fs.FS {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		panic(err) // the directory is compiled in
	}
	return sub
}

// FallbackLocale is the locale every tier and channel must have a template in.
const FallbackLocale = "en"

// MaxTemplateFile is the largest template file Load reads, in bytes.
const MaxTemplateFile = 64 << 10

// Set is a loaded, linted set of templates. It is safe for concurrent use.
type Set struct {
	cfg       LintConfig
	templates map[setKey]*Template
	list      []*Template
}

type setKey struct {
	locale  string
	channel firebreak.Channel
	kind    firebreak.IncidentKind
	tier    firebreak.Tier
}

// LintError is a template set refused by the linter.
type LintError struct {
	Problems []Problem
}

// Error lists the first problems and how many there are.
func (e *LintError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "notice templates refused: %d problem(s)", len(e.Problems))
	for i, p := range e.Problems {
		if i == 10 {
			b.WriteString("; ...")
			break
		}
		b.WriteString("; " + p.String())
	}
	return b.String()
}

// Load reads templates from layers, later layers replacing files of the
// same path in earlier ones (Load(cfg, Embedded(), os.DirFS(dir)) lets
// operators override or add templates), parses every template and lints it.
// A set with any problem is refused with a *LintError; a file that does not
// parse is refused with a *firebreak.FieldError naming it. The fallback
// locale must hold a template for every tier on every channel.
//
// Layout of a layer:
//
//	<locale>/common.txt                      shared {{define}} blocks (optional)
//	<locale>/<channel>/<tier|any>.txt        body; email also {{define "subject"}}
//	<locale>/<channel>/<tier|any>.html       email only: the HTML body
//	<locale>/<channel>/<kind>/<tier|any>.txt a kind's own wording (and .html)
func Load(cfg LintConfig, layers ...fs.FS) (*Set, error) {
	files, err := readLayers(layers)
	if err != nil {
		return nil, err
	}
	s := &Set{cfg: cfg, templates: map[setKey]*Template{}}
	var problems []Problem
	for _, src := range sources(files) {
		t, err := Parse(src)
		if err != nil {
			return nil, err
		}
		t.maxLen = cfg.maxLen(t.Channel)
		problems = append(problems, Lint(t, cfg)...)
		s.templates[setKey{t.Locale, t.Channel, t.Kind, t.Tier}] = t
		s.list = append(s.list, t)
	}
	problems = append(problems, s.coverage()...)
	if len(problems) > 0 {
		return nil, &LintError{Problems: dedup(problems)}
	}
	return s, nil
}

// readLayers returns the .txt and .html files of every layer by path.
func readLayers(layers []fs.FS) (map[string]string, error) {
	files := map[string]string{}
	for _, fsys := range layers {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (path.Ext(p) != ".txt" && path.Ext(p) != ".html") {
				return err
			}
			if info, err := d.Info(); err != nil {
				return err
			} else if info.Size() > MaxTemplateFile {
				return &firebreak.FieldError{Field: p, Reason: fmt.Sprintf("larger than %d bytes", MaxTemplateFile)}
			}
			b, err := fs.ReadFile(fsys, p)
			files[p] = string(b)
			return err
		})
		if err != nil {
			var fe *firebreak.FieldError
			if errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("read notice templates: %w", err)
		}
	}
	return files, nil
}

// sources groups files into template sources, in path order.
func sources(files map[string]string) []Source {
	var out []Source
	for p, text := range files {
		if path.Ext(p) != ".txt" || path.Base(p) == "common.txt" && strings.Count(p, "/") == 1 {
			continue
		}
		base := strings.TrimSuffix(p, ".txt")
		locale, _, _ := strings.Cut(p, "/")
		out = append(out, Source{Path: base, Text: text, HTML: files[base+".html"], Common: files[locale+"/common.txt"]})
	}
	for p := range files {
		if base := strings.TrimSuffix(p, ".html"); path.Ext(p) == ".html" {
			if _, ok := files[base+".txt"]; !ok {
				// Parse reports it: an HTML part needs its text part.
				out = append(out, Source{Path: base, HTML: files[p]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// coverage checks that the fallback locale serves every tier on every channel.
func (s *Set) coverage() []Problem {
	var out []Problem
	for _, ch := range firebreak.Channels {
		for _, tier := range firebreak.Tiers {
			if s.find(FallbackLocale, ch, "", tier) == nil {
				out = append(out, Problem{Template: FallbackLocale + "/" + string(ch) + "/" + string(tier), Rule: RuleCoverage,
					Reason: fmt.Sprintf("no template for tier %s on %s in the fallback locale %s (add %s.txt or %s.txt)", tier, ch, FallbackLocale, tier, AnyTier)})
			}
		}
	}
	return out
}

func dedup(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Templates returns every template of the set, by path.
func (s *Set) Templates() []*Template { return slices.Clone(s.list) }

// Lookup returns the template for an incident kind, tier, channel and
// locale: the kind's own template before the one for every kind, the tier's
// before any.txt, and the locale before its language ("de" for "de-AT")
// before the fallback locale. Unknown kinds, tiers, channels and malformed
// locales are EINVALID.
func (s *Set) Lookup(kind firebreak.IncidentKind, tier firebreak.Tier, ch firebreak.Channel, locale string) (*Template, error) {
	switch {
	case !slices.Contains(firebreak.IncidentKinds, kind):
		return nil, &firebreak.FieldError{Field: "kind", Reason: "must be one of " + join(firebreak.IncidentKinds)}
	case !slices.Contains(firebreak.Tiers, tier):
		return nil, &firebreak.FieldError{Field: "tier", Reason: "must be one of " + join(firebreak.Tiers)}
	case !slices.Contains(firebreak.Channels, ch):
		return nil, &firebreak.FieldError{Field: "channel", Reason: "must be one of " + join(firebreak.Channels)}
	case locale != "" && !validLocale(locale):
		return nil, &firebreak.FieldError{Field: "locale", Reason: "must be a language tag such as en or pt-BR"}
	}
	for _, loc := range fallbacks(locale) {
		if t := s.find(loc, ch, kind, tier); t != nil {
			return t, nil
		}
	}
	return nil, firebreak.Errorf(firebreak.ENOTFOUND, "No notice template for %s, tier %s, on %s.", kind, tier, ch)
}

func (s *Set) find(locale string, ch firebreak.Channel, kind firebreak.IncidentKind, tier firebreak.Tier) *Template {
	for _, k := range []firebreak.IncidentKind{kind, ""} {
		for _, t := range []firebreak.Tier{tier, ""} {
			if tm := s.templates[setKey{locale, ch, k, t}]; tm != nil {
				return tm
			}
		}
		if kind == "" {
			break
		}
	}
	return nil
}

// fallbacks returns the locales to try, most specific first.
func fallbacks(locale string) []string {
	out := make([]string, 0, 3)
	for l := locale; l != ""; {
		out = append(out, l)
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	if lower := strings.ToLower(locale); lower != locale && lower != "" {
		out = append(out, strings.Split(lower, "-")[0])
	}
	return append(out, FallbackLocale)
}

// Render renders the notice for one person: the preview the dashboard shows
// with an incident's real data, and the convenient path for single notices.
// For many notices, Lookup once and call Template.Execute per person.
func (s *Set) Render(kind firebreak.IncidentKind, tier firebreak.Tier, ch firebreak.Channel, locale string, d *Data) (Message, error) {
	t, err := s.Lookup(kind, tier, ch, locale)
	if err != nil {
		return Message{}, err
	}
	if d.Tier != tier || d.Incident.Kind != kind {
		return Message{}, &firebreak.FieldError{Field: "data", Reason: fmt.Sprintf("data is for %s, tier %s; rendering %s, tier %s", d.Incident.Kind, d.Tier, kind, tier)}
	}
	return t.Execute(d)
}
