package statuspage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
	"firebreak/idp"
	"firebreak/sqlite"
	"firebreak/statuspage"
)

// recorder is a fake firebreak.Sender that keeps what it was given. fail,
// if set, may refuse an attempt (n counts the attempts at m.Key from 1).
type recorder struct {
	kind firebreak.ChannelKind
	fail func(ctx context.Context, m firebreak.Message, n int) error

	mu       sync.Mutex
	sent     []firebreak.Message
	attempts map[string]int
}

var _ firebreak.Sender = (*recorder)(nil)

func newRecorder(kind firebreak.ChannelKind) *recorder {
	return &recorder{kind: kind, attempts: map[string]int{}}
}

func (r *recorder) Kind() firebreak.ChannelKind { return r.kind }

// Send checks m as the real senders do, then records it unless fail refuses.
func (r *recorder) Send(ctx context.Context, m firebreak.Message) error {
	if m.Channel != r.kind {
		return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: "wrong channel " + string(m.Channel)}
	}
	if err := m.Validate(); err != nil {
		return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: "invalid message: " + err.Error()}
	}
	r.mu.Lock()
	r.attempts[m.Key]++
	n, fail := r.attempts[m.Key], r.fail
	r.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, m, n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recorder) messages() []firebreak.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (r *recorder) attemptsAt(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[key]
}

// keys returns the keys of the messages sent, in order, with repeats.
func (r *recorder) keys(prefix string) []string {
	var out []string
	for _, m := range r.messages() {
		if strings.HasPrefix(m.Key, prefix) {
			out = append(out, m.Key)
		}
	}
	return out
}

// to returns the messages sent to recipient.
func (r *recorder) to(recipient string) []firebreak.Message {
	var out []firebreak.Message
	for _, m := range r.messages() {
		if m.To == recipient {
			out = append(out, m)
		}
	}
	return out
}

// logBuffer collects log output written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fanEnv is a status page on a real SQLite file with its fan-out running:
// email goes to a recorder, webhooks to another (whatever their URL).
type fanEnv struct {
	*env
	db    *sqlite.DB
	key   []byte
	email *recorder
	hooks *recorder
	logs  *logBuffer

	mu      sync.Mutex
	fan     *statuspage.Fanout
	stop    func()
	targets []string // the webhook URLs the fan-out asked senders for
}

// fastFanout makes the fan-out's waits short enough for tests.
func fastFanout(cfg *statuspage.FanoutConfig) {
	cfg.Poll, cfg.Backoff, cfg.MaxBackoff, cfg.MaxAttempts = 10*time.Millisecond, 2*time.Millisecond, 20*time.Millisecond, 4
}

