package sim

// allocator hands out made-up but stable address blocks: distinct IPv4 /16s
// outside reserved and private ranges, and IPv6 /32s under the regional
// registries' usual first hextets.
type allocator struct {
	first  []byte
	n      uint64
	used4  map[uint16]bool
	used6  map[uint32]bool
	count6 uint64
}

func newAllocator() *allocator {
	al := &allocator{used4: map[uint16]bool{}, used6: map[uint32]bool{}}
	for a := 2; a <= 223; a++ {
		switch a {
		case 10, 100, 127, 169, 172, 192, 198, 203:
			continue
		}
		al.first = append(al.first, byte(a))
	}
	return al
}

func (al *allocator) v4() (byte, byte) {
	for {
		h := mix(al.n ^ 0x5eed4)
		al.n++
		a := al.first[h%uint64(len(al.first))]
		b := byte(h >> 32)
		k := uint16(a)<<8 | uint16(b)
		if !al.used4[k] {
			al.used4[k] = true
			return a, b
		}
	}
}

func (al *allocator) v6(code string) (uint16, uint16) {
	var base uint16
	switch code {
	case "US", "CA":
		base = 0x2600
	case "BR", "MX":
		base = 0x2800
	case "IN", "JP", "AU", "ID":
		base = 0x2400
	case "NG", "ZA":
		base = 0x2c0f
	default:
		base = 0x2a00
	}
	for {
		h := mix(al.count6 ^ 0x5eed6)
		al.count6++
		a := base
		if base != 0x2c0f {
			a += uint16(h % 8)
		}
		b := uint16(h>>16) | 0x0100
		if k := uint32(a)<<16 | uint32(b); !al.used6[k] {
			al.used6[k] = true
			return a, b
		}
	}
}

// mix is the SplitMix64 finaliser: a cheap, well-spread hash of a counter.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hash2 combines two values into one well-spread hash.
func hash2(a, b uint64) uint64 {
	return mix(mix(a) ^ b)
}
