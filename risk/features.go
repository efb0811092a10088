package risk

import (
	"net/netip"

	"firebreak"
)

// level is one rung of a feature hierarchy. Each hierarchy runs from coarse to
// fine; a value at one level is conditioned on the value above it, so a new IP
// inside a known /24 of a known ISP costs little while a new country costs a lot.
type level uint8

const (
	lvCountry level = iota // network: country → ASN → /24 (/48) → IP
	lvASN
	lvPrefix
	lvIP
	lvDeviceType // agent: device type → OS → browser → browser major
	lvOS
	lvBrowser
	lvMajor
	lvDevice // device id: a flat feature (absent is a value too)
	numLevels
)

// hierarchy groups levels; each has its own login count in a profile.
type hierarchy struct {
	first, last level
}

// Indexes into hierarchies.
const (
	hNetwork = iota
	hAgent
	hDevice
)

var hierarchies = [3]hierarchy{
	{lvCountry, lvIP},
	{lvDeviceType, lvMajor},
	{lvDevice, lvDevice},
}

var levelNames = [numLevels]string{"country", "network", "IP range", "IP", "device type", "OS", "browser", "browser version", "device"}

// features are the hashed, chained keys of one event, one per level.
type features struct {
	key   [numLevels]uint64 // population keys, chained under the parent
	slot  [numLevels]uint32 // profile keys (compact)
	major uint8             // browser major version, capped at 255
	// idx is the profile slot holding each level's value, or -1; filled
	// by locate once per event, used by scoring and learning.
	idx [numLevels]int8
}

// locate finds every level's slot in one pass over the profile.
func (f *features) locate(p *profile) {
	for l := range f.idx {
		f.idx[l] = -1
	}
	for i := range p.keys {
		if p.meta[i] == 0 {
			continue
		}
		if l := p.level(i); l < numLevels && p.keys[i] == f.slot[l] {
			f.idx[l] = int8(i)
		}
	}
}

// extract fills f from e. It allocates nothing.
func extract(e *firebreak.Event, f *features) {
	k := hashString(uint64(lvCountry), e.Country)
	f.key[lvCountry] = k
	k = child(k, hashUint(uint64(lvASN), uint64(e.ASN)))
	f.key[lvASN] = k
	pfx, full := ipKeys(e.IP)
	k = child(k, pfx)
	f.key[lvPrefix] = k
	f.key[lvIP] = child(k, full)

	k = hashString(uint64(lvDeviceType), e.Agent.DeviceType)
	f.key[lvDeviceType] = k
	k = child(k, hashString(uint64(lvOS), e.Agent.OS))
	f.key[lvOS] = k
	k = child(k, hashString(uint64(lvBrowser), e.Agent.Browser))
	f.key[lvBrowser] = k
	major := e.Agent.Major
	if major < 0 {
		major = 0
	} else if major > 255 {
		major = 255
	}
	f.major = uint8(major)
	f.key[lvMajor] = child(k, hashUint(uint64(lvMajor), uint64(major)))
	f.key[lvDevice] = hashString(uint64(lvDevice), e.DeviceID)

	for l := range f.key {
		f.slot[l] = uint32(f.key[l] >> 32)
	}
	// The major-version slot keeps its parent's tag in the high bits and the
	// version in the low byte, so that "a newer version of a browser this
	// account already uses" can be recognised as an upgrade.
	f.slot[lvMajor] = majorSlot(f.key[lvBrowser], f.major)
}

func majorSlot(browserKey uint64, major uint8) uint32 {
	return uint32(browserKey)&^0xff | uint32(major)
}

// ipKeys returns hashes of the routing prefix (/24 for IPv4, /48 for IPv6)
// and of the full address.
func ipKeys(ip netip.Addr) (prefix, full uint64) {
	if ip.Is4() {
		b := ip.As4()
		v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		return hashUint(uint64(lvPrefix), v>>8), hashUint(uint64(lvIP), v)
	}
	b := ip.As16()
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 |
		uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	return hashUint(uint64(lvPrefix)|1<<8, hi>>16), hashUint(hashUint(uint64(lvIP)|1<<8, hi), lo)
}
