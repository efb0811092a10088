package channel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
)

// BenchmarkSMTP sends b.N messages to the in-process go-smtp server over
// STARTTLS with AUTH, from as many goroutines as the pool has connections.
func BenchmarkSMTP(b *testing.B) {
	for _, conns := range []int{4, 8} {
		b.Run("conns="+strconv.Itoa(conns), func(b *testing.B) {
			ms := startMailServer(b, false)
			s := newSMTP(b, ms, func(c *channel.SMTPConfig) { c.Connections = conns })
			m := email("alice@example.org", "n-1")
			parallel(b, conns, func(i int) error { m := m; m.Key = "n-" + strconv.Itoa(i); return s.Send(context.Background(), m) })
			if got := ms.count.Load(); got < int64(b.N) {
				b.Fatalf("server received %d, want %d", got, b.N)
			}
		})
	}
}

// BenchmarkWebhook sends b.N signed SMS webhooks to an httptest server.
func BenchmarkWebhook(b *testing.B) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	w, err := channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelSMS, URL: srv.URL, Secret: []byte(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	m := sms("n-1")
	parallel(b, 16, func(i int) error { m := m; m.Key = "n-" + strconv.Itoa(i); return w.Send(context.Background(), m) })
	if n.Load() < int64(b.N) {
		b.Fatalf("server received %d, want %d", n.Load(), b.N)
	}
}

// parallel runs send b.N times from workers goroutines and reports
// messages per second.
func parallel(b *testing.B, workers int, send func(i int) error) {
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := send(int(i)); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkDispatcherSMTP is the end-to-end path: b.N messages enqueued,
// delivered by the Dispatcher's workers over the SMTP pool.
func BenchmarkDispatcherSMTP(b *testing.B) {
	ms := startMailServer(b, false)
	s := newSMTP(b, ms, func(c *channel.SMTPConfig) { c.Connections = 4 })
	d, err := channel.NewDispatcher(channel.DispatcherConfig{Senders: []firebreak.Sender{s},
		Policies: map[firebreak.ChannelKind]channel.Policy{firebreak.ChannelEmail: {Workers: 4, QueueSize: 4096}}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	m := email("alice@example.org", "n-1")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		m.Key = "n-" + strconv.Itoa(i)
		if err := d.Enqueue(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Wait(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if st := d.Stats(firebreak.ChannelEmail); st.Sent != int64(b.N) {
		b.Fatalf("sent %d of %d", st.Sent, b.N)
	}
}
