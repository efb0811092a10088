package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A stuffing attack replayed with --incidents comes out as one credential
// stuffing incident whose tiers name accounts, and the report measures the
// tiers against the labels.
func TestReplayIncidents(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "stuffing.ndjson")
	err := run(context.Background(), []string{"simulate", "--accounts", "20000", "--days", "14", "--scenario", "stuffing", "--out", in}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "incidents.json")
	stdout, stderr, err := replayRun(t, "--input", in, "--incidents", out, "--report", "json")
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var incidents []incidentJSON
	if err := json.Unmarshal(data, &incidents); err != nil {
		t.Fatalf("incidents file is not JSON: %v", err)
	}
	var stuffing []incidentJSON
	for _, inc := range incidents {
		if inc.Kind == "credential_stuffing" {
			stuffing = append(stuffing, inc)
		}
	}
	if len(stuffing) != 1 {
		t.Fatalf("credential stuffing incidents = %d, want exactly 1 (all: %d)", len(stuffing), len(incidents))
	}
	if n := len(stuffing[0].Tiers["targeted"]) + len(stuffing[0].Tiers["compromised"]); n < 50 {
		t.Errorf("stuffing incident names %d accounts in its tiers, want many", n)
	}
	var report struct {
		Incidents incidentReport `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	q := report.Incidents.Quality
	if q == nil || q.Attacked == 0 || len(q.Tiers) != 3 {
		t.Fatalf("tier quality = %+v, want the three tiers measured against the labels", q)
	}
}

func TestReplayIncidentsNeedDetection(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"replay", "--input", "x.ndjson", "--no-detect", "--incidents", "out.json"}, io.Discard, &stderr)
	if err != errUsage || !strings.Contains(stderr.String(), "--incidents needs detection") {
		t.Errorf("err = %v, stderr %q: want a usage error naming the conflict", err, stderr.String())
	}
}
