package channel_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"firebreak"
	"firebreak/channel"
)

// fakeSender is a hand-written fake: SendFn decides every attempt.
type fakeSender struct {
	kind   firebreak.ChannelKind
	SendFn func(ctx context.Context, m firebreak.Message) error
}

var _ firebreak.Sender = (*fakeSender)(nil)

func (f *fakeSender) Kind() firebreak.ChannelKind { return f.kind }
func (f *fakeSender) Send(ctx context.Context, m firebreak.Message) error {
	return f.SendFn(ctx, m)
}

// recorder collects delivery reports.
type recorder struct {
	mu  sync.Mutex
	got map[string][]firebreak.Delivery
}

func (r *recorder) on(d firebreak.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string][]firebreak.Delivery{}
	}
	r.got[d.Key] = append(r.got[d.Key], d)
}

func (r *recorder) final(key string) firebreak.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	ds := r.got[key]
	if len(ds) == 0 {
		return firebreak.Delivery{}
	}
	return ds[len(ds)-1]
}

func startDispatcher(t *testing.T, s firebreak.Sender, p channel.Policy, rec *recorder) *channel.Dispatcher {
	t.Helper()
	d, err := channel.NewDispatcher(channel.DispatcherConfig{Senders: []firebreak.Sender{s},
		Policies: map[firebreak.ChannelKind]channel.Policy{s.Kind(): p}, OnDelivery: rec.on})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func wait(t *testing.T, d *channel.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Fatal("messages still pending:", err)
	}
}

var fast = channel.Policy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 3}

func TestDispatcherOutcomes(t *testing.T) {
	notApplied := &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Reason: "busy"}
	unknown := &firebreak.ProviderError{Outcome: firebreak.CallUnknown, Reason: "timeout"}
	rejected := &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: 550, Reason: "no such user"}
	for _, c := range []struct {
		name         string
		errs         []error // one per attempt; past the end: success
		retryUnknown bool
		state        firebreak.DeliveryState
		attempts     int
		reason       string
	}{
		{"sent at once", nil, false, firebreak.DeliverySent, 1, ""},
		{"retried then sent", []error{notApplied, notApplied}, false, firebreak.DeliverySent, 3, ""},
		{"rejected is not retried", []error{rejected}, false, firebreak.DeliveryFailed, 1, "no such user"},
		{"unknown fails without RetryUnknown", []error{unknown}, false, firebreak.DeliveryFailed, 1, "outcome unknown"},
		{"unknown retried with RetryUnknown", []error{unknown}, true, firebreak.DeliverySent, 2, ""},
		{"gives up after MaxAttempts", []error{notApplied, notApplied, notApplied, notApplied}, false, firebreak.DeliveryFailed, 3, "gave up after 3 attempts"},
		{"a plain error counts as unknown", []error{errors.New("boom")}, false, firebreak.DeliveryFailed, 1, "outcome unknown: boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			s := &fakeSender{kind: firebreak.ChannelSMS, SendFn: func(context.Context, firebreak.Message) error {
				if i := int(n.Add(1)) - 1; i < len(c.errs) {
					return c.errs[i]
				}
				return nil
			}}
			p := fast
			p.RetryUnknown = c.retryUnknown
			rec := &recorder{}
			d := startDispatcher(t, s, p, rec)
			if err := d.Enqueue(context.Background(), sms("n-1")); err != nil {
				t.Fatal(err)
			}
			wait(t, d)
			got := rec.final("n-1")
			if got.State != c.state || got.Attempts != c.attempts || !strings.Contains(got.Reason, c.reason) {
				t.Fatalf("got %+v, want %s after %d attempts with %q", got, c.state, c.attempts, c.reason)
			}
			if reports := len(rec.got["n-1"]); reports != c.attempts {
				t.Fatalf("%d reports, want %d (one queued per retry, one final)", reports, c.attempts)
			}
		})
	}
}

func TestDispatcherRetryAfterHoldsTheChannel(t *testing.T) {
	var mu sync.Mutex
	var calls []time.Time
	var first atomic.Bool
	s := &fakeSender{kind: firebreak.ChannelSMS, SendFn: func(context.Context, firebreak.Message) error {
		mu.Lock()
		calls = append(calls, time.Now())
		mu.Unlock()
		if first.CompareAndSwap(false, true) {
			return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: 429, RetryAfter: 300 * time.Millisecond}
		}
		return nil
	}}
	p := fast
	p.Workers, p.Rate, p.Burst = 4, 1000, 1 // the first send goes out alone
	rec := &recorder{}
	d := startDispatcher(t, s, p, rec)
	for i := range 20 {
		d.Enqueue(context.Background(), sms("n-"+strconv.Itoa(i)))
	}
	wait(t, d)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 21 {
		t.Fatalf("%d attempts, want 21", len(calls))
	}
	// Sends already on their way may land in the hold; none may start
	// later than 50ms (scheduling slack on a busy machine) after the 429
	// and before its Retry-After passed.
	for _, c := range calls[1:] {
		if c.Sub(calls[0]) > 50*time.Millisecond && c.Sub(calls[0]) < 300*time.Millisecond {
			t.Fatalf("a send %v after the 429, inside the 300ms hold", c.Sub(calls[0]))
		}
	}
}

