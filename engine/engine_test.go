package engine_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/engine"
	"firebreak/journal"
	"firebreak/mock"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func event(i int) firebreak.Event {
	return firebreak.Event{
		Time:    t0.Add(time.Duration(i) * time.Second),
		Account: fmt.Sprintf("u%04d", i%300),
		Outcome: firebreak.OutcomeSuccess,
		IP:      netip.AddrFrom4([4]byte{10, 1, byte(i % 300 / 250), byte(i % 250)}),
		Country: "NO", ASN: 2119,
	}
}

type harness struct {
	dir   string
	j     *journal.Journal
	e     *engine.Engine
	store *mock.LoginService
	mu    sync.Mutex
	saved []*firebreak.ScoredLogin
}

func open(t *testing.T, dir string, cfg engine.Config) *harness {
	t.Helper()
	h := &harness{dir: dir}
	j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.j = j
	h.store = &mock.LoginService{RecordScoredFn: func(_ context.Context, ls []*firebreak.ScoredLogin) error {
		h.mu.Lock()
		h.saved = append(h.saved, ls...)
		h.mu.Unlock()
		return nil
	}}
	h.e = engine.New(cfg, j, journal.SnapshotDir(filepath.Join(dir, "snapshots")), h.store)
	if err := h.e.Open(); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) close(t *testing.T) {
	t.Helper()
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.j.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitScored(t *testing.T, e *engine.Engine, n int64) firebreak.EngineStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := e.Stats(); s.Ready && s.Events >= n {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d scored events: %+v", n, e.Stats())
	return firebreak.EngineStats{}
}

func TestIngestConcurrentBatchesAreScoredOnceEach(t *testing.T) {
	cfg := engine.DefaultConfig()
	h := open(t, t.TempDir(), cfg)
	defer h.close(t)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 10; b++ {
				batch := make([]firebreak.Event, 100)
				for i := range batch {
					batch[i] = event(w*1000 + b*100 + i)
				}
				if err := h.e.Ingest(context.Background(), batch); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	s := waitScored(t, h.e, 8000)
	if s.Events != 8000 || s.JournalSeq != 8000 {
		t.Errorf("events = %d, journal seq = %d; want 8000 each", s.Events, s.JournalSeq)
	}
	if s.QueueLength != 0 {
		t.Errorf("queue length = %d, want 0", s.QueueLength)
	}
}

func TestRestartRebuildsFromSnapshotAndJournal(t *testing.T) {
	dir := t.TempDir()
	cfg := engine.DefaultConfig()
	cfg.SnapshotEvery = 1500
	h := open(t, dir, cfg)
	for b := 0; b < 20; b++ {
		batch := make([]firebreak.Event, 100)
		for i := range batch {
			batch[i] = event(b*100 + i)
		}
		if err := h.e.Ingest(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	before := waitScored(t, h.e, 2000)
	probe := event(5000)
	probe.Country, probe.ASN, probe.IP = "BR", 28573, netip.MustParseAddr("177.1.2.3")
	h.close(t)

	h = open(t, dir, cfg)
	defer h.close(t)
	after := waitScored(t, h.e, 0)
	if after.Accounts != before.Accounts || after.JournalSeq != 2000 {
		t.Errorf("after restart: accounts %d (want %d), journal seq %d (want 2000)", after.Accounts, before.Accounts, after.JournalSeq)
	}
	got, _, err := h.e.Score(context.Background(), probe)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reasons) == 0 {
		t.Errorf("probe from a new country after restart: no reasons (score %.3f); profiles were not restored", got.Score)
	}
}

func TestIngestRefusesWhenQueueFull(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.QueueSize = 50
	h := open(t, t.TempDir(), cfg)
	defer h.close(t)
	batch := make([]firebreak.Event, 51)
	for i := range batch {
		batch[i] = event(i)
	}
	err := h.e.Ingest(context.Background(), batch)
	if got := firebreak.ErrorCode(err); got != firebreak.ETOOMANYREQUEST {
		t.Fatalf("error code = %q (%v), want %q", got, err, firebreak.ETOOMANYREQUEST)
	}
	if got := h.j.LastSeq(); got != 0 {
		t.Errorf("journal seq = %d after a refused batch, want 0: nothing may be half-accepted", got)
	}
}

// An account change is journaled and counted, not scored as a login, and
// kept with the high-risk logins for the account's page.
func TestAccountChangeIsKeptNotScored(t *testing.T) {
	h := open(t, t.TempDir(), engine.DefaultConfig())
	batch := []firebreak.Event{event(1), event(2)}
	batch[1].Type = firebreak.TypeMFAEnroll
	if err := h.e.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	s := waitScored(t, h.e, 2)
	h.close(t) // flushes the high-risk writer
	if s.Successes != 1 || s.Changes != 1 {
		t.Errorf("successes = %d, account changes = %d; want 1 each", s.Successes, s.Changes)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.saved) != 1 || h.saved[0].Seq != 2 || h.saved[0].Event.Type != firebreak.TypeMFAEnroll || h.saved[0].Assessment.Score != 0 {
		t.Fatalf("kept %+v, want the change (seq 2) alone, unscored", h.saved)
	}
}
