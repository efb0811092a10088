package risk

// accountIndex maps an account's 64-bit hash to its profile number with open
// addressing and linear probing over 8-byte slots: the low bits of the hash
// pick the start, the high 32 bits are kept as a tag. Profiles keep a third,
// independent 32-bit hash of the account id, so two accounts would be merged
// only if about 85 bits collided; a tag match whose profile check fails is
// skipped, never merged.
type accountIndex struct {
	slots []indexSlot
	n     int
}

type indexSlot struct {
	tag uint32 // high half of the hash, low bit forced to 1; 0 = empty
	idx uint32
}

func tagOf(h uint64) uint32 { return uint32(h>>32) | 1 }

// find returns the profile number for h whose check matches, or false.
func (x *accountIndex) find(h uint64, check uint32, profiles []profile) (uint32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	tag, mask := tagOf(h), uint64(len(x.slots)-1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.tag == 0 {
			return 0, false
		}
		if s.tag == tag && profiles[s.idx].check == check {
			return s.idx, true
		}
	}
}

// put inserts a new profile number for h. The caller grows the table first
// when full() says so.
func (x *accountIndex) put(h uint64, idx uint32) {
	x.insert(h&uint64(len(x.slots)-1), tagOf(h), idx)
	x.n++
}

// full reports whether one more entry would pass a load factor of 3/4.
func (x *accountIndex) full() bool { return (x.n+1)*4 > len(x.slots)*3 }

func (x *accountIndex) insert(start uint64, tag, idx uint32) {
	mask := uint64(len(x.slots) - 1)
	i := start & mask
	for x.slots[i].tag != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = indexSlot{tag: tag, idx: idx}
}

func newAccountIndex(capacity int) accountIndex {
	size := 1024
	for size*3 < capacity*4 {
		size *= 2
	}
	return accountIndex{slots: make([]indexSlot, size)}
}

// touch loads h's first slot (see Model.prefetch).
func (x *accountIndex) touch(h uint64) uint32 {
	if len(x.slots) == 0 {
		return 0
	}
	return x.slots[h&uint64(len(x.slots)-1)].idx
}
