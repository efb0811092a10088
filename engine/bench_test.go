package engine_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/engine"
	"firebreak/journal"
	"firebreak/sqlite"
)

// BenchmarkScoreOpenLoop offers Score calls at 5,000 per second, each on its
// own goroutine as HTTP handlers would call it, against a real journal with
// fsync, and reports latency percentiles. b.N is the number of calls.
func BenchmarkScoreOpenLoop(b *testing.B) {
	dir := b.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	db := sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
	if err := db.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e := engine.New(engine.DefaultConfig(), j, journal.SnapshotDir(filepath.Join(dir, "snapshots")), sqlite.NewLoginStore(db))
	if err := e.Open(); err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	const interval = 200 * time.Microsecond // 5,000 per second
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ev := firebreak.Event{Time: time.Now(), Account: fmt.Sprintf("u%d", i%5000), Outcome: firebreak.OutcomeSuccess,
				IP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
			t0 := time.Now()
			if _, _, err := e.Score(context.Background(), ev); err != nil {
				b.Error(err)
			}
			lat[i] = time.Since(t0)
		}(i)
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}
