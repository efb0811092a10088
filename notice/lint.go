package notice

import (
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"firebreak"
)

// Sections every notice body must hold, each marked in the template with a
// comment such as {{/* section: what_happened */}}. A section runs from its
// marker to the next marker or the end of the template or block it is in.
const (
	SectionWhatHappened = "what_happened" // what happened, in plain words
	SectionWhatToDo     = "what_to_do"    // what the person should do
	SectionNextUpdate   = "next_update"   // when the next update comes; must use .NextUpdate
)

// Sections lists the required sections in the order a notice usually has them.
var Sections = []string{SectionWhatHappened, SectionWhatToDo, SectionNextUpdate}

// DefaultMaxLen is the longest text, in characters, each channel takes:
// three SMS segments, a chat or Slack message that fits on a phone screen
// without "show more", a short in-app card, and a generous email.
var DefaultMaxLen = map[firebreak.Channel]int{
	firebreak.ChannelSMS:   480,
	firebreak.ChannelChat:  1500,
	firebreak.ChannelSlack: 3000,
	firebreak.ChannelInApp: 1500,
	firebreak.ChannelEmail: 20000,
}

// MaxSubjectLen is the longest email subject, in characters, the linter accepts.
const MaxSubjectLen = 150

// LintConfig says what the linter accepts.
type LintConfig struct {
	// AllowedHosts are the hosts links may point to, exact ("status.example.com")
	// or with their subdomains ("*.example.com"). Empty: no links at all.
	AllowedHosts []string
	// MaxLen overrides DefaultMaxLen per channel.
	MaxLen map[firebreak.Channel]int
	// Sample is the data the linter renders each template with; its
	// StatusURL must be on an allowed host. Nil: SampleData("Example Corp",
	// "https://status.example.com/").
	Sample *Data
}

func (cfg *LintConfig) maxLen(ch firebreak.Channel) int {
	if n, ok := cfg.MaxLen[ch]; ok {
		return n
	}
	return DefaultMaxLen[ch]
}

func (cfg *LintConfig) sample() *Data {
	if cfg.Sample != nil {
		return cfg.Sample
	}
	return SampleData("Example Corp", "https://status.example.com/")
}

// Rules of the linter, as named in a Problem.
const (
	RuleSection    = "section"    // a required section is missing, empty or conditional
	RuleField      = "field"      // a field, method or template the data does not have
	RuleLink       = "link"       // a link to a host outside the allow-list, or a script link
	RuleLoginLink  = "login-link" // a link to sign in, reset or verify anything
	RuleCredential = "credential" // something that looks like a password, token or one-time code
	RuleLength     = "length"     // longer than the channel takes
	RuleRender     = "render"     // the sample data does not render
	RuleCoverage   = "coverage"   // no template for a tier and channel in the fallback locale
)

