package uap

import (
	"strings"

	"github.com/ua-parser/uap-go/uaparser"
)

// rule is one uap-core expression: the library's matcher and the literal
// groups (ids into a litIndex) a user agent needs for it to possibly match.
type rule[T any] struct {
	match func(ua string, out *T)
	need  [][]int32
}

// possible reports whether every group has a literal in found.
func (r *rule[T]) possible(found []uint64) bool {
	for _, g := range r.need {
		ok := false
		for _, id := range g {
			if found[id>>6]&(1<<(id&63)) != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// first runs the rules in order, as uaparser's ParseUserAgent, ParseOs and
// ParseDevice do, skipping those that cannot match: the first rule giving a
// non-empty family wins, and out keeps what earlier rules wrote. A nil found
// runs every rule.
func first[T any](rules []rule[T], ua string, found []uint64, out *T, family func(*T) string) {
	for i := range rules {
		r := &rules[i]
		if found != nil && !r.possible(found) {
			continue
		}
		r.match(ua, out)
		if family(out) != "" {
			return
		}
	}
}

// matcher holds the prefiltered rule lists of the three uap-core sections.
type matcher struct {
	lits   *litIndex
	ua     []rule[uaparser.UserAgent]
	os     []rule[uaparser.Os]
	device []rule[uaparser.Device]
}

// newMatcher analyses the compiled expressions of p.
func newMatcher(p *uaparser.Parser) *matcher {
	reg := map[string]int32{}
	var lits []string
	ids := func(expr string) [][]int32 {
		var out [][]int32
		for _, g := range requiredLiterals(expr) {
			var grp []int32
			for _, s := range g {
				id, ok := reg[s]
				if !ok {
					id = int32(len(lits))
					reg[s] = id
					lits = append(lits, s)
				}
				grp = append(grp, id)
			}
			out = append(out, grp)
		}
		return out
	}
	m := &matcher{}
	for _, r := range p.UA {
		m.ua = append(m.ua, rule[uaparser.UserAgent]{match: r.Match, need: ids(r.Reg.String())})
	}
	for _, r := range p.OS {
		m.os = append(m.os, rule[uaparser.Os]{match: r.Match, need: ids(r.Reg.String())})
	}
	for _, r := range p.Device {
		m.device = append(m.device, rule[uaparser.Device]{match: r.Match, need: ids(r.Reg.String())})
	}
	m.lits = newLitIndex(lits)
	return m
}

// parse gives the same results as uaparser's ParseUserAgent, ParseOs and
// ParseDevice (without their caches). all disables the prefilter.
func (m *matcher) parse(ua string, all bool) (uaparser.UserAgent, uaparser.Os, uaparser.Device) {
	var found []uint64
	if !all {
		found = m.lits.find(ua)
	}
	var (
		b uaparser.UserAgent
		o uaparser.Os
		d uaparser.Device
	)
	first(m.ua, ua, found, &b, func(b *uaparser.UserAgent) string { return b.Family })
	first(m.os, ua, found, &o, func(o *uaparser.Os) string { return o.Family })
	first(m.device, ua, found, &d, func(d *uaparser.Device) string { return d.Family })
	for _, f := range []*string{&b.Family, &o.Family, &d.Family} {
		if *f == "" {
			*f = "Other"
		}
	}
	return b, o, d
}

// litIndex finds which of a set of normalised literals occur in a text: the
// literals are bucketed by their first two bytes, so one pass over the text
// checks only the few that could start at each position.
type litIndex struct {
	lits   []string
	words  int
	single [256]int32 // the one-byte literal equal to a byte, or -1
	start  []int32    // bucket k is ids[start[k]:start[k+1]], k = first two bytes
	ids    []int32
}

func newLitIndex(lits []string) *litIndex {
	x := &litIndex{lits: lits, words: (len(lits) + 63) / 64, start: make([]int32, 1<<16+1)}
	for i := range x.single {
		x.single[i] = -1
	}
	for id, s := range lits {
		switch {
		case len(s) == 1:
			x.single[s[0]] = int32(id)
		case len(s) > 1:
			x.start[bigram(s)+1]++
		}
	}
	for k := 1; k < len(x.start); k++ {
		x.start[k] += x.start[k-1]
	}
	x.ids = make([]int32, x.start[len(x.start)-1])
	next := append([]int32(nil), x.start[:1<<16]...)
	for id, s := range lits {
		if len(s) > 1 {
			k := bigram(s)
			x.ids[next[k]] = int32(id)
			next[k]++
		}
	}
	return x
}

func bigram(s string) int { return int(s[0])<<8 | int(s[1]) }

// find returns the set of literals occurring in norm(ua), or nil when ua is
// not valid UTF-8 (then every rule must run).
func (x *litIndex) find(ua string) []uint64 {
	var buf [512]byte
	text, ok := appendNorm(buf[:0], ua)
	if !ok {
		return nil
	}
	found := make([]uint64, x.words)
	t := string(text) // the conversion of a stack buffer is cheap next to the regexps
	for i := 0; i < len(t); i++ {
		if id := x.single[t[i]]; id >= 0 {
			found[id>>6] |= 1 << (id & 63)
		}
		if i+1 == len(t) {
			break
		}
		k := bigram(t[i:])
		for _, id := range x.ids[x.start[k]:x.start[k+1]] {
			if strings.HasPrefix(t[i:], x.lits[id]) {
				found[id>>6] |= 1 << (id & 63)
			}
		}
	}
	return found
}