func newFanEnv(t *testing.T, configure ...func(*statuspage.FanoutConfig)) *fanEnv {
	t.Helper()
	f := &fanEnv{env: &env{clock: &clock{now: t0}}, key: bytes.Repeat([]byte{7}, 32),
		email: newRecorder(firebreak.ChannelEmail), hooks: newRecorder(firebreak.ChannelChat), logs: &logBuffer{}}
	f.db = sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	f.db.Now = f.clock.Now
	f.db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := f.db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.status, f.incidents = sqlite.NewStatusStore(f.db), sqlite.NewIncidentStore(f.db)
	var err error
	f.h, err = statuspage.New(statuspage.Config{Status: f.status, BaseURL: baseURL, Title: "Example status",
		Now: f.clock.Now, Logger: f.db.Logger, RateLimit: 1e6, RateBurst: 1e6,
		OnSubscribe: func(ctx context.Context, sub firebreak.Subscription) { f.current().Subscribed(ctx, sub) }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	f.start(t, configure...)
	t.Cleanup(func() { f.halt() })
	return f
}

// config is the fan-out's configuration on the env's store and recorders.
func (f *fanEnv) config() statuspage.FanoutConfig {
	return statuspage.FanoutConfig{Page: f.h, Updates: f.status, Meta: f.db, Key: f.key, Email: f.email,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
		Webhook: func(target string, _ []byte) (firebreak.Sender, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.targets = append(f.targets, target)
			return f.hooks, nil
		}}
}

// start runs a new Fanout, as a restarted server would.
func (f *fanEnv) start(t *testing.T, configure ...func(*statuspage.FanoutConfig)) {
	t.Helper()
	cfg := f.config()
	fastFanout(&cfg)
	for _, c := range configure {
		c(&cfg)
	}
	fan, err := statuspage.NewFanout(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fan.Run(ctx) }()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fan = fan
	f.stop = func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}
}

// halt stops the running Fanout and waits for it.
func (f *fanEnv) halt() {
	f.mu.Lock()
	stop := f.stop
	f.stop = nil
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (f *fanEnv) current() *statuspage.Fanout {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fan
}

// publishNow publishes as the operator API does: store, invalidate, Notify.
func (f *fanEnv) publishNow(t *testing.T, id int64, phase firebreak.Phase, title, body string) *firebreak.StatusUpdate {
	t.Helper()
	u := f.publish(t, id, phase, title, body)
	f.current().Notify()
	return u
}

// subscribe subscribes through the page and returns the confirmation the
// target received.
func (f *fanEnv) subscribe(t *testing.T, kind firebreak.SubscriptionKind, target string) firebreak.Message {
	t.Helper()
	seen := append(f.email.keys("sc-"), f.hooks.keys("sc-")...)
	r := f.post(t, "/subscribe", url.Values{"kind": {string(kind)}, "target": {target}})
	wantStatus(t, r, http.StatusOK)
	rec := f.email
	if kind == firebreak.SubscribeWebhook {
		rec = f.hooks
	}
	var got []string
	eventually(t, "the confirmation to "+target, func() bool {
		got = rec.keys("sc-")
		return len(got) > 0 && !slices.Contains(seen, got[len(got)-1])
	})
	for _, m := range rec.messages() {
		if m.Key == got[len(got)-1] {
			return m
		}
	}
	panic("unreachable")
}

// confirmLink follows a confirm link as a person does: GET shows a button,
// which POSTs the token back.
func (f *fanEnv) confirmLink(t *testing.T, link string) {
	t.Helper()
	token := tokenOf(t, link, "/confirm")
	page := f.get(t, "/confirm?token="+url.QueryEscape(token))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.body, `action="/confirm"`)
	r := f.post(t, "/confirm", url.Values{"token": {token}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.body, "Subscribed")
}

// tokenOf checks that link is the page's public link to path and returns
// its token.
func tokenOf(t *testing.T, link, path string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || baseURL+path != u.Scheme+"://"+u.Host+u.Path || u.Query().Get("token") == "" {
		t.Fatalf("link %q is not %s%s?token=...", link, baseURL, path)
	}
	return u.Query().Get("token")
}

// cursorAt waits until the fan-out has handed update id to every subscriber.
func (f *fanEnv) cursorAt(t *testing.T, id int64) {
	t.Helper()
	eventually(t, "the fan-out's cursor at update "+itoa(id), func() bool {
		v, err := f.db.GetMeta(context.Background(), "statuspage.fanout.cursor")
		return err == nil && v == itoa(id)
	})
}

// eventually waits up to 10s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// linkPattern finds every URL in a message's text.
var linkPattern = regexp.MustCompile(`[a-z]+://[^\s"]+`)

// TestFanoutConfirmEmail checks the confirmation by email: one message in
// plain words to the address, holding the page's own confirm and
// unsubscribe links and no other, and the link confirms when posted back as
// the page expects. Nothing else is sent before confirmation.
func TestFanoutConfirmEmail(t *testing.T) {
	f := newFanEnv(t)
	m := f.subscribe(t, firebreak.SubscribeEmail, "ops@example.com")
	if m.Channel != firebreak.ChannelEmail || m.To != "ops@example.com" || !strings.Contains(m.Subject, "Confirm") {
		t.Fatalf("confirmation = %+v, want an email to ops@example.com asking to confirm", m)
	}
	token := tokenOf(t, m.Meta["confirm_url"], "/confirm")
	if got, want := m.Meta["unsubscribe_url"], f.h.UnsubscribeURL(token); got != want {
		t.Errorf("unsubscribe link %q, want %q", got, want)
	}
	for _, link := range linkPattern.FindAllString(m.Text, -1) {
		if link != f.h.ConfirmURL(token) && link != f.h.UnsubscribeURL(token) && link != baseURL+"/" {
			t.Errorf("the confirmation links to %q, want only the page's own links", link)
		}
	}
	wantContains(t, m.Text, f.h.ConfirmURL(token), f.h.UnsubscribeURL(token))
	if strings.Contains(strings.ToLower(m.Text), "log in") || strings.Contains(strings.ToLower(m.Text), "password") {
		t.Errorf("the confirmation mentions signing in:\n%s", m.Text)
	}

	early := f.publishNow(t, 0, firebreak.PhaseInvestigating, "Before confirming", "Not for an unconfirmed subscriber.")
	f.cursorAt(t, early.ID)
	if got := f.email.keys("su-"); len(got) != 0 {
		t.Fatalf("sent %v to an unconfirmed subscriber", got)
	}

	f.confirmLink(t, m.Meta["confirm_url"])
	subs, err := f.status.ListSubscribers(context.Background(), firebreak.SubscriberFilter{})
	if err != nil || len(subs) != 1 || subs[0].Target != "ops@example.com" || !subs[0].Confirmed {
		t.Fatalf("subscribers after following the link = %+v (%v), want ops@example.com confirmed", subs, err)
	}
	f.clock.Add(time.Minute)
	u := f.publishNow(t, 0, firebreak.PhaseIdentified, "After confirming", "For the subscriber.")
	f.cursorAt(t, u.ID)
	if got, want := f.email.keys("su-"), []string{fmt.Sprintf("su-%d-%d", u.ID, subs[0].ID)}; !slices.Equal(got, want) {
		t.Errorf("updates sent %q, want %q", got, want)
	}
}

// TestFanoutConfirmWebhook checks the confirmation of a webhook through the
// real signed webhook sender: one JSON POST carrying the confirm URL, signed
// with the token it holds; later updates are signed the same way, so the
// subscriber can tell them from forgeries.
func TestFanoutConfirmWebhook(t *testing.T) {
	type call struct {
		body      []byte
		signature string
		key       string
	}
	var (
		mu    sync.Mutex
		calls []call
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{b, r.Header.Get(idp.SignatureHeader), r.Header.Get("Idempotency-Key")})
	}))
	defer hook.Close()
	var asked []string
	f := newFanEnv(t, func(cfg *statuspage.FanoutConfig) {
		cfg.Webhook = func(target string, secret []byte) (firebreak.Sender, error) {
			mu.Lock()
			asked = append(asked, target)
			mu.Unlock()
			// Every subscriber's URL leads to the test server here.
			return channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelChat, URL: hook.URL, Secret: secret})
		}
	})
	const target = "https://hooks.example.net/status"
	r := f.post(t, "/subscribe", url.Values{"kind": {"webhook"}, "target": {target}})
	wantStatus(t, r, http.StatusOK)
	received := func(n int) []call {
		var out []call
		eventually(t, fmt.Sprintf("%d webhook calls", n), func() bool {
			mu.Lock()
			defer mu.Unlock()
			out = slices.Clone(calls)
			return len(out) >= n
		})
		return out
	}
	type body struct {
		Channel, To, Subject, Text, Key string
		Meta                            map[string]string
	}
	c := received(1)[0]
	var got body
	if err := json.Unmarshal(c.body, &got); err != nil {
		t.Fatalf("webhook body %s: %v", c.body, err)
	}
	token := tokenOf(t, got.Meta["confirm_url"], "/confirm")
	if err := idp.VerifySignature([]byte(token), c.signature, c.body, time.Now(), 0, nil); err != nil {
		t.Fatalf("the confirmation's signature does not verify with the token: %v", err)
	}
	if !strings.HasPrefix(got.Key, "sc-") || c.key != got.Key || !strings.Contains(got.Text, f.h.ConfirmURL(token)) {
		t.Errorf("confirmation = %+v (Idempotency-Key %q), want key sc-..., the confirm link in the text", got, c.key)
	}
	mu.Lock()
	if len(asked) != 1 || asked[0] != target {
		t.Errorf("senders were asked for %q, want the subscriber's URL %q", asked, target)
	}
	mu.Unlock()

	f.confirmLink(t, got.Meta["confirm_url"])
	u := f.publishNow(t, 0, firebreak.PhaseInvestigating, "Webhook update", "Signed.")
	c = received(2)[1]
	got = body{}
	if err := json.Unmarshal(c.body, &got); err != nil {
		t.Fatal(err)
	}
	if err := idp.VerifySignature([]byte(token), c.signature, c.body, time.Now(), 0, nil); err != nil {
		t.Fatalf("the update's signature does not verify with the token: %v", err)
	}
	if got.Meta["type"] != "status_update" || got.Meta["update_id"] != itoa(u.ID) ||
		got.Meta["unsubscribe_url"] != f.h.UnsubscribeURL(token) || got.Meta["title"] != "Webhook update" {
		t.Errorf("update meta = %v, want the update's fields and the unsubscribe link", got.Meta)
	}
}

