package detect

import (
	"math"
	"net/netip"

	"firebreak"
)

// counts are one key's exponentially decayed tallies. A count halves every
// half-life of its table, so it approximates the activity of the last
// half-life / ln 2 — a sliding window without buckets.
type counts struct {
	t  int32   // minute of the last decay
	n  float32 // attempts
	k  float32 // account-failures: first unresolved failure of an account in its window
	u  float32 // unknown-account failures, unresolved
	s  float32 // successes
	ca float32 // attempts attributed to a campaign
	fi float32 // distinct failing IPs seen in this key (clusters, networks)
	am float32 // account-failures from one of the key's last two failing networks
}

// decay brings c forward to minute now with the table's factor table.
func (c *counts) decay(now int32, halfMin float64) {
	if now <= c.t {
		return
	}
	f := float32(math.Exp2(-float64(now-c.t) / halfMin))
	c.n *= f
	c.k *= f
	c.u *= f
	c.s *= f
	c.ca *= f
	c.fi *= f
	c.am *= f
	c.t = now
}

// entry is one slot of a direct-mapped key table. A key that lands on an
// occupied slot with another tag replaces it: memory is fixed, and the
// evicted key is the one whose counts had to share a slot.
type entry struct {
	tag   uint64
	c     counts
	camp  int32 // campaign index + 1 this key is a source of; 0 none
	ring  int32 // ring slot + 1 of the key's last success (IP table)
	pendU int32 // minute of the last unresolved unknown-account failure (IP table)
	// a1, a2 are the networks of the key's last two failures (clusters):
	// failures from one or two networks are concentrated, from many spread.
	a1, a2 uint32
	// own: camp was set by this key's own test, not by attribution of an
	// event that passed through it.
	own bool
}

// table is a direct-mapped table of keys with decayed counts, and a decayed
// count of distinct keys seen: the number of keys tested in a window, which
// sets the multiple-testing threshold.
type table struct {
	slots   []entry
	mask    uint64
	halfMin float64
	keys    counts // keys.n: decayed number of new keys
}

func newTable(bits int, halfMin float64) table {
	return table{slots: make([]entry, 1<<bits), mask: 1<<bits - 1, halfMin: halfMin}
}

// get returns the key's entry decayed to now, claiming the slot if another
// key holds it.
func (t *table) get(key uint64, now int32) (*entry, uint32) {
	i := uint32(key & t.mask)
	e := &t.slots[i]
	if e.tag != key {
		*e = entry{tag: key, c: counts{t: now}}
		t.keys.decay(now, t.halfMin)
		t.keys.n++
	} else {
		e.c.decay(now, t.halfMin)
	}
	return e, i
}

// at returns the entry in slot i if it still holds key.
func (t *table) at(i uint32, key uint64) *entry {
	if e := &t.slots[i&uint32(t.mask)]; e.tag == key {
		return e
	}
	return nil
}

// active is the decayed number of distinct keys, at least 1.
func (t *table) active(now int32) float64 {
	t.keys.decay(now, t.halfMin)
	return math.Max(1, float64(t.keys.n))
}

func (t *table) bytes() int { return len(t.slots) * int(entrySize) }

const entrySize = 64 // tag 8, counts 32, campaign, ring, pending 12, networks 8, padding

// FNV-1a with a final mix; keys of different kinds are salted apart.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x | 1 // 0 marks an empty slot
}

// Salts for the key kinds.
const (
	saltIP uint64 = iota + 1
	saltPrefix
	saltASN
	saltFP
	saltAccount
)

// ipKeys returns the keys of the address and of its /24 (IPv4) or /48 (IPv6).
func ipKeys(ip netip.Addr) (full, prefix uint64) {
	b := ip.As16()
	full = mix(hashBytes(fnvOffset^saltIP, b[:]))
	if ip.Is4() {
		prefix = mix(hashBytes(fnvOffset^saltPrefix, b[12:15]))
	} else {
		prefix = mix(hashBytes(fnvOffset^saltPrefix, b[:6]))
	}
	return full, prefix
}

// fingerprintKey clusters logins by client: the parsed browser family, OS
// and device type (the raw user agent when unparsed), and whether the
// client sent a device id. The major version is left out: attack tools
// rotate through current and older releases, which would split one
// campaign's evidence over clusters too small to be significant.
func fingerprintKey(e *firebreak.Event) uint64 {
	h := uint64(fnvOffset) ^ saltFP
	if e.Agent.Browser != "" {
		h = hashString(h, e.Agent.Browser)
		h = hashString(h, e.Agent.OS)
		h = hashString(h, e.Agent.DeviceType)
	} else {
		h = hashString(h, e.UserAgent)
	}
	if e.DeviceID != "" {
		h = (h ^ 0xff) * fnvPrime
	}
	return mix(h)
}

func asnKey(asn uint32) uint64 { return mix((fnvOffset ^ saltASN ^ uint64(asn)) * fnvPrime) }

func accountKey(a string) uint64 { return mix(hashString(fnvOffset^saltAccount, a)) }
