package auth

import (
	"sync"
	"time"
)

// Back-off after failed logins: the first FreeFailures consecutive failures
// cost nothing; each one after that locks the name for twice as long as the
// one before, from one second up to MaxLockout.
const (
	FreeFailures = 5
	MaxLockout   = 15 * time.Minute
)

// Lockout returns how long a name is locked after n consecutive failed
// logins: 0 below FreeFailures, then 2^(n-FreeFailures) seconds, at most
// MaxLockout.
func Lockout(n int) time.Duration {
	if n < FreeFailures {
		return 0
	}
	shift := n - FreeFailures
	if shift >= 10 { // 2^10 s is already past 15 minutes
		return MaxLockout
	}
	return min(time.Duration(1<<shift)*time.Second, MaxLockout)
}

// maxUnknown bounds how many unknown names the tracker remembers.
const maxUnknown = 10_000

// unknownNames counts failed logins for names that are no operator's, in
// memory, so that they lock exactly as real names do and a lockout does not
// reveal which names exist. When full it forgets everything: an attacker who
// floods it with names gains a fresh count on unknown names only.
type unknownNames struct {
	mu    sync.Mutex
	names map[string]failures
}

type failures struct {
	n     int
	until time.Time
}

// lockedUntil returns until when name is locked (zero if it is not).
func (u *unknownNames) lockedUntil(name string) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.names[name].until
}

// fail records one more failure at now and returns the new count.
func (u *unknownNames) fail(name string, now time.Time) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.names == nil || len(u.names) >= maxUnknown {
		u.names = make(map[string]failures)
	}
	f := u.names[name]
	f.n++
	if d := Lockout(f.n); d > 0 {
		f.until = now.Add(d)
	}
	u.names[name] = f
	return f.n
}
