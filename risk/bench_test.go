package risk_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"firebreak"
	"firebreak/risk"
)

// syntheticEvents returns n pre-decoded logins spread over accounts, each
// account with a home network, a second network and two devices.
func syntheticEvents(accounts, n int, seed uint64) []firebreak.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	countries := []string{"US", "GB", "DE", "FR", "BR", "IN", "NO", "SE", "ES", "IT"}
	browsers := []string{"Chrome", "Firefox", "Safari", "Edge"}
	ids := make([]string, accounts)
	devs := make([][2]string, accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%07d", i)
		devs[i] = [2]string{fmt.Sprintf("d%07da", i), fmt.Sprintf("d%07db", i)}
	}
	evs := make([]firebreak.Event, n)
	for i := range evs {
		a := rng.IntN(accounts)
		c := a % len(countries)
		alt := rng.IntN(10) == 0
		ip := [4]byte{byte(20 + c), byte(a >> 12), byte(a >> 4), byte(a<<4) | byte(rng.IntN(4))}
		if alt {
			ip[0] += 100
		}
		evs[i] = firebreak.Event{
			Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 50 * time.Millisecond),
			Account: ids[a], Outcome: firebreak.OutcomeSuccess,
			IP:      netip.AddrFrom4(ip),
			Country: countries[c], ASN: uint32(3000 + c*7 + a%3),
			Agent:    firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: browsers[a%4], Major: 120 + rng.IntN(2)},
			DeviceID: devs[a][rng.IntN(2)],
			Lat:      50, Lon: float64(c), HasGeo: true,
		}
		if rng.IntN(25) == 0 {
			evs[i].Outcome = firebreak.OutcomeFailure
		}
	}
	return evs
}

// BenchmarkAssess1M scores and learns pre-decoded events against a model
// holding a million accounts. It reports events/s and bytes per account.
func BenchmarkAssess1M(b *testing.B) {
	const accounts = 1_000_000
	warm := syntheticEvents(accounts, 2*accounts, 1)
	for i := range warm {
		warm[i].Outcome = firebreak.OutcomeSuccess
	}
	evs := syntheticEvents(accounts, 1<<20, 2)
	shift := warm[len(warm)-1].Time.Sub(evs[0].Time) + time.Second
	for i := range evs {
		evs[i].Time = evs[i].Time.Add(shift)
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	pol := firebreak.DefaultPolicy()
	m := risk.New(risk.Config{Policy: pol, Capacity: accounts})
	var r risk.Result
	for i := range warm {
		m.Assess(&warm[i], &r)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perAccount := float64(after.HeapAlloc-before.HeapAlloc) / float64(m.Accounts())

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := &evs[i&(len(evs)-1)]
		m.Assess(e, &r)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(perAccount, "B/account")
	runtime.KeepAlive(warm)
}