// TestFanoutReachesConfirmedOnly checks who receives an update: every
// confirmed subscriber, by email or webhook, exactly once, with the title,
// phase, body, next promised update and its own unsubscribe link; never an
// unconfirmed or unsubscribed one, nor one that subscribed after the update.
func TestFanoutReachesConfirmedOnly(t *testing.T) {
	f := newFanEnv(t)
	ctx := context.Background()
	inc := f.incident(t)

	mail := f.subscribe(t, firebreak.SubscribeEmail, "a@example.com")
	f.confirmLink(t, mail.Meta["confirm_url"])
	hook := f.subscribe(t, firebreak.SubscribeWebhook, "https://hooks.example.net/a")
	f.confirmLink(t, hook.Meta["confirm_url"])
	f.subscribe(t, firebreak.SubscribeEmail, "unconfirmed@example.com")
	gone := f.subscribe(t, firebreak.SubscribeEmail, "gone@example.com")
	f.confirmLink(t, gone.Meta["confirm_url"])
	r := f.post(t, "/unsubscribe", url.Values{"token": {tokenOf(t, gone.Meta["unsubscribe_url"], "/unsubscribe")}})
	wantContains(t, r.body, "Unsubscribed")

	// The fan-out lags: it hangs on u1's webhook call while u1b is published
	// and a new subscriber confirms, who must not receive u1b.
	reached, release := make(chan struct{}), make(chan struct{})
	f.hooks.mu.Lock()
	f.hooks.fail = func(_ context.Context, m firebreak.Message, n int) error {
		if strings.HasPrefix(m.Key, "su-") && n == 1 && m.Meta["title"] == "Unusual sign-ins" {
			close(reached)
			<-release
		}
		return nil
	}
	f.hooks.mu.Unlock()
	f.clock.Add(time.Minute)
	u1 := f.publishNow(t, inc, firebreak.PhaseInvestigating, "Unusual sign-ins", "We are looking into it.\n\nMore soon.")
	<-reached
	f.clock.Add(30 * time.Second)
	u1b := f.publishNow(t, inc, firebreak.PhaseMonitoring, "A fix is in place", "Watching.")
	f.clock.Add(30 * time.Second)
	late := f.subscribe(t, firebreak.SubscribeEmail, "late@example.com")
	f.confirmLink(t, late.Meta["confirm_url"])
	close(release)
	f.clock.Add(time.Minute)
	u2 := f.publishNow(t, inc, firebreak.PhaseResolved, "Sign-ins are normal", "Resolved.")

	subs, err := f.status.ListSubscribers(ctx, firebreak.SubscriberFilter{})
	if err != nil || len(subs) != 3 {
		t.Fatalf("confirmed subscribers = %+v (%v), want 3", subs, err)
	}
	id := map[string]int64{}
	for _, s := range subs {
		id[s.Target] = s.ID
	}
	var want []string
	for _, u := range []int64{u1.ID, u1b.ID, u2.ID} {
		want = append(want, fmt.Sprintf("su-%d-%d", u, id["a@example.com"]), fmt.Sprintf("su-%d-%d", u, id["https://hooks.example.net/a"]))
	}
	want = append(want, fmt.Sprintf("su-%d-%d", u2.ID, id["late@example.com"]))
	slices.Sort(want)
	all := func() []string {
		return slices.Sorted(slices.Values(append(f.email.keys("su-"), f.hooks.keys("su-")...)))
	}
	f.cursorAt(t, u2.ID)
	if got := all(); !slices.Equal(got, want) {
		t.Fatalf("updates sent %v, want exactly %v", got, want)
	}
	for _, to := range []string{"unconfirmed@example.com", "gone@example.com"} {
		for _, m := range f.email.to(to) {
			if !strings.HasPrefix(m.Key, "sc-") {
				t.Errorf("%s received %q", to, m.Key)
			}
		}
	}

	first := f.email.to("a@example.com")[1] // [0] is the confirmation
	unsubscribe := f.h.UnsubscribeURL(tokenOf(t, mail.Meta["unsubscribe_url"], "/unsubscribe"))
	wantContains(t, first.Subject, "Unusual sign-ins", "Investigating")
	wantContains(t, first.Text, "Unusual sign-ins", "Investigating", "We are looking into it.\n\nMore soon.",
		"Next update by "+u1.NextUpdateBy.UTC().Format("2006-01-02 15:04 UTC"), baseURL+"/incidents/"+itoa(inc), unsubscribe)
	if first.Meta["next_update_by"] != u1.NextUpdateBy.UTC().Format(time.RFC3339) || first.Meta["unsubscribe_url"] != unsubscribe {
		t.Errorf("meta = %v, want next_update_by and the unsubscribe link", first.Meta)
	}
	resolved := f.email.to("a@example.com")[3]
	wantContains(t, resolved.Text, "Sign-ins are normal", "Resolved", unsubscribe)
	if strings.Contains(resolved.Text, "Next update by") {
		t.Errorf("a resolved update promises another:\n%s", resolved.Text)
	}
	hookMsgs := f.hooks.to(fmt.Sprintf("subscription-%d", id["https://hooks.example.net/a"]))
	if len(hookMsgs) != 4 || hookMsgs[1].Meta["unsubscribe_url"] != f.h.UnsubscribeURL(tokenOf(t, hook.Meta["unsubscribe_url"], "/unsubscribe")) {
		t.Errorf("webhook messages = %+v, want the confirmation and three updates with its own unsubscribe link", hookMsgs)
	}
}

