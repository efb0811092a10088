package risk

import "math/bits"

// Hashes here are deterministic (snapshots written by one process are read by
// another), allocation-free and fast on short strings. They are not
// cryptographic: an attacker choosing values to collide only confuses the
// population counts of its own values.

const (
	hashSeed  = 0x9e3779b97f4a7c15
	hashPrime = 0x100000001b3
)

// hashString is FNV-1a 64 over s, finished with a mixer so that short keys
// spread over all bits.
func hashString(h uint64, s string) uint64 {
	h ^= 0xcbf29ce484222325
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= hashPrime
	}
	return mix(h)
}

// hashUint folds v into h.
func hashUint(h, v uint64) uint64 {
	return mix(h ^ (v + hashSeed))
}

// mix is the SplitMix64 finaliser.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// child chains a child value's hash under its parent's, so that the same ASN
// in two countries, or the same OS under two device types, are distinct keys.
func child(parent, value uint64) uint64 {
	return mix(bits.RotateLeft64(parent, 17) ^ value)
}
