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

// The text literals are looked for in is textStart + norm(ua) + textEnd, so
// that ^ and $ (outside multi-line mode) become text too: "^(Ice)$" needs
// "\xffice\xfe". Neither byte occurs in valid UTF-8.
const (
	textStart = "\xff"
	textEnd   = "\xfe"
)

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
// when exact is set, each match is one of set; otherwise each match starts
// with a member of prefix and ends with a member of suffix (nil: unknown).
// Every match contains a member of each group in need.
type facts struct {
	exact          bool
	set            []string
	prefix, suffix []string
	need           [][]string
}

var unknown = facts{}

// requiredLiterals returns the literal groups of expr (Perl syntax, as the
// regexp package compiles it); nil when nothing is known.
func requiredLiterals(expr string) [][]string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return analyse(re).groups()
}

func (f facts) pre() []string {
	if f.exact {
		return f.set
	}
	return f.prefix
}

func (f facts) suf() []string {
	if f.exact {
		return f.set
	}
	return f.suffix
}

// groups returns every known group, without vacuous ones.
func (f facts) groups() [][]string {
	g := slices.Clip(f.need)
	if f.exact {
		g = append(g, f.set)
	}
	if f.prefix != nil {
		g = append(g, f.prefix)
	}
	if f.suffix != nil {
		g = append(g, f.suffix)
	}
	var out [][]string
	for _, grp := range g {
		if !slices.ContainsFunc(grp, always) {
			out = append(out, dedupe(grp))
		}
	}
	return out
}

// always reports whether s occurs in every text.
func always(s string) bool { return s == "" || s == textStart || s == textEnd }

func analyse(re *syntax.Regexp) facts {
	switch re.Op {
	case syntax.OpNoMatch:
		return facts{exact: true, set: []string{}}
	case syntax.OpBeginText:
		return facts{exact: true, set: []string{textStart}}
	case syntax.OpEndText:
		return facts{exact: true, set: []string{textEnd}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpWordBoundary,
		syntax.OpNoWordBoundary:
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
		return atLeastOnce(analyse(re.Sub[0]))
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

// atLeastOnce is x+ or x{n,m} with n ≥ 1: a match starts with a match of x
// and ends with one.
func atLeastOnce(f facts) facts {
	return facts{prefix: f.pre(), suffix: f.suf(), need: f.groups()}
}

func repeat(re *syntax.Regexp) facts {
	sub := analyse(re.Sub[0])
	switch {
	case re.Min == 1 && re.Max == 1:
		return sub
	case re.Min == 0 && re.Max == 1:
		return optional(sub)
	case re.Min >= 1:
		return atLeastOnce(sub)
	}
	return unknown
}

// concat multiplies out runs of adjacent known text: exact children, and the
// suffix and prefix of the inexact children around them ("W" followed by
// (?:IRE|ordPress|...) gives "wire", "wordpress", ...).
func concat(subs []*syntax.Regexp) facts {
	var out facts
	run := []string{""} // what the text matched so far ends with
	exact, leading := true, true
	for _, sub := range subs {
		f := analyse(sub)
		if f.exact && len(run)*len(f.set) <= maxExact {
			run = cross(run, f.set)
			continue
		}
		joined := run
		if p := f.pre(); p != nil {
			if len(run)*len(p) <= maxExact {
				joined = cross(run, p)
			} else {
				out.need = append(out.need, p)
			}
		}
		out.need = append(out.need, joined)
		if leading {
			out.prefix, leading = joined, false
		}
		out.need = append(out.need, f.need...)
		exact = false
		if run = f.suf(); run == nil {
			run = []string{""}
		}
	}
	if exact {
		return facts{exact: true, set: run}
	}
	out.suffix = run
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

// alternate: a match of x|y is a match of x or of y. The needs of the sides
// are joined clause by clause ((a∧b)∨c = (a∨c)∧(b∨c)), keeping only each
// side's most selective groups when there would be too many clauses; the
// prefixes and suffixes join likewise; all sides exact give an exact union.
func alternate(subs []*syntax.Regexp) facts {
	sides := make([][][]string, len(subs))
	exact, free := true, false
	var union, prefix, suffix []string
	for i, sub := range subs {
		f := analyse(sub)
		exact = exact && f.exact
		union = append(union, f.set...)
		prefix, suffix = join(prefix, f.pre(), i), join(suffix, f.suf(), i)
		sides[i] = f.groups()
		free = free || len(sides[i]) == 0
	}
	if exact && len(union) <= maxExact {
		return facts{exact: true, set: dedupe(union)}
	}
	out := facts{prefix: prefix, suffix: suffix}
	if !free { // when one side needs nothing, neither does the whole
		out.need = distribute(sides)
	}
	return out
}

// maxClauses bounds the clauses distribute makes.
const maxClauses = 16

// distribute turns "all groups of side 1, or all groups of side 2, or ..."
// into groups that must all hold.
func distribute(sides [][][]string) [][]string {
	for i := range sides {
		sides[i] = slices.Clone(sides[i])
		slices.SortStableFunc(sides[i], func(a, b []string) int { return minLen(b) - minLen(a) })
	}
	for {
		n, widest := 1, 0
		for i, g := range sides {
			n *= len(g)
			if len(g) > len(sides[widest]) {
				widest = i
			}
			if n > maxClauses {
				break
			}
		}
		if n <= maxClauses {
			break
		}
		sides[widest] = sides[widest][:len(sides[widest])-1]
	}
	clauses := [][]string{nil}
	for _, groups := range sides {
		var next [][]string
		for _, c := range clauses {
			for _, g := range groups {
				next = append(next, append(slices.Clip(c), g...))
			}
		}
		clauses = next
	}
	for i := range clauses {
		clauses[i] = dedupe(clauses[i])
	}
	return clauses
}

// join adds the i-th alternative's prefixes (or suffixes) to acc; unknown
// once any alternative's are unknown or there are too many.
func join(acc, add []string, i int) []string {
	if (i > 0 && acc == nil) || add == nil || len(acc)+len(add) > maxExact {
		return nil
	}
	return append(slices.Clip(acc), add...)
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
