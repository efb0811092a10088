package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
)

func TestDemoSmoke(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		// --duration bounds the demo if the test fails; a passing test cancels it.
		err = run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--data", dir,
			"--accounts", "3000", "--days", "14", "--speed", "100000", "--duration", "90s"}, stdout, stderr)
	}()
	t.Cleanup(func() { cancel(); <-done }) // before dir is removed
	base := waitURL(t, stdout, 60*time.Second, done)
	// The demo creates an operator and prints how to sign in.
	m := regexp.MustCompile(`(?i)sign in as (\S+) with password (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("the demo does not say how to sign in; stdout:\n%s", stdout.String())
	}
	client := signIn(t, base, m[1], m[2])
	waitStatsWith(t, client, base, 20*time.Second, func(s firebreak.EngineStats) bool { return s.Events > 0 })
	// At 100,000x the live part of 14 days plays in a few seconds.
	history, live := demoPlan(t, stdout, done)
	total := int64(history + live)
	s := waitStatsWith(t, client, base, 20*time.Second, func(s firebreak.EngineStats) bool { return s.Events == total })
	if !s.Ready || s.JournalSeq != uint64(total) || s.Accounts == 0 {
		t.Errorf("stats %+v: want ready, %d events journaled, accounts tracked", s, total)
	}
	code, page := getWith(t, client, base+"/")
	if code != http.StatusOK {
		t.Fatalf("GET /: status %d", code)
	}
	for _, want := range []string{"Thresholds in force", `data-stat="thresholds.challenge"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The demo contains its incident, then mirrors it on the public status
	// page, which anyone can read without signing in.
	deadline := time.Now().Add(45 * time.Second)
	for !strings.Contains(stdout.String(), "published it on the public status page") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not contain its incident and publish within 45s; stdout:\n%s", stdout.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "is contained") {
		t.Errorf("the demo did not report its incident contained; stdout:\n%s", stdout.String())
	}
	code, page = get(t, base+"/status/")
	if code != http.StatusOK || !strings.Contains(page, "affected accounts secured") {
		t.Errorf("GET /status/ without signing in = %d, want the demo's update:\n%s", code, page)
	}
	// Then it tells exactly the accounts it secured, in the app: the
	// campaign is announced on the status page, the outbox fills and
	// delivers, and the affected person's link comes from their feed.
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "self-service page of a targeted account") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not notify and print self-service links within 30s; stdout:\n%s", stdout.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	m = regexp.MustCompile(`outbox holds (\d+) in-app notices \((\d+) sent, 0 queued, 0 failed\), none to the`).FindStringSubmatch(stdout.String())
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("the demo's outbox did not deliver every notice; stdout:\n%s", stdout.String())
	}
	if !regexp.MustCompile(`from its in-app notice: http://\S+/self-service/\S+`).MatchString(stdout.String()) {
		t.Errorf("the affected account's self-service link does not come from its in-app feed; stdout:\n%s", stdout.String())
	}
	if code, page = get(t, base+"/status/"); !strings.Contains(page, "We are notifying the affected accounts") {
		t.Errorf("GET /status/ = %d: the notices were not announced:\n%s", code, page)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of cancellation")
	}
	if err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
	}
	// Nothing along the way may have failed quietly: an incident the store
	// refused, a notice that could not be queued.
	if log := stderr.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the demo logged errors:\n%s", log)
	}
}

// demoPlan waits for the demo to finish playing and returns the number of
// history and live events it announced.
func demoPlan(t *testing.T, stdout *syncBuffer, done <-chan struct{}) (history, live int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "simulation finished") {
		select {
		case <-done:
			t.Fatalf("demo stopped early; stdout:\n%s", stdout.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("simulation not finished within 30s; stdout:\n%s", stdout.String())
		}
	}
	m := regexp.MustCompile(`loaded (\d+) events of history; playing (\d+) more`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("stdout lacks the plan:\n%s", stdout.String())
	}
	history, _ = strconv.Atoi(m[1])
	live, _ = strconv.Atoi(m[2])
	if history == 0 || live == 0 {
		t.Fatalf("plan of %d history and %d live events, want both", history, live)
	}
	return history, live
}
