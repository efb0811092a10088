package idp_test

import (
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

// BenchmarkSimApply measures the in-process simulator's Apply throughput
// with every core calling, each call on a fresh target.
func BenchmarkSimApply(b *testing.B) {
	sim := idp.NewSim(idp.SimConfig{})
	var n atomic.Int64
	targets := make([]string, 1<<16)
	for i := range targets {
		targets[i] = "user-" + strconv.Itoa(i)
	}
	until := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := firebreak.ActionRequest{Action: firebreak.ActionLock, Target: targets[i&(1<<16-1)], Key: "k", Until: until}
			if err := sim.Apply(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkSimClientHTTP measures Apply through NewSimClient over loopback
// HTTP with 64 concurrent callers.
func BenchmarkSimClientHTTP(b *testing.B) {
	sim := idp.NewSim(idp.SimConfig{})
	srv := httptest.NewServer(idp.NewSimHandler(sim))
	defer srv.Close()
	c := idp.NewSimClient(srv.URL, nil)
	var n atomic.Int64
	until := time.Now().Add(time.Hour)
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 callers in all
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := firebreak.ActionRequest{Action: firebreak.ActionLock, Target: "user-" + strconv.FormatInt(n.Add(1), 10), Key: "k", Until: until}
			if err := c.Apply(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	if got := sim.TotalEffects(); got != int64(b.N) {
		b.Fatalf("%d effects for %d calls", got, b.N)
	}
}
