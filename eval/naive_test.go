package eval_test

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"firebreak"
	"firebreak/eval"
)

// step is one event fed to the rule and, when check is set, the verdict
// expected for it.
type step struct {
	check    bool
	minute   int
	account  string // "u1" when empty
	success  bool
	country  string
	decision firebreak.Decision
	score    float64
	reasons  []string
}

func f(minute int) step { return step{minute: minute} }

func s(minute int, country string) step {
	return step{minute: minute, success: true, country: country}
}

func (st step) want(d firebreak.Decision, score float64, reasons ...string) step {
	st.check, st.decision, st.score, st.reasons = true, d, score, reasons
	return st
}

func (st step) on(account string) step { st.account = account; return st }

func TestNaiveRule(t *testing.T) {
	const (
		allow     = firebreak.Allow
		challenge = firebreak.Challenge
	)
	countries := []string{"AA", "AB", "AC", "AD", "AE", "AF", "AG", "AH"}
	var lru []step
	for i, c := range countries {
		lru = append(lru, s(i, c))
	}
	tests := []struct {
		name  string
		k     int
		steps []step
	}{
		{"failures up to the limit are allowed", 2, []step{
			f(0), f(1).want(allow, 1.0/6, "1 failed login in the last hour (limit 2)"),
			s(2, "NO").want(allow, 1.0/3, "2 failed logins in the last hour (limit 2)")}},
		{"more than K failures flag the next login", 2, []step{
			f(0), f(1), f(2),
			s(3, "NO").want(challenge, 0.5, "at least 3 failed logins in the last hour (limit 2)")}},
		{"old failures leave the window", 2, []step{
			f(0), f(1), f(2),
			s(61, "NO").want(allow, 1.0/6, "1 failed login in the last hour (limit 2)"),
			s(63, "NO").want(allow, 0)}},
		{"success from a new country", 2, []step{
			s(0, "NO"), s(1, "NO"),
			s(2, "BR").want(challenge, 0.5, "country BR never seen for this account (2 successful logins before)"),
			s(3, "BR").want(allow, 0)}},
		{"an account's first country is not new", 2, []step{s(0, "BR").want(allow, 0)}},
		{"a failure from a new country is neither flagged nor learned", 2, []step{
			s(0, "NO"), f(1).want(allow, 0),
			s(2, "BR").want(challenge, 1.0/6+0.5, "1 failed login in the last hour (limit 2)",
				"country BR never seen for this account (1 successful login before)")}},
		{"both signals give the top score", 2, []step{
			s(0, "NO"), f(1), f(2), f(3),
			s(4, "BR").want(challenge, 1, "at least 3 failed logins in the last hour (limit 2)",
				"country BR never seen for this account (1 successful login before)")}},
		{"accounts are separate", 2, []step{
			f(0).on("alice"), f(1).on("alice"), f(2).on("alice"),
			s(0, "NO").on("bob"), s(3, "BR").on("bob").want(challenge, 0.5,
				"country BR never seen for this account (1 successful login before)")}},
		{"events without a country skip the country test", 2, []step{
			s(0, "NO"), s(1, "").want(allow, 0)}},
		{"K of 0 flags after any failure", 0, []step{
			f(0), s(1, "NO").want(challenge, 0.5, "at least 1 failed login in the last hour (limit 0)")}},
		{"eight countries are kept, the least recently used goes", 2, append(lru,
			s(10, "AA"), // AA becomes the most recent; AB is now the oldest
			s(11, "AI").want(challenge, 0.5, "country AI never seen for this account (9 successful logins before)"),
			s(12, "AA").want(allow, 0), // kept
			s(13, "AB").want(challenge, 0.5, "country AB never seen for this account (11 successful logins before)"),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := eval.NewNaiveRule(tt.k, time.Hour)
			for i, st := range tt.steps {
				account := st.account
				if account == "" {
					account = "u1"
				}
				e := login(account, st.success, nil)
				e.Time, e.Country = t0.Add(time.Duration(st.minute)*time.Minute), st.country
				got := rule.Assess(e)
				if !st.check {
					continue
				}
				if got.Decision != st.decision || math.Abs(got.Score-st.score) > 1e-12 || !reflect.DeepEqual(got.Reasons, st.reasons) {
					t.Errorf("step %d: got %v %.4f %q, want %v %.4f %q",
						i, got.Decision, got.Score, got.Reasons, st.decision, st.score, st.reasons)
				}
			}
		})
	}
}

func TestNaiveRuleFlaggedIffScoreAtLeastHalf(t *testing.T) {
	for _, k := range []int{0, 1, 5} {
		t.Run(fmt.Sprintf("K=%d", k), func(t *testing.T) {
			rule := eval.NewNaiveRule(k, 30*time.Minute)
			for i := range 500 {
				e := login(fmt.Sprintf("u%d", i%7), i%3 != 0, nil)
				e.Time = t0.Add(time.Duration(i) * time.Minute)
				e.Country = []string{"NO", "SE", "DK", "BR"}[i*i%4]
				a := rule.Assess(e)
				if flagged := a.Decision == firebreak.Challenge; flagged != (a.Score >= 0.5) {
					t.Fatalf("event %d: decision %v with score %v", i, a.Decision, a.Score)
				}
				if a.Score < 0 || a.Score > 1 {
					t.Fatalf("event %d: score %v outside [0, 1]", i, a.Score)
				}
			}
		})
	}
}

func TestNaiveRuleString(t *testing.T) {
	tests := []struct {
		k      int
		window time.Duration
		want   string
	}{
		{5, time.Hour, "naive (>5 failures/hour, new country)"},
		{3, 2 * time.Hour, "naive (>3 failures/2 hours, new country)"},
		{3, 30 * time.Minute, "naive (>3 failures/30 minutes, new country)"},
		{-1, 0, "naive (>0 failures/hour, new country)"},
		{1 << 30, 90 * time.Second, fmt.Sprintf("naive (>%d failures/1m30s, new country)", eval.MaxNaiveFailures)},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := eval.NewNaiveRule(tt.k, tt.window).String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