// Problem is one reason a template is refused.
type Problem struct {
	Template string `json:"template"` // the file, e.g. "en/email/compromised.txt"
	Line     int    `json:"line"`     // 1-based; 0 when the whole template is meant
	// Rendered says the line is in the output rendered with the sample
	// data, not in the template's source.
	Rendered bool   `json:"rendered,omitempty"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
}

// String formats the problem as "file:line: rule: reason".
func (p Problem) String() string {
	where := p.Template
	if p.Line > 0 {
		where += ":" + strconv.Itoa(p.Line)
	}
	if p.Rendered {
		where += " (rendered)"
	}
	return where + ": " + p.Rule + ": " + p.Reason
}

// Lint checks a template against every rule and returns its problems; none
// means it may be used. Lint never panics on a template Parse accepted.
func Lint(t *Template, cfg LintConfig) []Problem {
	l := &linter{t: t, cfg: cfg, seen: map[Problem]bool{}}
	for _, p := range t.parts {
		checkFields(p, l.atNode(RuleField))
		if p.name != "subject" {
			l.sections(p)
		}
		l.source(p)
	}
	l.rendered()
	return l.problems
}

type linter struct {
	t        *Template
	cfg      LintConfig
	problems []Problem
	seen     map[Problem]bool
}

func (l *linter) add(p Problem) {
	if !l.seen[p] {
		l.seen[p] = true
		l.problems = append(l.problems, p)
	}
}

// atNode returns a reporter that places a problem at a parse node.
func (l *linter) atNode(rule string) func(tr *parse.Tree, n parse.Node, reason string) {
	return func(tr *parse.Tree, n parse.Node, reason string) {
		file, line := l.position(tr, n.Position())
		l.add(Problem{Template: file, Line: line, Rule: rule, Reason: reason})
	}
}

// position turns a byte offset in the file a tree was parsed from into a line.
func (l *linter) position(tr *parse.Tree, pos parse.Pos) (string, int) {
	src, ok := l.t.files[tr.ParseName]
	if !ok || int(pos) > len(src) || pos < 0 {
		return tr.ParseName, 0
	}
	return tr.ParseName, 1 + strings.Count(src[:pos], "\n")
}

// source scans the literal text and strings of every tree of a part, the
// blocks it does not call included.
func (l *linter) source(p part) {
	names := make([]string, 0, len(p.trees))
	for n := range p.trees {
		names = append(names, n)
	}
	slices.Sort(names) // problems in a stable order
	for _, name := range names {
		tr := p.trees[name]
		walk(tr.Root, func(n parse.Node) {
			var text string
			switch n := n.(type) {
			case *parse.TextNode:
				text = string(n.Text)
			case *parse.StringNode:
				text = n.Text
			default:
				return
			}
			if p.html {
				text = html.UnescapeString(text) // entities never hold a newline
			}
			file, line := l.position(tr, n.Position())
			for _, f := range scan(text, l.cfg.AllowedHosts) {
				l.add(Problem{Template: file, Line: line + f.line - 1, Rule: f.rule, Reason: f.reason})
			}
		})
	}
}

// rendered renders the sample and a long sample and checks the output.
func (l *linter) rendered() {
	sample := l.cfg.sample()
	t := *l.t
	t.maxLen = 0 // the length rule below reports it with a line
	m, err := t.Execute(sample)
	if err != nil {
		l.add(Problem{Template: t.Path, Rule: RuleRender, Reason: "the sample data does not render: " + firebreak.ErrorMessage(err)})
		return
	}
	for _, out := range []struct {
		file, text string
		html       bool
	}{{t.Path + ".txt", m.Subject, false}, {t.Path + ".txt", m.Text, false}, {t.Path + ".html", m.HTML, true}} {
		text := out.text
		if out.html {
			text = html.UnescapeString(text)
		}
		for _, f := range append(linkTexts(text, out.html), scan(text, l.cfg.AllowedHosts)...) {
			l.add(Problem{Template: out.file, Line: f.line, Rendered: true, Rule: f.rule, Reason: f.reason})
		}
	}
	l.length(&t)
}

func (l *linter) length(t *Template) {
	m, err := t.Execute(longSample(l.cfg.sample()))
	if err != nil {
		return // reported above
	}
	max := l.cfg.maxLen(t.Channel)
	if n := utf8.RuneCountInString(m.Text); max > 0 && n > max {
		l.add(Problem{Template: t.Path + ".txt", Rendered: true, Rule: RuleLength,
			Reason: fmt.Sprintf("%d characters with the longest title, account and organisation name; %s takes at most %d", n, t.Channel, max)})
	}
	if n := utf8.RuneCountInString(m.Subject); n > MaxSubjectLen {
		l.add(Problem{Template: t.Path + ".txt", Rendered: true, Rule: RuleLength,
			Reason: fmt.Sprintf("the subject is %d characters with the longest values; at most %d", n, MaxSubjectLen)})
	}
}

// walk calls fn on n and every node below it (not following {{template}}).
func walk(n parse.Node, fn func(parse.Node)) {
	if n == nil || (isNilNode(n)) {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			walk(c, fn)
		}
	case *parse.ChainNode:
		walk(n.Node, fn)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	walk(b.ElseList, fn)
}

// isNilNode catches typed nil pointers stored in a parse.Node.
func isNilNode(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		return n == nil
	case *parse.PipeNode:
		return n == nil
	}
	return false
}

// sectionFound is what the linter learnt about one section of a part.
type sectionFound struct {
	found, content, nextUpdate bool
}

// sections checks that a part holds every required section, at the top
// level (never inside if, with or range), with content, and that the
// next_update section says when, from .NextUpdate.
func (l *linter) sections(p part) {
	got := map[string]*sectionFound{}
	s := &sectionWalk{l: l, p: p, got: got, active: map[string]bool{}}
	cur := ""
	s.tree(p.root, 0, &cur)
	file := p.root
	for _, name := range Sections {
		f := got[name]
		switch {
		case f == nil:
			l.add(Problem{Template: file, Rule: RuleSection, Reason: "missing section " + name + ": mark it with {{/* section: " + name + " */}}"})
		case !f.content:
			l.add(Problem{Template: file, Rule: RuleSection, Reason: "section " + name + " is empty"})
		case name == SectionNextUpdate && !f.nextUpdate:
			l.add(Problem{Template: file, Rule: RuleSection, Reason: "section next_update must say when, using .NextUpdate"})
		}
	}
}

type sectionWalk struct {
	l      *linter
	p      part
	got    map[string]*sectionFound
	active map[string]bool // templates being walked, against recursion
}

func (s *sectionWalk) tree(name string, depth int, cur *string) {
	tr := s.p.trees[name]
	if tr == nil || s.active[name] {
		return
	}
	s.active[name] = true
	defer delete(s.active, name)
	s.list(tr, tr.Root, depth, cur)
}

func (s *sectionWalk) list(tr *parse.Tree, l *parse.ListNode, depth int, cur *string) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		s.node(tr, n, depth, cur)
	}
}

func (s *sectionWalk) node(tr *parse.Tree, n parse.Node, depth int, cur *string) {
	switch n := n.(type) {
	case *parse.CommentNode:
		s.marker(tr, n, depth, cur)
	case *parse.TextNode:
		if strings.TrimSpace(string(n.Text)) != "" {
			s.content(*cur, false)
		}
	case *parse.ActionNode:
		s.content(*cur, usesNextUpdate(n))
	case *parse.IfNode, *parse.WithNode, *parse.RangeNode:
		b := branchOf(n)
		s.content(*cur, usesNextUpdate(b.Pipe))
		inner := *cur // markers inside a branch are refused and do not leak out
		s.list(tr, b.List, depth+1, &inner)
		inner = *cur
		s.list(tr, b.ElseList, depth+1, &inner)
	case *parse.TemplateNode:
		s.content(*cur, usesNextUpdate(n))
		s.tree(n.Name, depth, cur)
	}
}

func (s *sectionWalk) marker(tr *parse.Tree, n *parse.CommentNode, depth int, cur *string) {
	text := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(n.Text, "/*"), "*/"))
	name, ok := strings.CutPrefix(text, "section:")
	if !ok {
		return
	}
	name = strings.TrimSpace(name)
	report := s.l.atNode(RuleSection)
	switch {
	case !slices.Contains(Sections, name):
		report(tr, n, fmt.Sprintf("unknown section %q; sections are %s", name, strings.Join(Sections, ", ")))
		return
	case depth > 0:
		report(tr, n, "section "+name+" is inside {{if}}, {{with}} or {{range}}: it might not render; mark it at the top level")
		return
	}
	*cur = name
	if s.got[name] == nil {
		s.got[name] = &sectionFound{}
	}
	s.got[name].found = true
}

func (s *sectionWalk) content(section string, nextUpdate bool) {
	if f := s.got[section]; f != nil {
		f.content = true
		f.nextUpdate = f.nextUpdate || nextUpdate
	}
}

func branchOf(n parse.Node) *parse.BranchNode {
	switch n := n.(type) {
	case *parse.IfNode:
		return &n.BranchNode
	case *parse.WithNode:
		return &n.BranchNode
	case *parse.RangeNode:
		return &n.BranchNode
	}
	return nil
}

// usesNextUpdate reports whether a node refers to a field named NextUpdate.
func usesNextUpdate(n parse.Node) bool {
	found := false
	walk(n, func(n parse.Node) {
		var idents []string
		switch n := n.(type) {
		case *parse.FieldNode:
			idents = n.Ident
		case *parse.VariableNode:
			idents = n.Ident
		case *parse.ChainNode:
			idents = n.Field
		}
		found = found || slices.Contains(idents, "NextUpdate")
	})
	return found
}
