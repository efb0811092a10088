package outbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
	"firebreak/outbox"
	"firebreak/sqlite"
)

// Environment of a child process that runs the sender.
const (
	crashChildEnv = "OUTBOX_TEST_CRASH_CHILD" // "<db path> <gateway URL> <incident id> <notices>"
	crashSeedEnv  = "OUTBOX_TEST_CRASH_SEED"  // overrides the kill-point seed
	crashLease    = time.Second
	crashInFlight = 64 // notices handed over and not yet recorded, at most
)

// TestMain lets the test binary re-execute itself as a sender process, so
// that the crash test can SIGKILL a real one.
func TestMain(m *testing.M) {
	if args := os.Getenv(crashChildEnv); args != "" {
		os.Exit(crashChild(args))
	}
	os.Exit(m.Run())
}

// crashChild enqueues the campaign's notices (again: a restarted campaign
// does that) and sends them until none is queued, then exits 0.
func crashChild(args string) int {
	var (
		path, url   string
		incident, n int64
	)
	if _, err := fmt.Sscan(args, &path, &url, &incident, &n); err != nil {
		fmt.Fprintln(os.Stderr, "child args:", err)
		return 2
	}
	if err := runCrashChild(path, url, incident, int(n)); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func runCrashChild(path, url string, incident int64, n int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()
	store := sqlite.NewNoticeStore(db)
	notices := chatNotices(incident, n)
	for start := 0; start < n; start += firebreak.MaxBatch {
		if _, err := store.Enqueue(ctx, notices[start:min(n, start+firebreak.MaxBatch)]); err != nil {
			return err
		}
	}
	wh, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelChat, URL: url, Secret: secret})
	if err != nil {
		return err
	}
	s, err := outbox.New(outbox.Config{Store: store, Channels: []firebreak.Channel{firebreak.ChannelChat},
		Lease: crashLease, InFlight: crashInFlight, Poll: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	d, err := channel.NewDispatcher(channel.DispatcherConfig{Senders: []firebreak.Sender{wh}, OnDelivery: s.OnDelivery,
		Policies: map[firebreak.ChannelKind]channel.Policy{firebreak.ChannelChat: {Workers: 8, RetryUnknown: true,
			BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second}}})
	if err != nil {
		return err
	}
	defer d.Close()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, d) }()
	for {
		time.Sleep(100 * time.Millisecond)
		counts, err := store.Counts(ctx, incident)
		if err != nil {
			return err
		}
		if c := counts[firebreak.ChannelChat]; c.Queued == 0 && c.Sent+c.Failed == int64(n) {
			cancel()
			return <-done
		}
	}
}

// crashChildProc is one sender process.
type crashChildProc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

func startCrashChild(t *testing.T, args string) *crashChildProc {
	c := &crashChildProc{exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), crashChildEnv+"="+args)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.exited })
	return c
}

