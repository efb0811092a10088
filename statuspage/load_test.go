package statuspage_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"firebreak/statuspage"
)

// loadResult is what an open-loop run measured.
type loadResult struct {
	sent, ok, limited, failed, dropped int
	p50, p99, max                      time.Duration
	elapsed                            time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("sent %d in %v: %d ok, %d 429, %d failed, %d not sent (too many in flight); latency p50 %v p99 %v max %v",
		r.sent, r.elapsed.Round(time.Millisecond), r.ok, r.limited, r.failed, r.dropped,
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond))
}

// runLoad sends GET url at perSecond for d, open loop: each request is due
// at a fixed time whatever happened to the ones before, and its latency
// counts from when it was due, so a slow server cannot hide queueing. At
// most maxInFlight requests run at once; beyond that a request is dropped
// and counted. client(i) names the client the i-th request comes from.
func runLoad(url string, perSecond int, d time.Duration, client func(i int) string) loadResult {
	const maxInFlight = 1024
	tr := &http.Transport{MaxIdleConnsPerHost: maxInFlight, MaxConnsPerHost: maxInFlight,
		DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	total := int(float64(perSecond) * d.Seconds())
	lat := make([]time.Duration, 0, total)
	var (
		mu                           sync.Mutex
		wg                           sync.WaitGroup
		ok, limited, failed, dropped atomic.Int64
	)
	sem := make(chan struct{}, maxInFlight)
	start := time.Now()
	interval := time.Second / time.Duration(perSecond)
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for i := 0; i < total; {
		now := <-ticker.C
		for ; i < total && !start.Add(time.Duration(i)*interval).After(now); i++ {
			due := start.Add(time.Duration(i) * interval)
			select {
			case sem <- struct{}{}:
			default:
				dropped.Add(1)
				continue
			}
			wg.Add(1)
			go func(i int, due time.Time) {
				defer func() { <-sem; wg.Done() }()
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("X-Client", client(i))
				res, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				took := time.Since(due)
				switch res.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					failed.Add(1)
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}(i, due)
		}
	}
	wg.Wait()
	r := loadResult{sent: total, ok: int(ok.Load()), limited: int(limited.Load()), failed: int(failed.Load()),
		dropped: int(dropped.Load()), elapsed: time.Since(start)}
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		r.p50, r.p99, r.max = lat[n/2], lat[n*99/100], lat[n-1]
	}
	return r
}

// TestLoad runs the open-loop load test: 2,000 requests/s on loopback for 5
// s against GET /, first from 200 clients within their limits, then from one
// client far over its limit. It is skipped unless FIREBREAK_LOADTEST=1:
//
//	FIREBREAK_LOADTEST=1 go test -run TestLoad -v ./statuspage
func TestLoad(t *testing.T) {
	if os.Getenv("FIREBREAK_LOADTEST") != "1" {
		t.Skip("set FIREBREAK_LOADTEST=1 to run the load test")
	}
	const perSecond, d = 2000, 5 * time.Second
	const limit, burst = 100, 50 // per client, for the flood
	e := benchEnv(t, func(c *statuspage.Config) {
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Client") }
		c.RateLimit, c.RateBurst = rate.Limit(limit), burst
	})
	t.Run("200 clients within limits", func(t *testing.T) {
		// Publish every second meanwhile, so that renders after
		// invalidation are part of what is measured.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
					e.h.Invalidate()
				}
			}
		}()
		r := runLoad(e.srv.URL+"/", perSecond, d, func(i int) string { return "c" + strconv.Itoa(i%200) })
		close(stop)
		t.Logf("within limits: %v", r)
		if r.ok != r.sent || r.p99 > 50*time.Millisecond {
			t.Errorf("want every request served with p99 ≤ 50ms")
		}
	})
	t.Run("one client over its limit", func(t *testing.T) {
		r := runLoad(e.srv.URL+"/", perSecond, d, func(int) string { return "flood" })
		bound := burst + int(float64(limit)*r.elapsed.Seconds())
		t.Logf("flood: %v; let through %d of at most %d (burst %d + %d/s × %v)", r, r.ok, bound, burst, limit, r.elapsed.Round(time.Millisecond))
		if r.ok > bound || r.p99 > 50*time.Millisecond {
			t.Errorf("let through %d (bound %d), p99 %v", r.ok, bound, r.p99)
		}
	})
}
