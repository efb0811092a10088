package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

// openServe opens a real `firebreak serve` in-process on dir, listening on
// a free loopback port, and waits until it is ready.
func openServe(t *testing.T, dir string) (*ServeCommand, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	c := NewServeCommand(io.Discard, logs)
	c.Config.Addr, c.Config.DataDir, c.Config.LogLevel = "127.0.0.1:0", dir, "warn"
	c.Config.Token = testToken
	if err := c.Open(context.Background()); err != nil {
		c.Close()
		t.Fatalf("open serve: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	waitReady(t, c.Server.URL(), 30*time.Second)
	return c, logs
}

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c, logs := openServe(t, dir)
	base := c.Server.URL()

	t.Run("batch with invalid lines", func(t *testing.T) { checkMixedBatch(t, base) })
	t.Run("gzip batch", func(t *testing.T) { checkGzipBatch(t, base) })
	t.Run("score", func(t *testing.T) { checkScore(t, base) })
	t.Run("health", func(t *testing.T) { checkHealth(t, base) })

	// 3 + 5 events posted, 1 scored: 9 journaled events, 1 of them failed.
	before := waitStats(t, base, 10*time.Second, func(s firebreak.EngineStats) bool { return s.Events == 9 })
	t.Run("stats", func(t *testing.T) {
		if got, want := before.JournalSeq, uint64(9); got != want {
			t.Errorf("journal_seq = %d, want %d", got, want)
		}
		if got, want := before.Failures, int64(1); got != want {
			t.Errorf("failures = %d, want %d", got, want)
		}
		if got, want := before.Accounts, 7; got != want {
			t.Errorf("accounts = %d, want %d", got, want)
		}
		if !before.Ready || before.QueueLength != 0 {
			t.Errorf("ready = %v, queue_length = %d; want true, 0", before.Ready, before.QueueLength)
		}
	})
	t.Run("metrics", func(t *testing.T) { checkMetrics(t, base) })
	t.Run("page", func(t *testing.T) { checkPage(t, base) })
	t.Run("incidents", func(t *testing.T) {
		// The incident store is wired: an empty list, not a 503.
		code, body := get(t, base+"/api/v1/incidents")
		if code != 200 || !strings.Contains(body, `"incidents":[]`) {
			t.Errorf("GET /api/v1/incidents = %d %s, want 200 with an empty list", code, body)
		}
		if code, _ := get(t, base+"/api/v1/incidents/42"); code != 404 {
			t.Errorf("GET /api/v1/incidents/42 = %d, want 404", code)
		}
	})

	if err := c.Close(); err != nil {
		t.Fatalf("close: %v\nlogs:\n%s", err, logs.String())
	}
	t.Run("reopen from snapshot", func(t *testing.T) { checkReopenSnapshot(t, dir, before) })
	t.Run("reopen from journal only", func(t *testing.T) { checkReopenJournal(t, dir, before) })
}

// checkMixedBatch posts an NDJSON batch where lines 2, 4 and 5 are bad and
// line 6 blank: the good lines are accepted, the bad ones named.
func checkMixedBatch(t *testing.T, base string) {
	body := strings.Join([]string{
		eventLine("alice", "192.0.2.1", "d-alice", "success"),
		`{"time":"` + time.Now().UTC().Format(time.RFC3339) + `","account":"bob","outcome":"success"}`,
		eventLine("carol", "192.0.2.3", "d-carol", "success"),
		`{"time":"2026-01-01T00:00:00Z","acc`,
		`{"time":"2026-01-01T00:00:00Z","account":"dave","outcome":"maybe","ip":"192.0.2.4"}`,
		``,
		eventLine("erin", "192.0.2.5", "d-erin", "failure"),
	}, "\n") + "\n"
	code, data, err := postBody(context.Background(), base+"/api/v1/events", "application/x-ndjson", "", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", code, data)
	}
	var got fbhttp.EventsResponse
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	if got.Accepted != 3 || got.Rejected != 3 {
		t.Errorf("accepted %d, rejected %d; want 3, 3", got.Accepted, got.Rejected)
	}
	want := []struct {
		line  int
		field string
	}{{2, "ip"}, {4, ""}, {5, "outcome"}}
	if len(got.Errors) != len(want) {
		t.Fatalf("errors = %+v, want %d of them", got.Errors, len(want))
	}
	for i, w := range want {
		if e := got.Errors[i]; e.Line != w.line || e.Field != w.field || e.Reason == "" {
			t.Errorf("errors[%d] = %+v, want line %d field %q with a reason", i, e, w.line, w.field)
		}
	}
}

func checkGzipBatch(t *testing.T, base string) {
	var raw bytes.Buffer
	for i := range 5 {
		fmt.Fprintln(&raw, eventLine(fmt.Sprintf("gz%d", i), fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("d-gz%d", i), "success"))
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	code, data, err := postBody(context.Background(), base+"/api/v1/events", "application/x-ndjson", "gzip", zipped.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var got fbhttp.EventsResponse
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	if code != http.StatusAccepted || got.Accepted != 5 || got.Rejected != 0 {
		t.Errorf("status %d, accepted %d, rejected %d; want 202, 5, 0 (body %s)", code, got.Accepted, got.Rejected, data)
	}
}

func checkScore(t *testing.T, base string) {
	code, data, err := postBody(context.Background(), base+"/api/v1/score", "application/json", "",
		[]byte(eventLine("alice", "192.0.2.1", "d-alice", "success")))
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", code, data)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	for _, key := range []string{"score", "decision", "reasons", "thresholds"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("response lacks %q: %s", key, data)
		}
	}
	var got fbhttp.ScoreResponse
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Score < 0 || got.Score > 1 {
		t.Errorf("score = %g, want within [0, 1]", got.Score)
	}
	if !slices.Contains([]string{"allow", "challenge", "deny"}, got.Decision) {
		t.Errorf("decision = %q", got.Decision)
	}
	if got.Reasons == nil {
		t.Errorf("reasons is null, want an array: %s", data)
	}
	// Fewer scores than the default warm-up: thresholds say so.
	if th := got.Thresholds; th.Source != "warmup" || th.Challenge <= 0 || th.Deny < th.Challenge {
		t.Errorf("thresholds = %+v, want warm-up thresholds with deny >= challenge > 0", th)
	}
}

func checkHealth(t *testing.T, base string) {
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s: status %d, body %q", path, code, body)
		}
	}
}

