package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"firebreak"
)

// simulatedFile writes a small labelled population with the simulate
// command and returns its path and line count.
func simulatedFile(t *testing.T) (path string, lineCount int) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "mixed.ndjson")
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"simulate", "--accounts", "500", "--days", "7", "--scenario", "mixed", "--out", path}, io.Discard, &stderr)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, len(lines(string(data)))
}

// replayRun runs `firebreak replay` with args and returns its outputs.
func replayRun(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"replay"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

// scoreLineJSON is one line of a --scores file.
type scoreLineJSON struct {
	I        *int     `json:"i"`
	Score    *float64 `json:"score"`
	Decision string   `json:"decision"`
	Reasons  []string `json:"reasons"`
	Error    string   `json:"error"`
	Type     string   `json:"type"` // an account change, not scored
}

// readScores parses a --scores file and checks that line k has "i":k.
func readScores(t *testing.T, path string) []scoreLineJSON {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []scoreLineJSON
	for k, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var s scoreLineJSON
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("scores line %d is not JSON (%v): %s", k+1, err, l)
		}
		if s.I == nil || *s.I != k {
			t.Fatalf("scores line %d has i %v, want %d: %s", k+1, s.I, k, l)
		}
		switch {
		case s.Type != "":
			if s.Score != nil || s.Decision != "" || !slices.Contains(firebreak.EventTypes, s.Type) {
				t.Fatalf("scores line %d: an account change gets its type and no score: %s", k+1, l)
			}
		case s.Error == "":
			if s.Score == nil || *s.Score < 0 || *s.Score > 1 || !slices.Contains([]string{"allow", "challenge", "deny"}, s.Decision) {
				t.Fatalf("scores line %d: want a score in [0, 1] and a decision: %s", k+1, l)
			}
		}
		out = append(out, s)
	}
	return out
}

// replayReport is the part of the JSON report the tests read.
type replayReport struct {
	Model struct {
		Events    int64            `json:"events"`
		Accounts  int              `json:"accounts"`
		Successes int64            `json:"successes"`
		Decisions map[string]int64 `json:"decisions"`
		Quality   *struct {
			AUC       *float64 `json:"roc_auc"`
			ATOCaught struct {
				Of int64 `json:"of"`
			} `json:"ato_caught"`
		} `json:"quality"`
	} `json:"model"`
	Rejected   int64 `json:"rejected"`
	Thresholds *struct {
		Source string `json:"source"`
	} `json:"thresholds"`
}

func parseReport(t *testing.T, stdout string) replayReport {
	t.Helper()
	var r replayReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report is not JSON (%v):\n%s", err, stdout)
	}
	return r
}

func TestReplayScoresAndReport(t *testing.T) {
	in, n := simulatedFile(t)
	scores := filepath.Join(t.TempDir(), "scores.ndjson")
	stdout, stderr, err := replayRun(t, "--input", in, "--scores", scores, "--report", "json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	got := readScores(t, scores)
	if len(got) != n {
		t.Fatalf("%d score lines for %d input lines", len(got), n)
	}
	for k, s := range got {
		if s.Error != "" {
			t.Fatalf("line %d rejected: %s", k+1, s.Error)
		}
	}
	r := parseReport(t, stdout)
	if r.Model.Events != int64(n) || r.Rejected != 0 {
		t.Errorf("report: %d events, %d rejected; want %d, 0", r.Model.Events, r.Rejected, n)
	}
	if r.Model.Accounts < 100 || r.Model.Accounts > 500 {
		t.Errorf("report: %d accounts, want up to the 500 simulated", r.Model.Accounts)
	}
	var decided int64
	for _, d := range []string{"allow", "challenge", "deny"} {
		decided += r.Model.Decisions[d]
	}
	if decided != r.Model.Successes || decided == 0 {
		t.Errorf("decisions %v sum to %d, want the %d successful logins", r.Model.Decisions, decided, r.Model.Successes)
	}
	q := r.Model.Quality
	if q == nil || q.AUC == nil || *q.AUC < 0 || *q.AUC > 1 || q.ATOCaught.Of == 0 {
		t.Errorf("labelled quality missing or incomplete: %+v", q)
	}
	if r.Thresholds == nil || r.Thresholds.Source == "" {
		t.Error("report lacks the thresholds in force")
	}
}

func TestReplayGate(t *testing.T) {
	in, _ := simulatedFile(t)
	// A short warm-up so that a week of 500 accounts reaches the budget
	// thresholds; under the default 5,000-login warm-up nothing is challenged.
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("challenge_budget: 0.01\ndeny_budget: 0.0001\nwarm_up: 200\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		limit    string
		wantCode int // 0: success
	}{
		{"zero tolerance fails", "0", 3},
		{"limit of one passes", "1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := replayRun(t, "--input", in, "--policy", policy, "--max-challenge-rate", tt.limit)
			var ee *exitError
			switch {
			case tt.wantCode == 0 && err != nil:
				t.Fatalf("replay: %v\n%s", err, stderr)
			case tt.wantCode != 0 && !errors.As(err, &ee):
				t.Fatalf("replay returned %v, want an *exitError", err)
			case tt.wantCode != 0 && (ee.code != tt.wantCode || !strings.Contains(ee.Error(), "legitimate challenge rate")):
				t.Fatalf("exit %d %q, want exit %d naming the legitimate challenge rate", ee.code, ee.Error(), tt.wantCode)
			}
			if !strings.Contains(stdout, "rejected lines:") {
				t.Errorf("the text report is written whether or not the gate passes; stdout:\n%s", stdout)
			}
		})
	}
}

