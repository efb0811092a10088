package eval

import (
	"fmt"
	"strconv"
	"time"

	"firebreak"
)

// Bounds of the naive rule's state.
const (
	// MaxNaiveFailures caps K so that one account's failure ring stays small.
	MaxNaiveFailures = 1000
	// naiveCountries is how many countries the rule remembers per account.
	naiveCountries = 8
)

// NaiveRule is the static-threshold baseline shown beside the model: flag a
// login when the account had more than K failed logins within the window
// before it, or when it is a successful login from a country the account
// never succeeded from before. It is causal (it decides from earlier events,
// then learns from this one) and not safe for concurrent use.
//
// Score, for comparing rankings fairly: with f the recent failures (at most
// K+1 are kept) and c = 1 for a new country, else 0,
//
//	score = ½·f/(K+1) + ½·c
//
// so a flagged login scores at least ½ and an unflagged one less than ½.
// Flagged logins get Challenge, never Deny. An account's first successful
// login with a country is not "new": there is nothing to compare it with.
// Events without a two-letter country skip the country test.
type NaiveRule struct {
	k      int
	window time.Duration

	index    map[string]int32 // account → position in accounts
	accounts []naiveAccount
	// fails holds one ring of K+1 failure times (Unix ns) per account:
	// account i owns fails[i*(K+1) : (i+1)*(K+1)].
	fails []int64
}

type naiveAccount struct {
	countries  [naiveCountries][2]byte // most recently used first
	nCountries uint8
	nFails     int32 // filled slots of the ring, ≤ K+1
	next       int32 // ring slot of the next failure
	successes  uint32
}

// NewNaiveRule returns the rule "more than k failures within window, or a
// success from a new country". k below 0 counts as 0 and above
// MaxNaiveFailures as MaxNaiveFailures; a window of 0 or less is one hour.
func NewNaiveRule(k int, window time.Duration) *NaiveRule {
	k = min(max(k, 0), MaxNaiveFailures)
	if window <= 0 {
		window = time.Hour
	}
	return &NaiveRule{k: k, window: window, index: make(map[string]int32)}
}

// String names the rule briefly, for report columns:
// "naive (>5 failures/hour, new country)".
func (n *NaiveRule) String() string {
	return fmt.Sprintf("naive (>%d failures/%s, new country)", n.k, windowText(n.window))
}

// Assess scores e from the account's earlier events, then records e.
func (n *NaiveRule) Assess(e *firebreak.Event) firebreak.Assessment {
	i := n.lookup(e.Account)
	a := &n.accounts[i]
	ring := n.fails[i*(n.k+1) : (i+1)*(n.k+1)]
	now := e.Time.UnixNano()
	recent := 0
	for _, t := range ring[:a.nFails] {
		if now-t < int64(n.window) {
			recent++
		}
	}
	code, hasCountry := countryCode(e.Country)
	success := e.Outcome == firebreak.OutcomeSuccess
	newCountry := success && hasCountry && a.nCountries > 0 && !a.seen(code)
	out := n.verdict(recent, newCountry, e.Country, a.successes)
	if success {
		a.successes = min(a.successes+1, 1<<32-1)
		if hasCountry {
			a.touch(code)
		}
	} else if e.Outcome == firebreak.OutcomeFailure {
		ring[a.next] = now
		a.next = (a.next + 1) % int32(n.k+1)
		a.nFails = min(a.nFails+1, int32(n.k+1))
	}
	return out
}

func (n *NaiveRule) lookup(account string) int {
	if i, ok := n.index[account]; ok {
		return int(i)
	}
	i := len(n.accounts)
	n.index[string([]byte(account))] = int32(i) // copy: do not pin the caller's buffer
	n.accounts = append(n.accounts, naiveAccount{})
	n.fails = append(n.fails, make([]int64, n.k+1)...)
	return i
}

func (n *NaiveRule) verdict(recent int, newCountry bool, country string, successes uint32) firebreak.Assessment {
	var out firebreak.Assessment
	out.Score = 0.5 * float64(recent) / float64(n.k+1)
	switch {
	case recent > n.k:
		out.Reasons = append(out.Reasons, fmt.Sprintf("at least %s in the last %s (limit %d)",
			plural(recent, "failed login"), windowText(n.window), n.k))
	case recent > 0:
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s in the last %s (limit %d)",
			plural(recent, "failed login"), windowText(n.window), n.k))
	}
	if newCountry {
		out.Score += 0.5
		out.Reasons = append(out.Reasons, fmt.Sprintf("country %s never seen for this account (%s before)",
			country, plural(int(successes), "successful login")))
	}
	if recent > n.k || newCountry {
		out.Decision = firebreak.Challenge
	}
	return out
}

func (a *naiveAccount) seen(code [2]byte) bool {
	for _, c := range a.countries[:a.nCountries] {
		if c == code {
			return true
		}
	}
	return false
}

// touch moves code to the front, inserting it and dropping the least
// recently used country when it is new and the list is full.
func (a *naiveAccount) touch(code [2]byte) {
	pos := int(a.nCountries)
	for i, c := range a.countries[:a.nCountries] {
		if c == code {
			pos = i
			break
		}
	}
	if pos == int(a.nCountries) {
		if a.nCountries < naiveCountries {
			a.nCountries++
		} else {
			pos = naiveCountries - 1
		}
	}
	copy(a.countries[1:pos+1], a.countries[:pos])
	a.countries[0] = code
}

func countryCode(s string) ([2]byte, bool) {
	if len(s) != 2 {
		return [2]byte{}, false
	}
	return [2]byte{s[0], s[1]}, true
}

// windowText says a window in words: "hour", "2 hours", "30 minutes".
func windowText(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + " hours"
	case d == time.Minute:
		return "minute"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + " minutes"
	}
	return d.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return group(int64(n)) + " " + noun + "s"
}