// TestFanoutRestart stops a Fanout in the middle of an update, as a crash
// would, and starts a new one on the same database: every (update,
// subscriber) arrives, and only the update in progress goes twice.
func TestFanoutRestart(t *testing.T) {
	f := newFanEnv(t)
	var subIDs []int64
	for i := range 3 {
		m := f.subscribe(t, firebreak.SubscribeEmail, fmt.Sprintf("s%d@example.com", i))
		f.confirmLink(t, m.Meta["confirm_url"])
	}
	subs, err := f.status.ListSubscribers(context.Background(), firebreak.SubscriberFilter{})
	if err != nil || len(subs) != 3 {
		t.Fatalf("subscribers = %+v (%v), want 3", subs, err)
	}
	for _, s := range subs {
		subIDs = append(subIDs, s.ID)
	}
	f.halt()

	var updates []int64
	for i := range 5 {
		f.clock.Add(time.Minute)
		updates = append(updates, f.publish(t, 0, firebreak.PhaseInvestigating, fmt.Sprintf("Update %d", i), "Body.").ID)
	}
	// The first Fanout hangs on the third update's second subscriber until
	// it is stopped.
	crashAt := fmt.Sprintf("su-%d-%d", updates[2], subIDs[1])
	reached := make(chan struct{})
	var once sync.Once
	f.email.fail = func(ctx context.Context, m firebreak.Message, _ int) error {
		if m.Key != crashAt {
			return nil
		}
		once.Do(func() { close(reached) })
		<-ctx.Done()
		return ctx.Err()
	}
	f.start(t)
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the fan-out never reached the third update")
	}
	f.halt()
	before := f.email.keys("su-")
	f.email.mu.Lock()
	f.email.fail = nil
	f.email.mu.Unlock()

	f.start(t)
	var want []string
	for _, u := range updates {
		for _, s := range subIDs {
			want = append(want, fmt.Sprintf("su-%d-%d", u, s))
		}
	}
	slices.Sort(want)
	f.cursorAt(t, updates[len(updates)-1])
	all := f.email.keys("su-")
	if got := slices.Compact(slices.Sorted(slices.Values(all))); !slices.Equal(got, want) {
		t.Fatalf("distinct keys %v, want %v", got, want)
	}
	repeated := fmt.Sprintf("su-%d-", updates[2])
	after := all[len(before):]
	for _, k := range before {
		if slices.Contains(after, k) && !strings.HasPrefix(k, repeated) {
			t.Errorf("%s was sent again after the restart; only the update in progress (%s*) may be", k, repeated)
		}
	}
	if counts := countKeys(all); counts[crashAt] != 1 {
		t.Errorf("%s delivered %d times, want once (the first attempt never completed)", crashAt, counts[crashAt])
	}
}

