package eval_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/eval"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
	}
}

// labelledRun returns the same small labelled run scored by a fixed model
// and by the naive rule.
func labelledRun() (model, naive *eval.Report) {
	model = &eval.Report{Name: "model", Elapsed: 2 * time.Second}
	rule := eval.NewNaiveRule(2, time.Hour)
	naive = &eval.Report{Name: rule.String(), Elapsed: 2 * time.Second}
	events := []struct {
		e     *firebreak.Event
		score float64
	}{
		{login("alice", true, legit("")), 0.05},
		{login("alice", true, legit("")), 0.10},
		{login("bob", true, legit("traveller")), 0.30},
		{login("bob", false, attack("stuffing")), 0.40},
		{login("bob", false, attack("stuffing")), 0.50},
		{login("bob", false, attack("stuffing")), 0.60},
		{login("bob", true, ato("stuffing")), 0.97},
		{login("carol", true, legit("")), 0.20},
		{login("carol", true, ato("")), 0.15},
	}
	for i, ev := range events {
		ev.e.Time = t0.Add(time.Duration(i) * time.Minute)
		d := firebreak.Allow
		if ev.score > 0.9 {
			d = firebreak.Deny
		}
		model.Add(ev.e, verdict(ev.score, d))
		naive.Add(ev.e, rule.Assess(ev.e))
	}
	return model, naive
}

func TestWriteText(t *testing.T) {
	tests := []struct {
		name   string
		report func() *eval.Report
	}{
		{"labelled", func() *eval.Report { m, _ := labelledRun(); return m }},
		{"unlabelled", func() *eval.Report {
			var r eval.Report
			r.Add(login("a", true, nil), verdict(0.9, firebreak.Challenge))
			r.Add(login("a", false, nil), verdict(0.1, firebreak.Allow))
			return &r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.report().WriteText(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, "text-"+tt.name+".golden", b.Bytes())
		})
	}
}

func TestWriteComparison(t *testing.T) {
	model, naive := labelledRun()
	var b bytes.Buffer
	if err := eval.WriteComparison(&b, model, naive); err != nil {
		t.Fatal(err)
	}
	golden(t, "comparison.golden", b.Bytes())
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsAreReturned(t *testing.T) {
	model, _ := labelledRun()
	if err := model.WriteText(failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteText error = %v, want one wrapping disk full", err)
	}
	if err := eval.WriteComparison(failingWriter{}, model); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteComparison error = %v, want one wrapping disk full", err)
	}
}
