package risk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
)

type decoder struct {
	r   *bufio.Reader
	n   int64
	err error
	buf [8]byte
}

func (d *decoder) bytes(b []byte) {
	if d.err != nil {
		return
	}
	k, err := io.ReadFull(d.r, b)
	d.n += int64(k)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.err = err
}

func (d *decoder) u64() uint64 {
	d.bytes(d.buf[:8])
	if d.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(d.buf[:8])
}

func (d *decoder) u32s(vs []uint32) {
	for i := range vs {
		d.bytes(d.buf[:4])
		vs[i] = binary.LittleEndian.Uint32(d.buf[:4])
	}
}

func (d *decoder) u16s(vs []uint16) {
	for i := range vs {
		d.bytes(d.buf[:2])
		vs[i] = binary.LittleEndian.Uint16(d.buf[:2])
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	d.err = err
	return v
}

// sparse reads a table written by encoder.sparse into vs.
func (d *decoder) sparse(vs []uint32) {
	clear(vs)
	for i := 0; i < len(vs) && d.err == nil; {
		z, l := d.uvarint(), d.uvarint()
		if d.err == nil && (z > uint64(len(vs)-i) || l > uint64(len(vs)-i)-z || z+l == 0) {
			d.err = errors.New("sparse table overruns its size")
			return
		}
		i += int(z)
		d.u32s(vs[i : i+int(l)])
		i += int(l)
	}
}

func (d *decoder) profile(p *profile) {
	d.u32s(p.keys[:])
	d.u16s(p.meta[:])
	d.u16s(p.n[:])
	d.u16s(p.novel[:])
	var w [4]uint32
	d.u32s(w[:])
	p.lastMin, p.failMin, p.acctOff, p.check = w[0], w[1], w[2], w[3]
	var h [5]uint16
	d.u16s(h[:])
	p.lat, p.lon, p.hasGeo, p.failMass, p.acctLen = int16(h[0]), int16(h[1]), h[2] == 1, h[3], h[4]
}

func (d *decoder) population(p *population) {
	d.sparse(p.cms)
	d.sparse(p.moves)
	d.u32s(p.total[:])
	for l := range p.novel {
		d.u32s(p.novel[l][:])
		d.u32s(p.trials[l][:])
	}
	d.u32s(p.fails[:])
	var w [5]uint32
	d.u32s(w[:])
	p.legitImp, p.legitAll, p.attackImp, p.attackAll, p.sinceDecay = w[0], w[1], w[2], w[3], w[4]
	p.lastLat = math.Float64frombits(d.u64())
	p.lastLon = math.Float64frombits(d.u64())
	p.hasLast = d.u64() == 1
}

func (d *decoder) sources(s *sourceStats) {
	for _, t := range [][]sourceEntry{s.ip, s.prefix} {
		flat := make([]uint32, 4*len(t))
		d.sparse(flat)
		for i := range t {
			w := flat[4*i : 4*i+4]
			t[i] = sourceEntry{tag: w[0], min: w[1], lastAcct: w[2], fails: uint16(w[3] >> 16), attempts: uint16(w[3])}
		}
	}
	s.fails = math.Float64frombits(d.u64())
	s.attempts = math.Float64frombits(d.u64())
}

func (d *decoder) budget(b *budget) {
	for i := range b.bins {
		b.bins[i] = math.Float64frombits(d.u64())
	}
	b.total = math.Float64frombits(d.u64())
	b.observed = int64(d.u64())
}
