package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/auth"
	fbhttp "firebreak/http"
	"firebreak/sqlite"
)

// planServer is a real `firebreak serve` in-process, containing against an
// in-process simulated identity provider, with one incident of 4
// compromised (c0…), 6 at-risk (r0…) and 3 targeted (g0…) accounts.
type planServer struct {
	c        *ServeCommand
	url      string
	incident string // its id, as the commands take it
	// approver is an API token of role approver ("token:bob"); the static
	// admin token, in FIREBREAK_TOKEN, writes the plans as "api".
	approver string
}

func openPlanServer(t *testing.T) *planServer {
	t.Helper()
	ctx := context.Background()
	c := NewServeCommand(io.Discard, &syncBuffer{})
	c.Config.Addr, c.Config.DataDir, c.Config.LogLevel = "127.0.0.1:0", t.TempDir(), "warn"
	c.Config.Token = testToken
	c.Config.Contain.SimIdP = true
	if err := c.Open(ctx); err != nil {
		c.Close()
		t.Fatalf("open serve: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	waitReady(t, c.Server.URL(), 30*time.Second)

	s := &planServer{c: c, url: c.Server.URL()}
	inc := storePlanIncident(t, c.Incidents)
	s.incident = strconv.FormatInt(inc.ID, 10)
	tokens := auth.NewService(sqlite.NewOperatorStore(c.db), auth.Config{})
	secret, _, err := tokens.CreateToken(ctx, "test", "bob", firebreak.RoleApprover)
	if err != nil {
		t.Fatal(err)
	}
	s.approver = secret
	t.Setenv("FIREBREAK_TOKEN", testToken)
	t.Setenv("FIREBREAK_URL", "http://127.0.0.1:1") // never used: every command names --url
	return s
}

// storePlanIncident stores an incident with accounts in every tier; r0 and
// r3 have a low confidence (likely clean).
func storePlanIncident(t *testing.T, store firebreak.IncidentService) *firebreak.Incident {
	t.Helper()
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: at.Add(-time.Hour), LastSeen: at,
		Sources: []firebreak.IncidentSource{{Kind: firebreak.SourcePrefix, Value: "203.0.113.0/24", Attempts: 50, Failures: 40, Accounts: 13}}}
	if err := store.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	var accounts []firebreak.AffectedAccount
	for _, g := range []struct {
		prefix string
		n      int
		tier   firebreak.Tier
	}{{"c", 4, firebreak.TierCompromised}, {"r", 6, firebreak.TierAtRisk}, {"g", 3, firebreak.TierTargeted}} {
		for i := range g.n {
			conf := 0.9
			if g.tier == firebreak.TierAtRisk && i%3 == 0 {
				conf = 0.3
			}
			accounts = append(accounts, firebreak.AffectedAccount{Account: g.prefix + strconv.Itoa(i), Tier: g.tier,
				Confidence: conf, Evidence: "test", FirstSeen: at.Add(-time.Hour), LastSeen: at})
		}
	}
	if err := store.UpsertAccounts(ctx, inc.ID, accounts); err != nil {
		t.Fatal(err)
	}
	return inc
}

// cli runs `firebreak args...` and returns what it printed and its error.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustCLI runs a command that must succeed and returns its stdout.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := cli(t, args...)
	if err != nil {
		t.Fatalf("firebreak %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// wantCLIError runs a command that must fail with an error (not a usage
// error) that mentions every one of mention.
func wantCLIError(t *testing.T, args []string, mention ...string) {
	t.Helper()
	out, errOut, err := cli(t, args...)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("firebreak %s = %v, want an API error\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("firebreak %s: error %q does not mention %q", strings.Join(args, " "), err, m)
		}
	}
}

// regexMatch reports whether out matches the regular expression expr.
func regexMatch(expr, out string) bool { return regexp.MustCompile(expr).MatchString(out) }

// wantLines fails t unless out holds every one of want.
func wantLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

func TestPlanAndRunCommands(t *testing.T) {
	s := openPlanServer(t)
	u := []string{"--url", s.url}
	with := func(args ...string) []string { return append(args, u...) }

	out := mustCLI(t, with("plan", "create", "--incident", s.incident,
		"--step", "compromised:force_password_reset,revoke_sessions", "--step", "at_risk:require_step_up",
		"--note", "reset the stuffed accounts")...)
	wantLines(t, "plan create", out,
		"Plan 1 v1 for incident "+s.incident+", by api (hash ",
		"Acts on 10 accounts and 0 sources, in stages reaching [1 2 14] targets.",
		"force_password_reset", "revoke_sessions", "require_step_up",
		"Needs a second person's approval: revoke_sessions cannot be undone.")
	if !regexMatch(`require_step_up\s+6\s+2\s`, out) {
		t.Errorf("plan create: want require_step_up on 6 targets, 2 likely clean:\n%s", out)
	}

	out = mustCLI(t, with("plan", "show", "1", "--json")...)
	var d fbhttp.PlanDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Plan == nil || d.Plan.Spec.Note != "reset the stuffed accounts" || d.Approved {
		t.Fatalf("plan show --json = %v, %s", err, out)
	}
	out = mustCLI(t, with("plan", "list", "--incident", s.incident)...)
	if !regexMatch(`(?m)^1\s+1\s+api\s+10\s+needed\s`, out) {
		t.Errorf("plan list:\n%s", out)
	}

	// The author cannot approve, and nothing runs unapproved.
	wantCLIError(t, with("plan", "approve", "1"), "api wrote plan 1 v1 and cannot approve it", "(forbidden)")
	wantCLIError(t, with("run", "start", "1"), "needs a second person's approval", "(forbidden)")
	t.Setenv("FIREBREAK_TOKEN", s.approver)
	wantCLIError(t, with("plan", "approve", "1", "--hash", strings.Repeat("0", 64)), "hash", "(conflict)")
	out = mustCLI(t, with("plan", "approve", "1", "--comment", "list checked")...)
	wantLines(t, "plan approve", out, "Plan 1 v1 for incident", "Approved plan 1 v1 as token:bob; valid until ")
	t.Setenv("FIREBREAK_TOKEN", testToken)

	out = mustCLI(t, with("run", "start", "1", "--watch")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wantLines(t, "run start --watch (last line)", lines[len(lines)-1],
		"Run 1 (apply of plan 1 v1): finished, stage 3 of 3, 14/14 done (100.0%): 14 confirmed, 0 failed, 0 skipped")
	out = mustCLI(t, with("run", "show", "1")...)
	wantLines(t, "run show", out, "Run 1 (apply of plan 1 v1): finished")

	out = mustCLI(t, with("run", "items", "1")...)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 15 || !strings.HasPrefix(rows[0], "SEQ") ||
		strings.Count(out, "confirmed") != 14 {
		t.Errorf("run items: want a header and 14 confirmed items:\n%s", out)
	}
	out = mustCLI(t, with("run", "items", "1", "--state", "failed")...)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 1 {
		t.Errorf("run items --state failed: want the header alone:\n%s", out)
	}
	out = mustCLI(t, with("run", "items", "1", "--state", "confirmed", "--json")...)
	var page firebreak.ItemPage
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Items) != 14 {
		t.Errorf("run items --json = %v, %d items", err, len(page.Items))
	}
	wantCLIError(t, with("run", "items", "1", "--state", "done"), "state", "must be one of", "(invalid)")

	out = mustCLI(t, with("plan", "show", "1")...)
	wantLines(t, "plan show", out, "Approved v1 by token:bob at ", "Run 1 (apply): finished, 14 of 14 done.")

	// Roll it back: resets and step-ups are undone, sessions are not.
	out = mustCLI(t, with("run", "rollback", "1", "--watch")...)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	wantLines(t, "run rollback --watch (last line)", lines[len(lines)-1], "Run 2 (rollback of plan 1 v1): finished", "10/10 done")
	if n := s.c.Config.Contain.Sim.RevertEffects("c0", firebreak.ActionForceReset); n != 1 {
		t.Errorf("c0's reset reverted %d times, want 1", n)
	}
	wantCLIError(t, with("run", "rollback", "2"), "itself a rollback", "(conflict)")
	wantCLIError(t, with("run", "pause", "1"), "finished already", "roll it back", "(conflict)")
	wantCLIError(t, with("run", "resume", "1"), "finished already", "(conflict)")
	wantCLIError(t, with("run", "kill", "2"), "finished already", "(conflict)")

	out = mustCLI(t, with("plan", "revise", "1", "--step", "at_risk:require_step_up", "--stages", "0.5,1", "--manual-stages")...)
	wantLines(t, "plan revise", out, "Plan 1 v2 for incident", "Acts on 6 accounts and 0 sources, in stages reaching [3 6] targets.")
	if strings.Contains(out, "Needs a second person's approval") {
		t.Errorf("a 6-account step-up needs approval:\n%s", out)
	}
	// Manual stages: the run waits after the first stage until resumed.
	out = mustCLI(t, with("run", "start", "1", "--watch")...)
	wantLines(t, "run start --watch (manual stages)", out, "Run 3 (apply of plan 1 v2): paused", "3/6 done")
	out = mustCLI(t, with("run", "resume", "3", "--watch")...)
	wantLines(t, "run resume --watch", out, "Run 3 (apply of plan 1 v2): finished", "6/6 done")

	wantCLIError(t, with("plan", "show", "99"), "Plan 99 not found.", "(not_found)")
	wantCLIError(t, with("run", "show", "99"), "Run 99 not found.", "(not_found)")
	wantCLIError(t, with("plan", "create", "--incident", "99", "--step", "compromised:require_step_up"), "not found", "(not_found)")
	wantCLIError(t, with("plan", "create", "--incident", s.incident, "--step", "everyone:require_step_up"),
		"steps[0].select.tier", "(invalid)")
	wantCLIError(t, with("plan", "create", "--incident", s.incident, "--step", "compromised:nuke"),
		"steps[0].actions[0]", "(invalid)")
	t.Setenv("FIREBREAK_TOKEN", "not-a-token")
	wantCLIError(t, with("plan", "list", "--incident", s.incident), "(unauthorized)")
}

func TestPlanCommandUsage(t *testing.T) {
	url := []string{"--url", "http://127.0.0.1:1"} // nothing listens: usage errors come first
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"plan alone", []string{"plan"}, "Usage: firebreak plan"},
		{"unknown plan command", []string{"plan", "delete", "1"}, `unknown command "delete"`},
		{"create without incident", append([]string{"plan", "create", "--step", "compromised:require_step_up"}, url...), "--incident: required"},
		{"create without step", append([]string{"plan", "create", "--incident", "1"}, url...), "name at least one --step"},
		{"step without actions", append([]string{"plan", "create", "--incident", "1", "--step", "compromised"}, url...), "want TIER:ACTION"},
		{"step with a bad duration", append([]string{"plan", "create", "--incident", "1", "--step", "compromised:temporary_lock@forever"}, url...), `duration "forever"`},
		{"bad stages", append([]string{"plan", "create", "--incident", "1", "--step", "compromised:require_step_up", "--stages", "0.1,half"}, url...), `--stages: "half" is not a number`},
		{"non-numeric incident", append([]string{"plan", "create", "--incident", "one", "--step", "compromised:require_step_up"}, url...), "invalid value"},
		{"revise without id", []string{"plan", "revise", "--step", "compromised:require_step_up"}, "revise: name the id first"},
		{"show non-numeric id", []string{"plan", "show", "abc"}, `show: id "abc" must be a positive integer`},
		{"show without id", []string{"plan", "show"}, "show: name the id first"},
		{"list without incident", append([]string{"plan", "list"}, url...), "--incident: required"},
		{"list non-numeric incident", append([]string{"plan", "list", "--incident", "x"}, url...), "invalid value"},
		{"approve id zero", []string{"plan", "approve", "0"}, `approve: id "0" must be a positive integer`},
		{"run alone", []string{"run"}, "Usage: firebreak run"},
		{"unknown run command", []string{"run", "stop", "1"}, `unknown command "stop"`},
		{"run show non-numeric id", []string{"run", "show", "one"}, `show: id "one" must be a positive integer`},
		{"run start without id", []string{"run", "start", "--watch"}, "start: name the id first"},
		{"run items unknown flag", []string{"run", "items", "1", "--bogus"}, "flag provided but not defined: -bogus"},
		{"rollback non-numeric stage", []string{"run", "rollback", "1", "--stage", "two"}, "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := cli(t, tc.args...)
			if !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want errUsage", err)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
	t.Run("server unreachable", func(t *testing.T) {
		_, _, err := cli(t, append([]string{"plan", "show", "1"}, url...)...)
		if err == nil || errors.Is(err, errUsage) {
			t.Errorf("err = %v, want a connection error", err)
		}
	})
}
