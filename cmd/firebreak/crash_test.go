package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"firebreak"
	"firebreak/ingest"
	"firebreak/journal"
)

// Environment of a child process that is the real `firebreak serve`.
const (
	childEnv     = "FIREBREAK_TEST_CHILD_SERVE_DATA" // data directory
	childArgsEnv = "FIREBREAK_TEST_CHILD_SERVE_ARGS" // more serve flags, space-separated
	crashSeedEnv = "FIREBREAK_TEST_CRASH_SEED"       // overrides the kill-point seed
)

// TestMain lets the test binary re-execute itself as `firebreak serve`, so
// that the durability test can SIGKILL a real server process.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	os.Exit(m.Run())
}

// serveChild runs `firebreak serve` as main does, until SIGTERM.
func serveChild(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := []string{"serve", "-data", dir, "-addr", "127.0.0.1:0", "-log-level", "warn"}
	args = append(args, strings.Fields(os.Getenv(childArgsEnv))...)
	err := run(ctx, args, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "firebreak:", err)
		return 1
	}
	return 0
}

// child is one `firebreak serve` process.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	stdout := &syncBuffer{}
	c := &child{stderr: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0])
	c.cmd.Env = append(os.Environ(), childEnv+"="+dir, "FIREBREAK_TOKEN="+testToken)
	c.cmd.Stdout, c.cmd.Stderr = stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	c.url = waitURL(t, stdout, 60*time.Second, c.exited)
	if !strings.Contains(stdout.String(), "firebreak serving on "+c.url) {
		t.Fatalf("child printed %q, want the serve banner", stdout.String())
	}
	return c
}

// kill sends sig and waits for the process to end.
func (c *child) kill(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal child: %v", err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not exit within 30s of %v; stderr:\n%s", sig, c.stderr.String())
	}
}

// acks records the unique device ids of every event acknowledged with 202.
type acks struct {
	mu  sync.Mutex
	ids []string
}

func (a *acks) add(ids []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, ids...)
}

func (a *acks) snapshot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// TestDurabilityKill9 checks the promise that 202 means durable:
// senders post batches concurrently to a real `firebreak serve` process,
// which is SIGKILLed at a random moment while requests are in flight and
// restarted on the same data directory, three times. Every acknowledged
// event must then be counted by the API and be in the journal exactly once.
func TestDurabilityKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the kill -9 durability test in -short mode: it starts and kills server processes (about 15s)")
	}
	seed := uint64(20260226)
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("kill points from seed %d (set %s to change)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	sent, acked := &acks{}, &acks{}
	for round := range 3 {
		c := startChild(t, dir)
		waitReady(t, c.url, 30*time.Second)
		checkCounted(t, c.url, len(acked.snapshot()))
		delay := time.Duration(100+rng.IntN(500)) * time.Millisecond
		if err := loadAndKill(c, round, delay, sent, acked); err != nil {
			t.Fatalf("round %d: %v; stderr:\n%s", round, err, c.stderr.String())
		}
		t.Logf("round %d: killed %s after the first acknowledgement; %d events sent, %d acknowledged in total",
			round, delay, len(sent.snapshot()), len(acked.snapshot()))
	}
	c := startChild(t, dir)
	waitReady(t, c.url, 30*time.Second)
	checkCounted(t, c.url, len(acked.snapshot()))
	c.kill(t, syscall.SIGTERM)
	if c.err != nil {
		t.Errorf("serve exited with %v after SIGTERM, want status 0; stderr:\n%s", c.err, c.stderr.String())
	}
	checkJournal(t, filepath.Join(dir, "journal"), acked.snapshot(), sent.snapshot())
}

// checkCounted checks, after a restart, that the replayed journal holds at
// least every acknowledged event and that replay scored all of it.
func checkCounted(t *testing.T, base string, acked int) {
	t.Helper()
	s := stats(t, base)
	if s.JournalSeq < uint64(acked) {
		t.Fatalf("journal_seq %d after restart, but %d events were acknowledged", s.JournalSeq, acked)
	}
	if s.Events != int64(s.JournalSeq) {
		t.Errorf("events %d after replay, want journal_seq %d (no snapshot exists after kill -9)", s.Events, s.JournalSeq)
	}
}

// loadAndKill posts batches from several goroutines and SIGKILLs the child
// after delay, once at least one batch is acknowledged. It records the ids
// of every event sent and of every event acknowledged.
func loadAndKill(c *child, round int, delay time.Duration, sent, acked *acks) error {
	const senders, batchSize = 4, 40
	var wg sync.WaitGroup
	firstAck := make(chan struct{})
	var once sync.Once
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				ids, body := crashBatch(round, g, b, batchSize)
				sent.add(ids)
				code, _, err := postBody(context.Background(), c.url+"/api/v1/events", "application/x-ndjson", "", body)
				if code == http.StatusAccepted {
					// The status line is written only after the fsync.
					acked.add(ids)
					once.Do(func() { close(firstAck) })
				}
				if err != nil {
					return // the server is gone
				}
			}
		}()
	}
	select {
	case <-firstAck:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		wg.Wait()
		return errors.New("no batch acknowledged within 30s")
	}
	time.Sleep(delay)
	err := c.cmd.Process.Kill()
	wg.Wait()
	<-c.exited
	return err
}

// crashBatch returns a batch of events with unique device ids.
func crashBatch(round, sender, batch, n int) ([]string, []byte) {
	ids := make([]string, n)
	var body []byte
	for i := range ids {
		ids[i] = fmt.Sprintf("k%d-s%d-b%d-e%d", round, sender, batch, i)
		account := fmt.Sprintf("acct-%d-%d", sender, i%7)
		ip := fmt.Sprintf("10.%d.%d.%d", round, sender, i+1)
		body = append(body, eventLine(account, ip, ids[i], "success")...)
		body = append(body, '\n')
	}
	return ids, body
}

// checkJournal reads the journal directly and checks that it is a gap-free
// sequence of events the test sent, each at most once, and that every
// acknowledged event is in it.
func checkJournal(t *testing.T, dir string, acked, sent []string) {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	defer j.Close()
	seen := map[string]int{}
	next := uint64(1)
	err = j.Replay(1, func(seq uint64, rec []byte) error {
		if seq != next {
			return fmt.Errorf("seq %d follows %d", seq, next-1)
		}
		next++
		var e firebreak.Event
		if err := ingest.ParseNative(rec, &e, time.Time{}); err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		seen[e.DeviceID]++
		return nil
	})
	if err != nil {
		t.Fatalf("replay journal: %v", err)
	}
	wasSent := make(map[string]bool, len(sent))
	for _, id := range sent {
		wasSent[id] = true
	}
	for id, n := range seen {
		if n != 1 || !wasSent[id] {
			t.Errorf("event %q is in the journal %d times, want once and only if sent", id, n)
		}
	}
	missing := 0
	for _, id := range acked {
		if seen[id] == 0 {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged event %s is not in the journal", id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged events lost", missing, len(acked))
	}
	t.Logf("journal: %d records, %d acknowledged events all present", next-1, len(acked))
}
