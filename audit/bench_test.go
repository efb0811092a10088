package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"firebreak"
	"firebreak/audit"
)

// BenchmarkAppend measures durable appends (records, hashes and a signed
// checkpoint fsynced before Append returns) from one caller and from 8
// concurrent callers, whose appends are group-committed.
func BenchmarkAppend(b *testing.B) {
	rec := record(1) // about 200 bytes of JSON
	for _, bc := range []struct {
		name    string
		writers int
	}{{"sequential", 1}, {"concurrent8", 8}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			l := openLog(b, dir)
			b.ReportAllocs()
			if bc.writers == 1 {
				for b.Loop() {
					if _, err := l.Append(ctx, rec); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				// RunParallel starts parallelism×GOMAXPROCS goroutines.
				b.SetParallelism(max(1, bc.writers/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Append(ctx, rec); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(l.Size())/b.Elapsed().Seconds(), "appends/s")
			l.Close()
			cps, _ := os.ReadFile(filepath.Join(dir, "checkpoints"))
			commits := bytes.Count(cps, []byte("go.sum database tree\n")) - 1
			b.ReportMetric(float64(l.Size())/float64(max(1, commits)), "records/commit")
		})
	}
}

// BenchmarkVerify measures Verify over a log of 10,000 records.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	l := openLog(b, dir)
	const n = 10_000
	for i := 0; i < n; i += 100 {
		batch := make([]firebreak.AuditRecord, 100)
		for j := range batch {
			batch[j] = record(i + j)
		}
		if _, err := l.AppendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	key := l.VerifierKey()
	l.Close()
	for b.Loop() {
		if _, err := audit.Verify(dir, key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