func TestReplayBadLine(t *testing.T) {
	in, _ := simulatedFile(t)
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	ls := lines(string(data))[:200]
	const bad = 50
	ls[bad] = `{"time":"2026-03-02T00:00:00Z","account":"x","outcome":"maybe","ip":"192.0.2.1"}`
	dir := t.TempDir()
	file, scores := filepath.Join(dir, "bad.ndjson"), filepath.Join(dir, "scores.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(ls, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := replayRun(t, "--input", file, "--scores", scores, "--report", "json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	got := readScores(t, scores)
	if len(got) != len(ls) {
		t.Fatalf("%d score lines for %d input lines", len(got), len(ls))
	}
	for k, s := range got {
		if rejected := s.Error != ""; rejected != (k == bad) {
			t.Errorf("scores line %d: error %q, want an error only on line %d", k+1, s.Error, bad+1)
		}
	}
	if e := got[bad].Error; !strings.Contains(e, "line 51") || !strings.Contains(e, "outcome") {
		t.Errorf("error %q, want it to name line 51 and the outcome field", e)
	}
	if r := parseReport(t, stdout); r.Rejected != 1 || r.Model.Events != int64(len(ls)-1) {
		t.Errorf("report: %d rejected, %d events; want 1, %d", r.Rejected, r.Model.Events, len(ls)-1)
	}
	if !strings.Contains(stderr, "rejected") {
		t.Errorf("stderr does not report the rejected line:\n%s", stderr)
	}
}

func TestReplayRBA(t *testing.T) {
	const in = "../../../shared/data/rba/rba-dataset-head.csv"
	if _, err := os.Stat(in); err != nil {
		t.Skipf("RBA sample not available (%v): it lives in the shared data directory beside the checkout", err)
	}
	scores := filepath.Join(t.TempDir(), "scores.ndjson")
	stdout, stderr, err := replayRun(t, "--input", in, "--format", "rba", "--scores", scores, "--report", "json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	got := readScores(t, scores)
	r := parseReport(t, stdout)
	if len(got) != 19 || r.Model.Events != 19 || r.Rejected != 0 {
		t.Errorf("%d score lines, %d events, %d rejected; want 19, 19, 0", len(got), r.Model.Events, r.Rejected)
	}
}

func TestReplayUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"missing input", []string{"--report", "json"}, "--input is required"},
		{"bad format", []string{"--input", "x", "--format", "xml"}, `--format "xml"`},
		{"bad report", []string{"--input", "x", "--report", "yaml"}, `--report "yaml"`},
		{"bad baseline", []string{"--input", "x", "--baseline", "smart"}, `--baseline "smart"`},
		{"rate above one", []string{"--input", "x", "--max-challenge-rate", "2"}, "--max-challenge-rate 2"},
		{"extra argument", []string{"--input", "x", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := replayRun(t, tt.args...)
			if !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want errUsage", err)
			}
			if !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "try: firebreak replay -h") {
				t.Errorf("stderr %q, want %q and a try: hint", stderr, tt.want)
			}
		})
	}
}