func countKeys(keys []string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		out[k]++
	}
	return out
}

// TestFanoutFailures checks that temporary failures are retried with
// backoff until they succeed or MaxAttempts is spent, and that permanent
// failures are logged and skipped at once; neither stops the next update.
func TestFanoutFailures(t *testing.T) {
	f := newFanEnv(t)
	targets := []string{"flaky@example.com", "refused@example.com", "invalid@example.com", "down@example.com", "ok@example.com"}
	for _, to := range targets {
		m := f.subscribe(t, firebreak.SubscribeEmail, to)
		f.confirmLink(t, m.Meta["confirm_url"])
	}
	f.email.mu.Lock()
	f.email.fail = func(_ context.Context, m firebreak.Message, n int) error {
		switch {
		case !strings.HasPrefix(m.Key, "su-"):
			return nil
		case m.To == "flaky@example.com" && n <= 2:
			return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: 429, Reason: "slow down"}
		case m.To == "refused@example.com":
			return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: 550, Reason: "no such mailbox"}
		case m.To == "invalid@example.com":
			return &firebreak.FieldError{Field: "to", Reason: "refused"}
		case m.To == "down@example.com":
			return errors.New("connection reset")
		}
		return nil
	}
	f.email.mu.Unlock()

	f.clock.Add(time.Minute)
	u1 := f.publishNow(t, 0, firebreak.PhaseInvestigating, "First", "One.")
	f.clock.Add(time.Minute)
	u2 := f.publishNow(t, 0, firebreak.PhaseMonitoring, "Second", "Two.")
	f.cursorAt(t, u2.ID)
	subs, err := f.status.ListSubscribers(context.Background(), firebreak.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for _, s := range subs {
		id[s.Target] = s.ID
	}
	for _, u := range []int64{u1.ID, u2.ID} {
		key := func(to string) string { return fmt.Sprintf("su-%d-%d", u, id[to]) }
		for to, want := range map[string]int{"flaky@example.com": 3, "refused@example.com": 1,
			"invalid@example.com": 1, "down@example.com": 4, "ok@example.com": 1} {
			if got := f.email.attemptsAt(key(to)); got != want {
				t.Errorf("%s: %d attempts, want %d", key(to), got, want)
			}
		}
	}
	logs := f.logs.String()
	for _, want := range []string{"refused for good", "no such mailbox", "given up", "connection reset"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q:\n%s", want, logs)
		}
	}
}

