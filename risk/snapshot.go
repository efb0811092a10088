package risk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Snapshots hold the whole model state in a little-endian binary layout, so
// that a restart resumes from the snapshot plus the journal after it. The
// policy is not part of the snapshot: it comes from configuration.

var snapshotMagic = [8]byte{'F', 'B', 'R', 'I', 'S', 'K', '0', '3'}

// WriteTo writes the model state to w.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := &encoder{w: bw}
	enc.bytes(snapshotMagic[:])
	enc.u64(uint64(len(m.profiles)))
	enc.u64(uint64(len(m.arena)))
	enc.bytes(m.arena)
	for i := range m.profiles {
		enc.profile(&m.profiles[i])
	}
	enc.population(&m.pop)
	enc.sources(&m.src)
	enc.budget(&m.budget)
	if enc.err == nil {
		enc.err = bw.Flush()
	}
	return enc.n, enc.err
}

// ReadFrom replaces the model state with a snapshot read from r.
func (m *Model) ReadFrom(r io.Reader) (int64, error) {
	dec := &decoder{r: bufio.NewReaderSize(r, 1<<20)}
	var magic [8]byte
	dec.bytes(magic[:])
	if dec.err == nil && magic != snapshotMagic {
		return dec.n, errors.New("read risk snapshot: not a risk model snapshot (bad magic)")
	}
	n, arena := dec.u64(), dec.u64()
	if dec.err == nil && (n > 1<<32 || arena > 1<<40) {
		return dec.n, fmt.Errorf("read risk snapshot: implausible sizes (%d profiles, %d arena bytes)", n, arena)
	}
	fresh := New(Config{Policy: m.policy, Reputation: m.rep, Capacity: int(n)})
	fresh.arena = make([]byte, arena)
	dec.bytes(fresh.arena)
	fresh.profiles = fresh.profiles[:0]
	for i := uint64(0); i < n && dec.err == nil; i++ {
		var p profile
		dec.profile(&p)
		if uint64(p.acctOff)+uint64(p.acctLen) > arena {
			return dec.n, fmt.Errorf("read risk snapshot: profile %d points outside the account arena", i)
		}
		fresh.profiles = append(fresh.profiles, p)
	}
	// New sized the index for n accounts; fill it from the arena.
	fresh.reindex(len(fresh.index.slots))
	dec.population(&fresh.pop)
	dec.sources(&fresh.src)
	dec.budget(&fresh.budget)
	if dec.err != nil {
		return dec.n, fmt.Errorf("read risk snapshot: %w", dec.err)
	}
	fresh.budget.window = float64(m.policy.Window)
	fresh.budget.refresh(m.policy.ChallengeBudget, m.policy.DenyBudget)
	*m = *fresh
	return dec.n, nil
}

type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
	buf []byte
}

func (e *encoder) bytes(b []byte) {
	if e.err != nil {
		return
	}
	k, err := e.w.Write(b)
	e.n += int64(k)
	e.err = err
}

func (e *encoder) u64(v uint64) { e.bytes(binary.LittleEndian.AppendUint64(e.buf[:0], v)) }

func (e *encoder) u32s(vs []uint32) {
	for _, v := range vs {
		e.buf = binary.LittleEndian.AppendUint32(e.buf[:0], v)
		e.bytes(e.buf)
	}
}

func (e *encoder) u16s(vs []uint16) {
	for _, v := range vs {
		e.buf = binary.LittleEndian.AppendUint16(e.buf[:0], v)
		e.bytes(e.buf)
	}
}

func (e *encoder) uvarint(v uint64) { e.bytes(binary.AppendUvarint(e.buf[:0], v)) }

// sparse writes a table that is mostly zeros (sketches of a young model) as
// runs: zeros, then literals. A snapshot of a small model stays small.
func (e *encoder) sparse(vs []uint32) {
	for i := 0; i < len(vs); {
		z := i
		for z < len(vs) && vs[z] == 0 {
			z++
		}
		l := z
		for l < len(vs) && (vs[l] != 0 || (l+1 < len(vs) && vs[l+1] != 0)) {
			l++
		}
		e.uvarint(uint64(z - i))
		e.uvarint(uint64(l - z))
		e.u32s(vs[z:l])
		i = l
	}
}

func (e *encoder) profile(p *profile) {
	e.u32s(p.keys[:])
	e.u16s(p.meta[:])
	e.u16s(p.n[:])
	e.u16s(p.novel[:])
	geo := uint16(0)
	if p.hasGeo {
		geo = 1
	}
	e.u32s([]uint32{p.lastMin, p.failMin, p.acctOff, p.check})
	e.u16s([]uint16{uint16(p.lat), uint16(p.lon), geo, p.failMass, p.acctLen})
}

func (e *encoder) population(p *population) {
	e.sparse(p.cms)
	e.sparse(p.moves)
	e.u32s(p.total[:])
	for l := range p.novel {
		e.u32s(p.novel[l][:])
		e.u32s(p.trials[l][:])
	}
	e.u32s(p.fails[:])
	e.u32s([]uint32{p.legitImp, p.legitAll, p.attackImp, p.attackAll, p.sinceDecay})
	e.u64(math.Float64bits(p.lastLat))
	e.u64(math.Float64bits(p.lastLon))
	if p.hasLast {
		e.u64(1)
	} else {
		e.u64(0)
	}
}

func (e *encoder) sources(s *sourceStats) {
	for _, t := range [][]sourceEntry{s.ip, s.prefix} {
		flat := make([]uint32, 0, 4*len(t))
		for i := range t {
			x := &t[i]
			flat = append(flat, x.tag, x.min, x.lastAcct, uint32(x.fails)<<16|uint32(x.attempts))
		}
		e.sparse(flat)
	}
	e.u64(math.Float64bits(s.fails))
	e.u64(math.Float64bits(s.attempts))
}

func (e *encoder) budget(b *budget) {
	for _, v := range b.bins {
		e.u64(math.Float64bits(v))
	}
	e.u64(math.Float64bits(b.total))
	e.u64(uint64(b.observed))
}

// Clone returns a deep copy of the model, so that a snapshot can be written
// from the copy while the original goes on scoring. The copy shares the
// policy and the reputation hook, and must only be written, not scored with.
func (m *Model) Clone() *Model {
	c := *m
	c.index.slots = slices.Clone(m.index.slots)
	c.profiles = slices.Clone(m.profiles)
	c.arena = slices.Clone(m.arena)
	c.pop.cms = slices.Clone(m.pop.cms)
	c.pop.moves = slices.Clone(m.pop.moves)
	c.src.ip = slices.Clone(m.src.ip)
	c.src.prefix = slices.Clone(m.src.prefix)
	return &c
}
