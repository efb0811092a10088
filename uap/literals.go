package uap

import (
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// A regular expression of uap-core can only match a user agent that contains
// certain literal text: "Firefox" for the Firefox rules, one of "bot",
// "crawl", "spider", ... for the crawler rules. requiredLiterals works that
// text out from the expression's syntax tree, so that Parse runs only the
// expressions whose literals occur in the user agent (a prefilter, as in
// RE2's FilteredRE2). The result is conservative: whenever the expression
// matches s, every group has a member that is a substring of norm(s). An
// expression it cannot analyse gets no groups and always runs.

// Limits that keep the analysis cheap and the groups selective.
const (
	maxExact      = 64 // strings in an exact set
	maxClassRunes = 8  // distinct runes of a character class turned into strings
)

// norm is the text both sides are compared in: ASCII lower case, and the two
// non-ASCII runes that case-fold to ASCII letters (U+212A KELVIN SIGN, U+017F
// LATIN SMALL LETTER LONG S) mapped to them. Other runes are kept.
func normRune(r rune) rune {
	switch {
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case r == '\u212a':
		return 'k'
	case r == '\u017f':
		return 's'
	}
	return r
}

// appendNorm appends norm(s) to dst and reports false if s is not valid
// UTF-8 (the regexp package reads bad bytes as U+FFFD; such input is not
// prefiltered).
func appendNorm(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return dst, false
		}
		dst = utf8.AppendRune(dst, normRune(r))
		i += size
	}
	return dst, true
}

// facts is what analysis knows about the strings a sub-expression matches:
// when exact is set, each match is one of set; every match contains a member
// of each group in need.
type facts struct {
	exact bool
	set   []string
	need  [][]string
}

var unknown = facts{}

// requiredLiterals returns the literal groups of expr (Perl syntax, as the
// regexp package compiles it); nil when nothing is known.
func requiredLiterals(expr string) [][]string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	f := analyse(re)
	return f.groups()
}

// groups returns need plus the exact set, without vacuous groups.
func (f facts) groups() [][]string {
	g := f.need
	if f.exact {
		g = append(slices.Clip(g), f.set)
	}
	var out [][]string
	for _, grp := range g {
		if !slices.Contains(grp, "") {
			out = append(out, dedupe(grp))
		}
	}
	return out
}

func analyse(re *syntax.Regexp) facts {
	switch re.Op {
	case syntax.OpNoMatch:
		return facts{exact: true, set: []string{}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return facts{exact: true, set: []string{""}}
	case syntax.OpLiteral:
		return literal(re)
	case syntax.OpCharClass:
		return class(re)
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		return optional(analyse(re.Sub[0]))
	case syntax.OpPlus:
		return facts{need: analyse(re.Sub[0]).groups()}
	case syntax.OpRepeat:
		return repeat(re)
	case syntax.OpConcat:
		return concat(re.Sub)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	}
	return unknown // OpAnyChar, OpAnyCharNotNL, OpStar
}

func literal(re *syntax.Regexp) facts {
	var b []byte
	for _, r := range re.Rune {
		if r >= utf8.RuneSelf && re.Flags&syntax.FoldCase != 0 && unicode.SimpleFold(r) != r {
			return unknown // case-insensitive non-ASCII letter: norm does not fold it
		}
		b = utf8.AppendRune(b, normRune(r))
	}
	return facts{exact: true, set: []string{string(b)}}
}

// class turns a small character class into its normalised runes.
func class(re *syntax.Regexp) facts {
	var set []string
	for i := 0; i+1 < len(re.Rune); i += 2 {
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi-lo >= maxClassRunes*4 {
			return unknown
		}
		for r := lo; r <= hi; r++ {
			if s := string(normRune(r)); !slices.Contains(set, s) {
				set = append(set, s)
			}
		}
		if len(set) > maxClassRunes {
			return unknown
		}
	}
	return facts{exact: true, set: set}
}

func optional(f facts) facts {
	if !f.exact {
		return unknown
	}
	return facts{exact: true, set: append(slices.Clip(f.set), "")}
}

func repeat(re *syntax.Regexp) facts {
	sub := analyse(re.Sub[0])
	switch {
	case re.Min == 1 && re.Max == 1:
		return sub
	case re.Min == 0 && re.Max == 1:
		return optional(sub)
	case re.Min >= 1:
		return facts{need: sub.groups()}
	}
	return unknown
}

// concat multiplies out runs of exact children ("Chrome" "/" → "chrome/") and
// collects the needs of the others.
func concat(subs []*syntax.Regexp) facts {
	out := facts{exact: true, set: []string{""}}
	run := []string{""}
	flush := func() {
		if !slices.Contains(run, "") {
			out.need = append(out.need, run)
		}
		run = []string{""}
	}
	for _, sub := range subs {
		f := analyse(sub)
		if !f.exact {
			out.exact = false
			flush()
			out.need = append(out.need, f.groups()...)
			continue
		}
		if len(run)*len(f.set) > maxExact {
			out.exact = false // the whole is no longer enumerable
			flush()
		}
		run = cross(run, f.set)
	}
	if out.exact {
		out.set = run
		return out
	}
	flush()
	return out
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return dedupe(out)
}

// alternate: a match of x|y is a match of x or of y, so one group of each
// side joined is needed; all sides exact give an exact union.
func alternate(subs []*syntax.Regexp) facts {
	all := make([]facts, len(subs))
	exact := true
	var union []string
	for i, sub := range subs {
		all[i] = analyse(sub)
		exact = exact && all[i].exact
		union = append(union, all[i].set...)
	}
	if exact && len(union) <= maxExact {
		return facts{exact: true, set: dedupe(union)}
	}
	var group []string
	for _, f := range all {
		best := bestGroup(f.groups())
		if best == nil {
			return unknown
		}
		group = append(group, best...)
	}
	return facts{need: [][]string{dedupe(group)}}
}

// bestGroup picks the most selective group: the longest shortest member,
// then the fewest members.
func bestGroup(groups [][]string) []string {
	var best []string
	bestLen := -1
	for _, g := range groups {
		l := minLen(g)
		if l > bestLen || (l == bestLen && len(g) < len(best)) {
			best, bestLen = g, l
		}
	}
	return best
}

func minLen(g []string) int {
	m := 1 << 30
	for _, s := range g {
		m = min(m, len(s))
	}
	return m
}

func dedupe(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