// TestFanoutConfirmRetried checks that a confirmation refused for the time
// being is sent again, and one that keeps failing is given up after a few
// attempts.
func TestFanoutConfirmRetried(t *testing.T) {
	f := newFanEnv(t)
	f.email.mu.Lock()
	f.email.fail = func(_ context.Context, m firebreak.Message, n int) error {
		if m.To == "busy@example.com" && n == 1 || m.To == "down@example.com" {
			return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: 503, Reason: "try later"}
		}
		return nil
	}
	f.email.mu.Unlock()
	m := f.subscribe(t, firebreak.SubscribeEmail, "busy@example.com")
	if n := f.email.attemptsAt(m.Key); n != 2 {
		t.Errorf("confirmation sent after %d attempts, want 2", n)
	}
	wantStatus(t, f.post(t, "/subscribe", url.Values{"kind": {"email"}, "target": {"down@example.com"}}), http.StatusOK)
	eventually(t, "the confirmation given up", func() bool { return strings.Contains(f.logs.String(), "given up") })
	for _, m := range f.email.messages() {
		if m.To == "down@example.com" {
			t.Fatalf("recorded %+v to an address whose server refuses", m)
		} else if strings.HasPrefix(m.Key, "sc-") && m.To != "busy@example.com" {
			t.Fatalf("unexpected confirmation %+v", m)
		}
	}
	if got := f.logs.String(); !strings.Contains(got, "attempts=3") {
		t.Errorf("the give-up is not logged after 3 attempts:\n%s", got)
	}
}

