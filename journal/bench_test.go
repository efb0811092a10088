package journal_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"firebreak/journal"
)

// event300 is a record the size of a typical native JSON login event.
var event300 = []byte(`{"time":"2026-03-02T08:15:04.123Z","account":"u0012345","outcome":"success","ip":"81.23.4.56","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36","device_id":"d-9f3a","country":"NO","region":"Viken","city":"Oslo","asn":2119,"lat":59.91,"lon":10.75,"method":"password","app":"web"}`)

func batchOf(n int) [][]byte {
	b := make([][]byte, n)
	for i := range b {
		b[i] = event300
	}
	return b
}

// BenchmarkAppend measures durable (fsynced) throughput with batches of 1000
// ~300-byte records, from one caller and from many callers at once.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		batch    int
		parallel bool
		noSync   bool
	}{
		{"batch1000", 1000, false, false},
		{"batch1000/parallel", 1000, true, false},
		{"batch100/parallel", 100, true, false},
		{"batch1000/nosync", 1000, false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			j := open(b, b.TempDir(), journal.Options{NoSync: bc.noSync})
			batch := batchOf(bc.batch)
			b.SetBytes(int64(bc.batch * len(event300)))
			b.ReportAllocs()
			if bc.parallel {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := j.Append(context.Background(), batch); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for b.Loop() {
					if _, err := j.Append(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(j.LastSeq())/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkAppendLatency measures one caller appending single records with
// fsync, and reports the latency percentiles.
func BenchmarkAppendLatency(b *testing.B) {
	j := open(b, b.TempDir(), journal.Options{})
	rec := [][]byte{event300}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := j.Append(context.Background(), rec); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkReplay measures reading records back, as on start-up.
func BenchmarkReplay(b *testing.B) {
	j := open(b, b.TempDir(), journal.Options{NoSync: true})
	batch := batchOf(1000)
	for range 100 {
		if _, err := j.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(100 * 1000 * len(event300)))
	for b.Loop() {
		n := 0
		err := j.Replay(1, func(_ uint64, rec []byte) error {
			if !bytes.Equal(rec, event300) {
				b.Fatal("bad record")
			}
			n++
			return nil
		})
		if err != nil || n != 100_000 {
			b.Fatalf("replayed %d, err %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*100_000)/b.Elapsed().Seconds(), "records/s")
}
