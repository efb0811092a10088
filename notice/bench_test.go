package notice_test

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/notice"
)

// BenchmarkExecute renders one notice per op on one core.
func BenchmarkExecute(b *testing.B) {
	s := loadDefaults(b)
	for _, ch := range []firebreak.Channel{firebreak.ChannelEmail, firebreak.ChannelSMS, firebreak.ChannelInApp} {
		b.Run(string(ch), func(b *testing.B) {
			d := sample(firebreak.KindCredentialStuffing, firebreak.TierCompromised)
			tm, err := s.Lookup(d.Incident.Kind, d.Tier, ch, "en")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				d.Account = "user" + strconv.Itoa(i)
				if _, err := tm.Execute(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueue1M renders 1,000,000 notices of one incident (10%
// compromised, 30% at risk, 60% targeted; a fifth in German) with one worker
// per core, builds a firebreak.Notice for each and queues them in batches of
// 1,000 on a channel that one consumer drains, as the durable queue will.
// It reports ns/notice and the time for the million.
func BenchmarkQueue1M(b *testing.B) {
	s := loadDefaults(b)
	for _, ch := range []firebreak.Channel{firebreak.ChannelEmail, firebreak.ChannelInApp} {
		b.Run(string(ch), func(b *testing.B) {
			const total = 1_000_000
			var elapsed time.Duration
			for b.Loop() {
				start := time.Now()
				if got := queueAll(b, s, ch, total); got != total {
					b.Fatalf("queued %d notices, want %d", got, total)
				}
				elapsed += time.Since(start)
			}
			per := float64(elapsed.Nanoseconds()) / float64(b.N) / total
			b.ReportMetric(per, "ns/notice")
			b.ReportMetric(per*total/1e9, "s/1M")
		})
	}
}

func queueAll(b *testing.B, s *notice.Set, ch firebreak.Channel, total int) int {
	workers := runtime.GOMAXPROCS(0)
	queue := make(chan []firebreak.Notice, 64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			renderShare(b, s, ch, w, workers, total, queue)
		}()
	}
	go func() { wg.Wait(); close(queue) }()
	n := 0
	for batch := range queue {
		n += len(batch)
	}
	return n
}

// renderShare renders every workers-th notice from w on; templates are
// looked up once per (tier, locale), then per person only Execute runs.
func renderShare(b *testing.B, s *notice.Set, ch firebreak.Channel, w, workers, total int, queue chan<- []firebreak.Notice) {
	base := *sample(firebreak.KindCredentialStuffing, firebreak.TierTargeted)
	cache := map[[2]string]*notice.Template{}
	batch := make([]firebreak.Notice, 0, 1000)
	now := time.Now()
	for i := w; i < total; i += workers {
		d := base
		d.Tier = tierOf(i)
		d.Account = "user-" + strconv.Itoa(i)
		if d.Tier != firebreak.TierTargeted {
			d.Actions = notice.Actions{ResetRequired: true, SessionsRevoked: d.Tier == firebreak.TierCompromised}
		}
		locale := "en"
		if i%5 == 0 {
			locale = "de"
		}
		key := [2]string{string(d.Tier), locale}
		tm := cache[key]
		if tm == nil {
			var err error
			if tm, err = s.Lookup(d.Incident.Kind, d.Tier, ch, locale); err != nil {
				b.Error(err)
				return
			}
			cache[key] = tm
		}
		m, err := tm.Execute(&d)
		if err != nil {
			b.Error(err)
			return
		}
		batch = append(batch, firebreak.Notice{IncidentID: d.Incident.ID, Account: d.Account, Template: m.Template,
			Channel: ch, Locale: m.Locale, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			State: firebreak.NoticeQueued, CreatedAt: now})
		if len(batch) == cap(batch) {
			queue <- batch
			batch = make([]firebreak.Notice, 0, 1000)
		}
	}
	if len(batch) > 0 {
		queue <- batch
	}
}

func tierOf(i int) firebreak.Tier {
	switch i % 10 {
	case 0:
		return firebreak.TierCompromised
	case 1, 2, 3:
		return firebreak.TierAtRisk
	}
	return firebreak.TierTargeted
}

// BenchmarkLoadDefaults parses and lints the embedded templates.
func BenchmarkLoadDefaults(b *testing.B) {
	for b.Loop() {
		loadDefaults(b)
	}
}
