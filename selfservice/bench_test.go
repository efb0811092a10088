package selfservice_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkPageLoad offers 2,000 page requests per second for 2 seconds
// on loopback (half valid tokens, half tampered) and reports the p50 and
// p99 latency and the rate served.
//
//	go test ./selfservice -run XXX -bench PageLoad -benchtime 1x -count 3
func BenchmarkPageLoad(b *testing.B) {
	f := newFixture(b, open)
	paths := []string{f.srv.URL + "/self-service/" + f.token(b, "c0"), f.srv.URL + "/self-service/" + f.token(b, "c0")[1:] + "A"}
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 1024}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	const rps, span = 2000, 2 * time.Second
	for b.Loop() {
		var (
			mu   sync.Mutex
			lats []time.Duration
			wg   sync.WaitGroup
		)
		start := time.Now()
		n := int(rps * span.Seconds())
		for i := range n {
			// Send on schedule; when behind, catch up at once.
			if d := time.Until(start.Add(time.Duration(i) * time.Second / rps)); d > 0 {
				time.Sleep(d)
			}
			wg.Go(func() {
				t := time.Now()
				res, err := client.Get(paths[i%2])
				if err != nil {
					b.Error(err)
					return
				}
				res.Body.Close()
				d := time.Since(t)
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		took := time.Since(start)
		slices.Sort(lats)
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(lats))/took.Seconds(), "req/s")
	}
}
