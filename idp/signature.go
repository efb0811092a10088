package idp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureHeader carries a webhook call's signature:
//
//	Firebreak-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// A receiver may accept several v1 values (one per secret during a
// rotation); unknown keys are ignored.
const SignatureHeader = "Firebreak-Signature"

// DefaultTolerance is how far a signature's time may be from the
// receiver's clock when VerifySignature is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Reasons VerifySignature refuses a call; test them with errors.Is.
var (
	ErrSignatureMissing   = errors.New("signature: missing " + SignatureHeader + " header")
	ErrSignatureMalformed = errors.New("signature: malformed header")
	ErrSignatureMismatch  = errors.New("signature: does not match the body")
	ErrSignatureStale     = errors.New("signature: timestamp outside the tolerance")
	ErrSignatureReplayed  = errors.New("signature: already seen (replay)")
)

// maxSignatures bounds the v1 values read from one header.
const maxSignatures = 8

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// parsedSignature is a parsed SignatureHeader.
type parsedSignature struct {
	ts   string // as sent, for the MAC
	unix int64
	sigs [][]byte
}

// parseSignature reads "t=<unix>,v1=<hex>[,v1=<hex>...]".
func parseSignature(header string) (parsedSignature, error) {
	var p parsedSignature
	if strings.TrimSpace(header) == "" {
		return p, ErrSignatureMissing
	}
	parts := strings.Split(header, ",")
	if len(parts) > 2*maxSignatures {
		return p, fmt.Errorf("%w: too many parts", ErrSignatureMalformed)
	}
	for _, part := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return p, fmt.Errorf("%w: %q is not key=value", ErrSignatureMalformed, clip(part, 40))
		}
		switch k {
		case "t":
			if p.ts != "" {
				return p, fmt.Errorf("%w: t given twice", ErrSignatureMalformed)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 || v[0] == '+' {
				return p, fmt.Errorf("%w: t must be unix seconds", ErrSignatureMalformed)
			}
			p.ts, p.unix = v, n
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return p, fmt.Errorf("%w: v1 must be 64 hex digits", ErrSignatureMalformed)
			}
			if len(p.sigs) == maxSignatures {
				return p, fmt.Errorf("%w: more than %d v1 values", ErrSignatureMalformed, maxSignatures)
			}
			p.sigs = append(p.sigs, sig)
		}
	}
	switch {
	case p.ts == "":
		return p, fmt.Errorf("%w: no t", ErrSignatureMalformed)
	case len(p.sigs) == 0:
		return p, fmt.Errorf("%w: no v1", ErrSignatureMalformed)
	}
	return p, nil
}

// VerifySignature checks a webhook call's SignatureHeader against its raw
// body, for receivers. It refuses a missing or malformed header, a
// signature that does not match (compared in constant time), a timestamp
// more than tolerance away from now (0 means DefaultTolerance), and, when
// seen is not nil, a signature already accepted (a replay). Firebreak
// signs every attempt afresh, so its own retries are never replays.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration, seen ReplayCache) error {
	p, err := parseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, p.ts, body)
	var match []byte
	for _, sig := range p.sigs {
		if hmac.Equal(sig, want) {
			match = sig
		}
	}
	if match == nil {
		return ErrSignatureMismatch
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	t := time.Unix(p.unix, 0)
	if d := now.Sub(t); d > tolerance || d < -tolerance {
		return ErrSignatureStale
	}
	if seen != nil && seen.Seen(hex.EncodeToString(match), now, t.Add(tolerance)) {
		return ErrSignatureReplayed
	}
	return nil
}

// ReplayCache remembers the signatures a receiver has accepted.
type ReplayCache interface {
	// Seen records signature until expires and reports whether it was
	// already recorded (or cannot be recorded: fail closed).
	Seen(signature string, now, expires time.Time) bool
}

// NewReplayCache returns an in-memory ReplayCache for one process, holding
// at most max unexpired signatures. When it is full it refuses new
// signatures rather than forget one that might be replayed; size max for
// the receiver's call rate times the tolerance.
func NewReplayCache(max int) ReplayCache {
	return &replayCache{max: max, seen: make(map[string]time.Time)}
}

type replayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time
	queue []replayEntry // in arrival order, for pruning
}

type replayEntry struct {
	sig     string
	expires time.Time
}

func (c *replayCache) Seen(sig string, now, expires time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[sig]; ok {
		return true
	}
	// Entries arrive roughly in time order; prune expired ones from the front.
	for len(c.queue) > 0 && !c.queue[0].expires.After(now) {
		delete(c.seen, c.queue[0].sig)
		c.queue = c.queue[1:]
	}
	if len(c.seen) >= c.max {
		return true
	}
	c.seen[sig] = expires
	c.queue = append(c.queue, replayEntry{sig, expires})
	return false
}
