package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"firebreak"
)

// Params are the argon2id cost parameters of new password hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultParams are OWASP's recommended argon2id parameters (19 MiB of
// memory, two passes, one lane): about 30–60 ms per hash on one core.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestParams are cheap parameters for tests only: they make hashes fast
// enough to create hundreds of sessions, and far too cheap to crack slowly.
var TestParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits of passwords and of the parameters a stored hash may ask for, so
// that neither a huge password nor a corrupt hash costs unbounded work.
const (
	MinPasswordLen = 12        // characters
	MaxPasswordLen = 1024      // bytes
	maxMemory      = 256 << 10 // KiB
	maxThreads     = 64
	maxTime        = 32
)

// ValidatePassword checks a new password: at least MinPasswordLen
// characters and at most MaxPasswordLen bytes.
func ValidatePassword(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return &firebreak.FieldError{Field: "password", Reason: fmt.Sprintf("must be at least %d characters", MinPasswordLen)}
	case len(password) > MaxPasswordLen:
		return &firebreak.FieldError{Field: "password", Reason: fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)}
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id. Its zero value is not
// usable; call NewHasher.
type Hasher struct {
	params Params

	dummyOnce sync.Once
	dummy     string // a hash of a random password, verified for unknown names
}

// NewHasher returns a hasher that makes new hashes with p; a zero p selects
// DefaultParams.
func NewHasher(p Params) *Hasher {
	if p == (Params{}) {
		p = DefaultParams
	}
	return &Hasher{params: p}
}

// Hash returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, both base64 without padding.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeHash(p, salt, key), nil
}

// Verify reports whether password matches the PHC string encoded. The keys
// are compared in constant time. A malformed hash verifies nothing.
func (h *Hasher) Verify(password, encoded string) bool {
	p, salt, key, err := ParseHash(encoded)
	if err != nil || len(password) > MaxPasswordLen {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// VerifyDummy spends the time of one Verify on a hash no password matches.
// Login calls it for unknown names so that timing does not tell which names
// exist.
func (h *Hasher) VerifyDummy(password string) {
	h.dummyOnce.Do(func() {
		// A hash of random bytes no one knows; if rand fails, hashing the
		// empty string costs the same and still matches no valid password.
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		h.dummy, _ = h.Hash(string(secret))
	})
	h.Verify(password, h.dummy)
}

// NeedsRehash reports whether encoded was made with other parameters than
// the hasher's, so that a successful login should store a fresh hash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := ParseHash(encoded)
	if err != nil {
		return true
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p != h.params
}

func encodeHash(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash is what ParseHash wraps for every malformed hash.
var errBadHash = errors.New("malformed argon2id hash")

// ParseHash reads an argon2id PHC string into its parameters, salt and key.
// It refuses other algorithms and versions, and parameters beyond what this
// package would ever make, so that a corrupt or hostile hash cannot demand
// gigabytes of memory.
func ParseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: want $argon2id$v=..$m=..,t=..,p=..$salt$key", errBadHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q, want v=%d", errBadHash, parts[2], argon2.Version)
	}
	if p, err = parseParams(parts[3]); err != nil {
		return p, nil, nil, err
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("%w: salt must be 8-64 bytes of unpadded base64", errBadHash)
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: key must be 16-64 bytes of unpadded base64", errBadHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// parseParams reads "m=19456,t=2,p=1", in that order.
func parseParams(s string) (Params, error) {
	var p Params
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return p, fmt.Errorf("%w: parameters %q, want m=..,t=..,p=..", errBadHash, s)
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return p, fmt.Errorf("%w: parameter %q, want %s followed by a positive integer", errBadHash, fields[i], name)
		}
		vals[i] = n
	}
	if vals[0] > maxMemory || vals[1] > maxTime || vals[2] > maxThreads || vals[0] < 8*vals[2] {
		return p, fmt.Errorf("%w: parameters %q out of range", errBadHash, s)
	}
	return Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}, nil
}
