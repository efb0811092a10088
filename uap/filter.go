package uap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ua-parser/uap-go/uaparser"
)

// rule is one uap-core expression: the library's matcher and the groups of
// literals (ids into matcher.groups) a user agent must satisfy for it to
// possibly match.
type rule[T any] struct {
	match func(ua string, out *T)
	need  []int32
}

// first runs the rules in order, as uaparser's ParseUserAgent, ParseOs and
// ParseDevice do, skipping those that cannot match: the first rule giving a
// non-empty family wins, and out keeps what earlier rules wrote. A nil sat
// (satisfied groups) runs every rule.
func first[T any](rules []rule[T], ua string, sat bitset, out *T, family func(*T) string) {
next:
	for i := range rules {
		r := &rules[i]
		if sat != nil {
			for _, g := range r.need {
				if !sat.has(g) {
					continue next
				}
			}
		}
		r.match(ua, out)
		if family(out) != "" {
			return
		}
	}
}

type bitset []uint64

func newBitset(n int) bitset      { return make(bitset, (n+63)/64) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (i & 63) }

// matcher holds the prefiltered rule lists of the three uap-core sections.
// A group is a set of literals of which one must occur; groups are shared
// between rules, and groupsOf lists, per literal, the groups it satisfies.
type matcher struct {
	lits     *litIndex
	nGroups  int
	groupsOf [][]int32
	ua       []rule[uaparser.UserAgent]
	os       []rule[uaparser.Os]
	device   []rule[uaparser.Device]
}

// builder numbers literals and groups while a matcher is made.
type builder struct {
	lits     map[string]int32
	names    []string
	groups   map[string]int32
	groupsOf [][]int32
}

// need returns the group ids of expr.
func (b *builder) need(expr string) []int32 {
	var sets [][]int32
	for _, g := range requiredLiterals(expr) {
		var ids []int32
		for _, s := range g {
			id, ok := b.lits[s]
			if !ok {
				id = int32(len(b.names))
				b.lits[s] = id
				b.names = append(b.names, s)
				b.groupsOf = append(b.groupsOf, nil)
			}
			ids = append(ids, id)
		}
		sets = append(sets, ids)
	}
	var out []int32
	for _, ids := range minimalGroups(sets) {
		key := fmt.Sprint(ids)
		gid, ok := b.groups[key]
		if !ok {
			gid = int32(len(b.groups))
			b.groups[key] = gid
			for _, id := range ids {
				b.groupsOf[id] = append(b.groupsOf[id], gid)
			}
		}
		out = append(out, gid)
	}
	return out
}

// newMatcher analyses the compiled expressions of p.
func newMatcher(p *uaparser.Parser) *matcher {
	b := &builder{lits: map[string]int32{}, groups: map[string]int32{}}
	m := &matcher{}
	for _, r := range p.UA {
		m.ua = append(m.ua, rule[uaparser.UserAgent]{match: r.Match, need: b.need(r.Reg.String())})
	}
	for _, r := range p.OS {
		m.os = append(m.os, rule[uaparser.Os]{match: r.Match, need: b.need(r.Reg.String())})
	}
	for _, r := range p.Device {
		m.device = append(m.device, rule[uaparser.Device]{match: r.Match, need: b.need(r.Reg.String())})
	}
	m.lits, m.nGroups, m.groupsOf = newLitIndex(b.names), len(b.groups), b.groupsOf
	return m
}

// minimalGroups sorts each group and drops groups implied by others: when
// every member of a is in b, a literal of a present means b holds too.
func minimalGroups(groups [][]int32) [][]int32 {
	for _, g := range groups {
		slices.Sort(g)
	}
	var out [][]int32
	for i, b := range groups {
		implied := false
		for j, a := range groups {
			if j != i && subset(a, b) && (len(a) < len(b) || j < i) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, b)
		}
	}
	return out
}

// subset reports whether sorted a is a subset of sorted b.
func subset(a, b []int32) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}

// satisfied returns the groups satisfied by ua, or nil when ua is not valid
// UTF-8 (then every rule must run).
func (m *matcher) satisfied(ua string) bitset {
	found, ok := m.lits.find(ua)
	if !ok {
		return nil
	}
	sat := newBitset(m.nGroups)
	for _, id := range found {
		for _, g := range m.groupsOf[id] {
			sat.set(g)
		}
	}
	return sat
}

// parse gives the same results as uaparser's ParseUserAgent, ParseOs and
// ParseDevice (without their caches). all disables the prefilter.
func (m *matcher) parse(ua string, all bool) (uaparser.UserAgent, uaparser.Os, uaparser.Device) {
	var sat bitset
	if !all {
		sat = m.satisfied(ua)
	}
	var (
		b uaparser.UserAgent
		o uaparser.Os
		d uaparser.Device
	)
	first(m.ua, ua, sat, &b, func(b *uaparser.UserAgent) string { return b.Family })
	first(m.os, ua, sat, &o, func(o *uaparser.Os) string { return o.Family })
	first(m.device, ua, sat, &d, func(d *uaparser.Device) string { return d.Family })
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
	single [256]int32 // the one-byte literal equal to a byte, or -1
	start  []int32    // bucket k is ids[start[k]:start[k+1]], k = first two bytes
	ids    []int32
}

func newLitIndex(lits []string) *litIndex {
	x := &litIndex{lits: lits, start: make([]int32, 1<<16+1)}
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
	next := slices.Clone(x.start[:1<<16])
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

// find returns the literals occurring in textStart + norm(ua) + textEnd,
// each once; false when ua is not valid UTF-8.
func (x *litIndex) find(ua string) ([]int32, bool) {
	var buf [512]byte
	text, ok := appendNorm(append(buf[:0], textStart...), ua)
	if !ok {
		return nil, false
	}
	t := string(append(text, textEnd...))
	seen := newBitset(len(x.lits))
	found := make([]int32, 0, 64)
	add := func(id int32) {
		if !seen.has(id) {
			seen.set(id)
			found = append(found, id)
		}
	}
	for i := 0; i < len(t); i++ {
		if id := x.single[t[i]]; id >= 0 {
			add(id)
		}
		if i+1 == len(t) {
			break
		}
		k := bigram(t[i:])
		for _, id := range x.ids[x.start[k]:x.start[k+1]] {
			if strings.HasPrefix(t[i:], x.lits[id]) {
				add(id)
			}
		}
	}
	return found, true
}