// TestCrashExactlyOnce sends 20,000 chat notices through sender processes
// that are SIGKILLed at 20 or more random points (some inside the
// gateway's handler, after it counted a delivery and before it answered:
// the window between "provider accepted" and "recorded") and restarted on
// the same SQLite file. Afterwards there is exactly one notice per key,
// every notice is sent, the gateway saw every key, and duplicates are
// bounded by what one process can have in flight.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the SIGKILL crash test in -short mode: it starts and kills sender processes")
	}
	const total, kills = 20_000, 20
	seed := uint64(20261126)
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("kill points from seed %d (set %s to change)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 2))
	points := make([]int, 0, kills)
	for len(points) < kills {
		if p := 1 + rng.IntN(total-1); !slices.Contains(points, p) {
			points = append(points, p)
		}
	}
	slices.Sort(points)

	path := dbPath(t)
	db, _ := openStore(t, path)
	incident := createIncident(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rcv, srv := newReceiver(t)
	var (
		mu     sync.Mutex
		target *crashChildProc
		killAt = -1 // kill inside the handler when distinct keys reach this
		killed = make(chan struct{}, 1)
	)
	rcv.set(nil, func(distinct int) {
		mu.Lock()
		defer mu.Unlock()
		if target != nil && killAt >= 0 && distinct >= killAt {
			target.cmd.Process.Signal(syscall.SIGKILL)
			killAt = -1
			killed <- struct{}{}
		}
	})
	args := fmt.Sprintf("%s %s %d %d", path, srv.URL, incident, total)
	start := time.Now()
	for i, p := range points {
		c := startCrashChild(t, args)
		inHandler := i%2 == 0
		mu.Lock()
		target = c
		if inHandler {
			killAt = p
		}
		mu.Unlock()
		if inHandler {
			select {
			case <-killed:
			case <-c.exited:
				t.Fatalf("child %d exited before kill point %d: %v\n%s", i, p, c.err, c.stderr.String())
			case <-time.After(2 * time.Minute):
				t.Fatalf("kill point %d not reached", p)
			}
		} else {
			waitDistinct(t, rcv, c, p)
			time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond) // anywhere in claim, send or record
			c.cmd.Process.Signal(syscall.SIGKILL)
		}
		<-c.exited
		if !wasKilled(c) {
			t.Fatalf("child %d: %v, want killed\n%s", i, c.err, c.stderr.String())
		}
	}
	final := startCrashChild(t, args)
	select {
	case <-final.exited:
	case <-time.After(5 * time.Minute):
		t.Fatal("the last sender did not finish within 5 minutes")
	}
	if final.err != nil {
		t.Fatalf("last sender: %v\n%s", final.err, final.stderr.String())
	}
	elapsed := time.Since(start)
	checkCrashOutcome(t, path, rcv, incident, total, len(points))
	raw, distinct := rcv.counts()
	t.Logf("%d notices, %d kills (half inside the gateway's handler), %v: %d deliveries of %d distinct keys, %d duplicates",
		total, len(points), elapsed.Round(time.Millisecond), raw, distinct, raw-distinct)
}

func waitDistinct(t *testing.T, rcv *receiver, c *crashChildProc, p int) {
	for {
		if _, d := rcv.counts(); d >= p {
			return
		}
		select {
		case <-c.exited:
			t.Fatalf("child exited before kill point %d: %v\n%s", p, c.err, c.stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
}

func wasKilled(c *crashChildProc) bool {
	ee, ok := c.err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// checkCrashOutcome checks the database and the gateway after the crashes.
func checkCrashOutcome(t *testing.T, path string, rcv *receiver, incident int64, total, kills int) {
	t.Helper()
	_, store := openStore(t, path)
	raw0, err := sql.Open("sqlite", path+"?_pragma=query_only(1)") // the driver sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	defer raw0.Close()
	var rows, keys int
	err = raw0.QueryRow(`SELECT count(*), count(DISTINCT incident_id || '/' || account || '/' || template)
		FROM notices`).Scan(&rows, &keys)
	if err != nil {
		t.Fatal(err)
	}
	if rows != total || keys != total {
		t.Fatalf("%d notice rows with %d distinct keys, want exactly %d of each", rows, keys, total)
	}
	counts, err := store.Counts(context.Background(), incident)
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[firebreak.ChannelChat]; c.Sent != int64(total) {
		t.Fatalf("counts = %+v, want all %d sent", c, total)
	}
	raw, distinct := rcv.counts()
	for id := int64(1); id <= int64(total); id++ {
		if times, _ := rcv.delivered(outbox.Key(id)); times == 0 {
			t.Fatalf("the gateway never saw %s", outbox.Key(id))
		}
	}
	if distinct != total {
		t.Fatalf("the gateway saw %d distinct keys, want %d", distinct, total)
	}
	// A kill loses at most what one process had handed over and not yet
	// recorded; each of those is sent again under the same key.
	if limit := total + kills*crashInFlight; raw > limit {
		t.Fatalf("%d deliveries, more than %d notices + %d kills × %d in flight", raw, total, kills, crashInFlight)
	}
}