func TestDispatcherRateLimit(t *testing.T) {
	s := &fakeSender{kind: firebreak.ChannelSMS, SendFn: func(context.Context, firebreak.Message) error { return nil }}
	p := fast
	p.Rate, p.Burst = 100, 1
	d := startDispatcher(t, s, p, &recorder{})
	start := time.Now()
	for i := range 31 {
		d.Enqueue(context.Background(), sms("n-"+strconv.Itoa(i)))
	}
	wait(t, d)
	if el := time.Since(start); el < 290*time.Millisecond {
		t.Fatalf("31 messages at 100/s took %v, want at least 300ms", el)
	}
}

func TestDispatcherEnqueueErrors(t *testing.T) {
	s := &fakeSender{kind: firebreak.ChannelSMS, SendFn: func(context.Context, firebreak.Message) error { return nil }}
	d := startDispatcher(t, s, fast, &recorder{})
	var fe *firebreak.FieldError
	if err := d.Enqueue(context.Background(), email("alice@example.org", "n-1")); !errors.As(err, &fe) || fe.Field != "channel" {
		t.Fatalf("channel without a sender: got %v", err)
	}
	bad := sms("n-1")
	bad.To = "015123456789"
	if err := d.Enqueue(context.Background(), bad); !errors.As(err, &fe) || fe.Field != "to" {
		t.Fatalf("bad number: got %v", err)
	}
	d.Close()
	if err := d.Enqueue(context.Background(), sms("n-2")); firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
		t.Fatalf("after Close: got %v, want EUNAVAILABLE", err)
	}
}

// burstyProvider admits quota requests per one-second window and answers
// the rest 429 with Retry-After: 1, like a provider with a fixed window.
type burstyProvider struct {
	quota    int
	mu       sync.Mutex
	window   time.Time
	used     int
	accepted map[string]int
	refused  int
}

func (p *burstyProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.window) >= time.Second {
		p.window, p.used = now, 0
	}
	if p.used >= p.quota {
		p.refused++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	p.used++
	p.accepted[r.Header.Get("Idempotency-Key")]++
	w.WriteHeader(http.StatusAccepted)
}

// TestDispatcherBacksOffFrom429Bursts is the issue's target: a provider
// answering 429 in bursts causes back-off, with total attempts at most
// 1.2 × messages.
func TestDispatcherBacksOffFrom429Bursts(t *testing.T) {
	const messages = 600
	prov := &burstyProvider{quota: 250, accepted: map[string]int{}}
	srv := httptest.NewServer(prov)
	defer srv.Close()
	rec := &recorder{}
	d := startDispatcher(t, newWebhook(t, srv.URL, nil), channel.Policy{Workers: 8, MaxAttempts: 5, RetryUnknown: true}, rec)
	start := time.Now()
	for i := range messages {
		if err := d.Enqueue(context.Background(), sms("n-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, d)
	st := d.Stats(firebreak.ChannelSMS)
	ratio := float64(st.Attempts) / messages
	t.Logf("%d messages, %d attempts (ratio %.3f), %d answered 429, in %v", messages, st.Attempts, ratio, prov.refused, time.Since(start).Round(time.Millisecond))
	if st.Sent != messages || len(prov.accepted) != messages {
		t.Fatalf("sent %d, provider accepted %d distinct, want %d", st.Sent, len(prov.accepted), messages)
	}
	for key, n := range prov.accepted {
		if n != 1 {
			t.Fatalf("%s accepted %d times", key, n)
		}
	}
	if ratio > 1.2 || math.IsNaN(ratio) {
		t.Fatalf("attempts/messages = %.3f, want ≤ 1.2", ratio)
	}
	if prov.refused == 0 {
		t.Fatal("the provider never answered 429: the test tests nothing")
	}
}

func ExampleDispatcher() {
	feed := channel.NewMemoryFeed()
	d, _ := channel.NewDispatcher(channel.DispatcherConfig{
		Senders: []firebreak.Sender{channel.NewInApp(feed)},
		OnDelivery: func(dl firebreak.Delivery) {
			fmt.Println(dl.Key, dl.State, dl.Attempts)
		},
	})
	defer d.Close()
	d.Enqueue(context.Background(), firebreak.Message{Channel: firebreak.ChannelInApp, To: "acct-7", Key: "n-1", Text: "We locked your account."})
	d.Wait(context.Background())
	// Output: n-1 sent 1
}

// TestDispatcherOverSMTP: a bounced recipient fails at once with the
// server's reply; everyone else is sent, nothing is lost or sent twice.
func TestDispatcherOverSMTP(t *testing.T) {
	ms := startMailServer(t, true)
	ms.refuseRcpt("gone@example.org", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"})
	rec := &recorder{}
	d := startDispatcher(t, newSMTP(t, ms), channel.Policy{Workers: 4}, rec)
	for i := range 50 {
		to := "user" + strconv.Itoa(i) + "@example.org"
		if i == 7 {
			to = "gone@example.org"
		}
		if err := d.Enqueue(context.Background(), email(to, "n-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, d)
	if got := rec.final("n-7"); got.State != firebreak.DeliveryFailed || got.Attempts != 1 || !strings.Contains(got.Reason, "550 5.1.1 No such user") {
		t.Fatalf("bounced: got %+v", got)
	}
	if st := d.Stats(firebreak.ChannelEmail); st.Sent != 49 || st.Attempts != 50 || len(ms.mails()) != 49 {
		t.Fatalf("stats %+v, server received %d; want 49 sent in 50 attempts", st, len(ms.mails()))
	}
}