// TestFanoutWithoutEmailChannel checks that with no email channel an email
// subscription is told of in the log at Warn, and waits unconfirmed.
func TestFanoutWithoutEmailChannel(t *testing.T) {
	f := newFanEnv(t, func(cfg *statuspage.FanoutConfig) { cfg.Email = nil })
	r := f.post(t, "/subscribe", url.Values{"kind": {"email"}, "target": {"ops@example.com"}})
	wantStatus(t, r, http.StatusOK)
	eventually(t, "the warning", func() bool {
		return strings.Contains(f.logs.String(), "level=WARN") && strings.Contains(f.logs.String(), "cannot be confirmed")
	})
	if got := f.email.messages(); len(got) != 0 {
		t.Fatalf("sent %+v without an email channel", got)
	}
}

// TestNewFanoutConfigErrors checks that a bad config is refused.
func TestNewFanoutConfigErrors(t *testing.T) {
	f := newFanEnv(t)
	for name, change := range map[string]func(*statuspage.FanoutConfig){
		"no page":   func(c *statuspage.FanoutConfig) { c.Page = nil },
		"no meta":   func(c *statuspage.FanoutConfig) { c.Meta = nil },
		"short key": func(c *statuspage.FanoutConfig) { c.Key = c.Key[:16] },
		"negative":  func(c *statuspage.FanoutConfig) { c.Poll = -time.Second },
	} {
		cfg := f.config()
		change(&cfg)
		if _, err := statuspage.NewFanout(cfg); err == nil {
			t.Errorf("%s: NewFanout accepted the config", name)
		}
	}
}

// TestWebhookClientRefusesPrivate checks that the webhook client does not
// connect to a loopback address, whatever name led to it.
func TestWebhookClientRefusesPrivate(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	for _, u := range []string{srv.URL, "http://localhost:" + port} {
		resp, err := statuspage.WebhookClient(5 * time.Second).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s succeeded, want a refusal", u)
		} else if !strings.Contains(err.Error(), "not public") {
			t.Errorf("GET %s: %v, want a refusal naming the address", u, err)
		}
	}
	if hits != 0 {
		t.Errorf("the loopback server was reached %d times", hits)
	}
}
