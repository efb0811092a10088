package outbox_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/notice"
)

// BenchmarkEnqueue1M renders 1,000,000 notices of one incident with the
// embedded templates (10% compromised, 30% at risk, 60% targeted; a fifth
// in German), one render worker per core, and enqueues them durably into
// a fresh SQLite file in batches of firebreak.MaxBatch: the issue's "1M
// notices rendered and queued in ≤ 60 s". Sub-benchmarks: all in-app, all
// email (subject, text and HTML stored), and mixed (every other person by
// email). It reports the seconds for the million, the part of them spent
// in Enqueue (SQLite, serial), and ns/notice.
//
//	go test -run XXX -bench Enqueue1M -benchtime 1x -count 3 ./outbox
func BenchmarkEnqueue1M(b *testing.B) {
	set, err := notice.Load(notice.LintConfig{AllowedHosts: []string{"status.example.com"}}, notice.Embedded())
	if err != nil {
		b.Fatal(err)
	}
	for _, ch := range []firebreak.Channel{firebreak.ChannelInApp, firebreak.ChannelEmail, "mixed"} {
		b.Run(string(ch), func(b *testing.B) {
			total := 1_000_000
			if s := os.Getenv("OUTBOX_BENCH_TOTAL"); s != "" { // for profiling a smaller run
				total, _ = strconv.Atoi(s)
			}
			var elapsed, inStore time.Duration
			for b.Loop() {
				b.StopTimer()
				db, store := openStore(b, dbPath(b))
				incident := createIncident(b, db)
				b.StartTimer()
				start := time.Now()
				queue := make(chan []firebreak.Notice, 4)
				go renderAll(b, set, ch, incident, total, queue)
				added := 0
				for batch := range queue {
					t := time.Now()
					n, err := store.Enqueue(context.Background(), batch)
					inStore += time.Since(t)
					if err != nil {
						b.Fatal(err)
					}
					added += n
				}
				elapsed += time.Since(start)
				if added != total {
					b.Fatalf("added %d notices, want %d", added, total)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			per := float64(elapsed.Nanoseconds()) / float64(b.N) / float64(total)
			b.ReportMetric(per, "ns/notice")
			b.ReportMetric(per*1e6/1e9, "s/1M")
			// The time in Enqueue alone: SQLite's share, which is serial.
			b.ReportMetric(float64(inStore.Nanoseconds())/float64(b.N)/float64(total)*1e6/1e9, "enqueue-s/1M")
		})
	}
}

// renderAll renders total notices with one worker per core and sends them
// in batches on queue, which it closes at the end.
func renderAll(b *testing.B, set *notice.Set, ch firebreak.Channel, incident int64, total int, queue chan<- []firebreak.Notice) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			renderShare(b, set, ch, incident, w, workers, total, queue)
		}()
	}
	wg.Wait()
	close(queue)
}

// renderShare renders every workers-th notice from w on; templates are
// looked up once per (tier, locale), then per person only Execute runs.
func renderShare(b *testing.B, set *notice.Set, ch firebreak.Channel, incident int64, w, workers, total int, queue chan<- []firebreak.Notice) {
	base := *notice.SampleData("Example Corp", "https://status.example.com/incidents/42")
	base.Incident.ID = incident
	cache := map[[3]string]*notice.Template{}
	batch := make([]firebreak.Notice, 0, firebreak.MaxBatch)
	for i := w; i < total; i += workers {
		d := base
		d.Tier = tierOf(i)
		d.Account = "user-" + strconv.Itoa(i)
		d.Actions = notice.Actions{}
		if d.Tier != firebreak.TierTargeted {
			d.Actions = notice.Actions{ResetRequired: true, SessionsRevoked: d.Tier == firebreak.TierCompromised}
		}
		locale := "en"
		if i%5 == 0 {
			locale = "de"
		}
		chi := ch
		if ch == "mixed" { // every other person by email, the rest in-app
			chi = []firebreak.Channel{firebreak.ChannelEmail, firebreak.ChannelInApp}[i%2]
		}
		key := [3]string{string(d.Tier), locale, string(chi)}
		tm := cache[key]
		if tm == nil {
			var err error
			if tm, err = set.Lookup(d.Incident.Kind, d.Tier, chi, locale); err != nil {
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
		batch = append(batch, firebreak.Notice{IncidentID: incident, Account: d.Account, Template: m.Template,
			Channel: chi, Locale: m.Locale, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
		if len(batch) == cap(batch) {
			queue <- batch
			batch = make([]firebreak.Notice, 0, firebreak.MaxBatch)
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
