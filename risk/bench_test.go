package risk_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/risk"
)

// population of synthetic accounts: ids and two device ids each.
type synth struct {
	ids  []string
	devs [][2]string
}

func newSynth(accounts int) *synth {
	s := &synth{ids: make([]string, accounts), devs: make([][2]string, accounts)}
	for i := range s.ids {
		s.ids[i] = fmt.Sprintf("u%07d", i)
		s.devs[i] = [2]string{fmt.Sprintf("d%07da", i), fmt.Sprintf("d%07db", i)}
	}
	return s
}

// events returns n pre-decoded logins spread over the accounts, each account
// with a home network, a second network and two devices. Strings are cloned,
// so each event's are freshly allocated, as a decoder's would be.
func (s *synth) events(n int, seed uint64) []firebreak.Event {
	rng := rand.New(rand.NewPCG(seed, 7))
	countries := []string{"US", "GB", "DE", "FR", "BR", "IN", "NO", "SE", "ES", "IT"}
	browsers := []string{"Chrome", "Firefox", "Safari", "Edge"}
	evs := make([]firebreak.Event, n)
	for i := range evs {
		a := rng.IntN(len(s.ids))
		c := a % len(countries)
		ip := [4]byte{byte(20 + c), byte(a >> 12), byte(a >> 4), byte(a<<4) | byte(rng.IntN(4))}
		if rng.IntN(10) == 0 {
			ip[0] += 100
		}
		evs[i] = firebreak.Event{
			Time:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 50 * time.Millisecond),
			Account: strings.Clone(s.ids[a]), Outcome: firebreak.OutcomeSuccess,
			IP:      netip.AddrFrom4(ip),
			Country: countries[c], ASN: uint32(3000 + c*7 + a%3),
			Agent:    firebreak.Agent{DeviceType: "desktop", OS: "Windows", Browser: browsers[a%4], Major: 120 + rng.IntN(2)},
			DeviceID: strings.Clone(s.devs[a][rng.IntN(2)]),
			Lat:      50, Lon: float64(c), HasGeo: true,
		}
		if rng.IntN(25) == 0 {
			evs[i].Outcome = firebreak.OutcomeFailure
		}
	}
	return evs
}

// BenchmarkAssess1M scores and learns pre-decoded events against a model
// holding a million accounts, and reports events/s and bytes per account.
// Events are made fresh in batches of 4096 outside the timer, as a decoder
// hands them over: a slice of millions of old events would make every event
// read a cache miss that the real pipeline does not pay.
func BenchmarkAssess1M(b *testing.B) {
	const accounts = 1_000_000
	pop := newSynth(accounts)
	warm := pop.events(2*accounts, 1)
	for i := range warm {
		warm[i].Outcome = firebreak.OutcomeSuccess
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before) // warm is already allocated and stays so
	m := risk.New(risk.Config{Policy: firebreak.DefaultPolicy(), Capacity: accounts})
	var r risk.Result
	for i := range warm {
		m.Assess(&warm[i], &r)
	}
	last := warm[len(warm)-1].Time
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(warm)
	warm = nil
	perAccount := float64(after.HeapAlloc-before.HeapAlloc) / float64(m.Accounts())

	const batch = 4096
	var evs []firebreak.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			evs = pop.events(batch, uint64(i)+3)
			for k := range evs {
				evs[k].Time = last.Add(time.Duration(i+k) * time.Millisecond)
			}
			b.StartTimer()
		}
		m.Assess(&evs[i%batch], &r)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(perAccount, "B/account")
}
