package config_test

import (
	"strings"
	"testing"

	"firebreak"
	"firebreak/config"
)

func TestParsePolicy(t *testing.T) {
	cases := []struct {
		name, doc string
		wantErr   string // substring; "" means valid
		check     func(p firebreak.Policy) bool
	}{
		{"empty gives defaults", "", "", func(p firebreak.Policy) bool { return p == firebreak.DefaultPolicy() }},
		{"comments only give defaults", "# nothing set yet\n", "", func(p firebreak.Policy) bool { return p == firebreak.DefaultPolicy() }},
		{"budgets", "challenge_budget: 0.02\ndeny_budget: 0.002\n", "", func(p firebreak.Policy) bool {
			return p.ChallengeBudget == 0.02 && p.DenyBudget == 0.002 && p.WarmUp == 5000
		}},
		{"fixed thresholds", "fixed_thresholds:\n  challenge: 0.9\n  deny: 0.99\n", "", func(p firebreak.Policy) bool { return p.Fixed != nil && p.Fixed.Deny == 0.99 }},
		{"unknown key", "challenge_bugdet: 0.01\n", "challenge_bugdet", nil},
		{"wrong type", "challenge_budget: lots\n", "challenge_budget", nil},
		{"budget too large", "challenge_budget: 0.9\n", "field challenge_budget", nil},
		{"deny above challenge", "challenge_budget: 0.01\ndeny_budget: 0.05\n", "field deny_budget", nil},
		{"negative warm up", "warm_up: -1\n", "field warm_up", nil},
		{"prior out of range", "prior: 1\n", "field prior", nil},
		{"fixed deny below challenge", "fixed_thresholds:\n  challenge: 0.9\n  deny: 0.5\n", "field fixed_thresholds.deny", nil},
		{"not yaml", "challenge_budget: [\n", "challenge_budget", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.ParsePolicy([]byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error()+firebreak.ErrorMessage(err), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				if firebreak.ErrorCode(err) != firebreak.EINVALID {
					t.Errorf("code = %q, want %q", firebreak.ErrorCode(err), firebreak.EINVALID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Errorf("policy = %+v", got)
			}
		})
	}
}