func checkMetrics(t *testing.T, base string) {
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", code)
	}
	for _, want := range []string{
		"firebreak_http_events_accepted_total 8\n",
		"firebreak_http_events_rejected_total 3\n",
		"firebreak_engine_events_total 9\n",
		"firebreak_engine_journal_seq 9\n",
		"firebreak_engine_ready 1\n",
		`firebreak_http_requests_total{code="202",route="POST /api/v1/events"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func checkPage(t *testing.T, base string) {
	code, body := get(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("GET /: status %d", code)
	}
	for _, want := range []string{"<html", "Thresholds in force", `data-stat="thresholds.challenge"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %q", want)
		}
	}
}

// checkReopenSnapshot reopens after a clean shutdown: the model comes back
// from the snapshot, and the journal continues its sequence.
func checkReopenSnapshot(t *testing.T, dir string, before firebreak.EngineStats) {
	c, _ := openServe(t, dir)
	got := stats(t, c.Server.URL())
	if got.JournalSeq != before.JournalSeq || got.Accounts != before.Accounts || got.Thresholds.Observed != before.Thresholds.Observed {
		t.Errorf("after reopen: journal_seq %d, accounts %d, observed %d; want %d, %d, %d",
			got.JournalSeq, got.Accounts, got.Thresholds.Observed, before.JournalSeq, before.Accounts, before.Thresholds.Observed)
	}
	code, data, err := postBody(context.Background(), c.Server.URL()+"/api/v1/events", "application/json", "",
		[]byte(eventLine("frank", "203.0.113.9", "d-frank", "success")))
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("post after reopen: status %d, err %v, body %s", code, err, data)
	}
	waitStats(t, c.Server.URL(), 10*time.Second, func(s firebreak.EngineStats) bool {
		return s.JournalSeq == before.JournalSeq+1 && s.Accounts == before.Accounts+1
	})
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// checkReopenJournal removes the snapshots: every event, including the one
// posted after the first reopen, is rebuilt from the journal alone.
func checkReopenJournal(t *testing.T, dir string, before firebreak.EngineStats) {
	if err := os.RemoveAll(filepath.Join(dir, "snapshots")); err != nil {
		t.Fatal(err)
	}
	c, _ := openServe(t, dir)
	got := stats(t, c.Server.URL())
	want := before.Events + 1
	if got.Events != want || got.JournalSeq != uint64(want) || got.Accounts != before.Accounts+1 {
		t.Errorf("rebuilt from the journal: events %d, journal_seq %d, accounts %d; want %d, %d, %d",
			got.Events, got.JournalSeq, got.Accounts, want, want, before.Accounts+1)
	}
	if got.Failures != before.Failures {
		t.Errorf("rebuilt failures = %d, want %d", got.Failures, before.Failures)
	}
}
