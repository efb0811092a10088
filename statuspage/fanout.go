package statuspage

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"firebreak"
)

// Meta stores small durable values by key: the fan-out's cursor and the
// subscriptions' sealed tokens. *sqlite.DB implements it; GetMeta returns an
// ENOTFOUND error for a key never set.
type Meta interface {
	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// UpdateSource lists up to limit status updates with an ID above afterID,
// oldest first. *sqlite.StatusStore implements it.
type UpdateSource interface {
	UpdatesAfter(ctx context.Context, afterID int64, limit int) ([]firebreak.StatusUpdate, error)
}

// WebhookSender returns the sender that POSTs to one webhook subscription's
// URL, signing every request with secret: the subscription's token, which
// its owner received in the confirm link and verifies the signature with.
// The sender's Kind must accept To "subscription-<id>" (chat does).
type WebhookSender func(url string, secret []byte) (firebreak.Sender, error)

// FanoutConfig configures a Fanout. Page, Updates, Meta and Key are
// required; zero values of the rest take the defaults documented on each.
type FanoutConfig struct {
	// Page is the status page: its links go in every message, and its
	// Config.Status lists the confirmed subscribers.
	Page *Handler
	// Updates lists the updates after the cursor.
	Updates UpdateSource
	// Meta keeps the cursor and the sealed tokens.
	Meta Meta
	// Key (32 bytes) seals the tokens kept for unsubscribe links.
	Key []byte
	// Email sends to email subscriptions; nil: they get nothing (logged).
	Email firebreak.Sender
	// Webhook reaches webhook subscriptions; nil: they get nothing (logged).
	Webhook WebhookSender

	// Poll is how often the store is checked for new updates; Notify
	// wakes the loop sooner. Default 2s.
	Poll time.Duration
	// Workers is how many messages are sent at once. Default 4.
	Workers int
	// MaxAttempts is how often a temporary failure is tried before the
	// message is given up. Default 8.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each one up
	// to MaxBackoff. Defaults 1s and 1m.
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt. Default 30s.
	Timeout time.Duration
	// Logger receives failures. Default slog.Default().
	Logger *slog.Logger
}

// cursorKey is the meta key of the ID of the last update handed to every
// subscriber.
const cursorKey = "statuspage.fanout.cursor"

// Fanout sends every published status update to every confirmed
// subscriber, and the confirmation message to every new subscription.
//
// It walks the updates in ID order after a durable cursor and advances the
// cursor past an update only once every subscriber was handed it or given
// up (a permanent refusal, or MaxAttempts temporary failures). Delivery is
// at least once: after a crash the update in progress goes again to all its
// subscribers, under the same key "su-<update id>-<subscription id>", by
// which receivers drop repeats. A subscription created after an update was
// published does not receive it.
type Fanout struct {
	cfg      FanoutConfig
	aead     cipher.AEAD
	log      *slog.Logger
	wake     chan struct{}
	confirms map[firebreak.SubscriptionKind]chan firebreak.Subscription
}

// NewFanout returns a Fanout; it fails on a bad config.
func NewFanout(cfg FanoutConfig) (*Fanout, error) {
	if cfg.Page == nil || cfg.Updates == nil || cfg.Meta == nil {
		return nil, errors.New("status fan-out: config Page, Updates and Meta: required")
	}
	aead, err := newAEAD(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("status fan-out: %w", err)
	}
	if cfg.Poll < 0 || cfg.Workers < 0 || cfg.MaxAttempts < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < 0 || cfg.Timeout < 0 {
		return nil, errors.New("status fan-out: config durations and counts must not be negative")
	}
	setDefault(&cfg.Poll, 2*time.Second)
	setDefault(&cfg.Workers, 4)
	setDefault(&cfg.MaxAttempts, 8)
	setDefault(&cfg.Backoff, time.Second)
	setDefault(&cfg.MaxBackoff, time.Minute)
	setDefault(&cfg.Timeout, 30*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// One confirmation queue per kind, so that webhooks that hang cannot
	// hold up the confirmations by email.
	confirms := map[firebreak.SubscriptionKind]chan firebreak.Subscription{}
	for _, k := range firebreak.SubscriptionKinds {
		confirms[k] = make(chan firebreak.Subscription, 256)
	}
	return &Fanout{cfg: cfg, aead: aead, log: cfg.Logger, wake: make(chan struct{}, 1), confirms: confirms}, nil
}

// Notify wakes the loop to send an update just published. It never waits.
func (f *Fanout) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run sends confirmations and fans out updates until ctx ends. A failing
// or panicking round is logged and tried again after a backoff.
func (f *Fanout) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, queue := range f.confirms {
		for range f.cfg.Workers {
			wg.Go(func() { f.runConfirmations(ctx, queue) })
		}
	}
	failures := 0
	for {
		wait := f.cfg.Poll
		if err := f.round(ctx); err != nil && ctx.Err() == nil {
			failures++
			wait = max(wait, f.backoff(failures))
			f.log.Error("status fan-out", "err", err, "retry_in", wait)
		} else {
			failures = 0
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		case <-f.wake:
			timer.Stop()
		}
	}
}

// round hands every update after the cursor to its subscribers, advancing
// the cursor after each.
func (f *Fanout) round(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	cursor, err := f.cursor(ctx)
	if err != nil {
		return err
	}
	for {
		updates, err := f.cfg.Updates.UpdatesAfter(ctx, cursor, 100)
		if err != nil || len(updates) == 0 {
			return err
		}
		for _, u := range updates {
			if err := f.deliver(ctx, u); err != nil {
				return fmt.Errorf("update %d: %w", u.ID, err)
			}
			if err := f.cfg.Meta.SetMeta(ctx, cursorKey, strconv.FormatInt(u.ID, 10)); err != nil {
				return fmt.Errorf("save cursor: %w", err)
			}
			cursor = u.ID
		}
	}
}

// cursor returns the ID of the last update handed to every subscriber; 0
// before the first.
func (f *Fanout) cursor(ctx context.Context) (int64, error) {
	v, err := f.cfg.Meta.GetMeta(ctx, cursorKey)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("read cursor: %q is not an update id", v)
	}
	return id, nil
}

// deliver hands u to every confirmed subscriber, a page of them at a time,
// then retries the temporary failures. It fails only when ctx ends or the
// store does: then the update goes again to all of them.
func (f *Fanout) deliver(ctx context.Context, u firebreak.StatusUpdate) error {
	var retry []*job
	skipped := map[string]int{}
	for after := int64(0); ; {
		subs, err := f.cfg.Page.cfg.Status.ListSubscribers(ctx,
			firebreak.SubscriberFilter{AfterID: after, Limit: firebreak.MaxPageLimit})
		if err != nil {
			return fmt.Errorf("list subscribers: %w", err)
		}
		if len(subs) == 0 {
			break
		}
		after = subs[len(subs)-1].ID
		var jobs []*job
		for _, sub := range subs {
			j, err := f.updateJob(ctx, u, sub)
			switch {
			case errors.Is(err, errSkip):
				skipped[err.Error()]++
			case err != nil:
				return err
			case j != nil:
				jobs = append(jobs, j)
			}
		}
		retry = append(retry, f.sendAll(ctx, jobs)...)
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(subs) < firebreak.MaxPageLimit {
			break
		}
	}
	for reason, n := range skipped {
		f.log.Warn("status fan-out: subscribers skipped", "update", u.ID, "count", n, "reason", reason)
	}
	return f.retry(ctx, retry)
}

// errSkip marks a subscriber that no attempt can reach; the update goes on
// without it.
var errSkip = errors.New("skipped")

// updateJob prepares u's message to sub: nil when sub subscribed after u
// was published, an error wrapping errSkip when sub cannot be reached.
func (f *Fanout) updateJob(ctx context.Context, u firebreak.StatusUpdate, sub firebreak.Subscription) (*job, error) {
	if sub.CreatedAt.After(u.PublishedAt) {
		return nil, nil
	}
	if reason := f.unreachable(sub.Kind); reason != "" {
		return nil, fmt.Errorf("%w: %s subscriptions: %s", errSkip, sub.Kind, reason)
	}
	token, err := f.token(ctx, sub)
	if errors.Is(err, errNoToken) {
		return nil, fmt.Errorf("%w: %v", errSkip, err)
	} else if err != nil {
		return nil, err
	}
	j, err := f.newJob(sub, token, updateMessage(f.cfg.Page, u, sub, token))
	if err != nil {
		return nil, fmt.Errorf("%w: %s subscription: %v", errSkip, sub.Kind, err)
	}
	return j, nil
}

// updateMessage is u as sent to sub: title, phase, body, the promise of the
// next update, and the links to the thread and to unsubscribe.
func updateMessage(h *Handler, u firebreak.StatusUpdate, sub firebreak.Subscription, token string) firebreak.Message {
	const stamp = "2006-01-02 15:04 UTC"
	thread, unsubscribe := h.absURL(threadPath(u.IncidentID)), h.UnsubscribeURL(token)
	title := oneLine(u.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s, %s\n\n%s\n\n", title, phaseLabel(u.Phase), u.PublishedAt.UTC().Format(stamp), strings.TrimSpace(u.Body))
	meta := map[string]string{"type": "status_update", "update_id": strconv.FormatInt(u.ID, 10),
		"incident_id": strconv.FormatInt(u.IncidentID, 10), "phase": string(u.Phase), "title": title,
		"published_at": u.PublishedAt.UTC().Format(time.RFC3339), "url": thread, "unsubscribe_url": unsubscribe}
	if u.NextUpdateBy.IsZero() {
		b.WriteString("This is resolved: no further update is planned.\n\n")
	} else {
		fmt.Fprintf(&b, "Next update by %s.\n\n", u.NextUpdateBy.UTC().Format(stamp))
		meta["next_update_by"] = u.NextUpdateBy.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "All updates: %s\n\nYou receive this because you subscribed to %s. To unsubscribe, open this link and press Unsubscribe:\n%s\n",
		thread, oneLine(h.cfg.Title), unsubscribe)
	subject := oneLine(h.cfg.Title) + ": " + title + " (" + phaseLabel(u.Phase) + ")"
	return firebreak.Message{Subject: clip(subject, firebreak.MaxMessageSubject), Text: b.String(),
		Key:  "su-" + strconv.FormatInt(u.ID, 10) + "-" + strconv.FormatInt(sub.ID, 10),
		Meta: meta}
}

// job is one message on its way to one subscriber.
type job struct {
	sub      firebreak.Subscription
	sender   firebreak.Sender
	msg      firebreak.Message
	attempts int
	limit    int           // attempts before it is given up
	wait     time.Duration // the receiver's Retry-After, if it gave one
}

// newJob addresses m to sub through the sender of its kind.
func (f *Fanout) newJob(sub firebreak.Subscription, token string, m firebreak.Message) (*job, error) {
	var s firebreak.Sender
	switch sub.Kind {
	case firebreak.SubscribeEmail:
		s, m.To = f.cfg.Email, sub.Target
	case firebreak.SubscribeWebhook:
		var err error
		if s, err = f.cfg.Webhook(sub.Target, []byte(token)); err != nil {
			return nil, err
		}
		m.To = "subscription-" + strconv.FormatInt(sub.ID, 10)
	}
	if s == nil {
		return nil, fmt.Errorf("no sender for %s subscriptions", sub.Kind)
	}
	m.Channel = s.Kind()
	return &job{sub: sub, sender: s, msg: m, limit: f.cfg.MaxAttempts}, nil
}

// sendAll makes one attempt at each job, Workers at a time, and returns
// the jobs to try again. A permanent failure, or the last attempt's, is
// logged and dropped.
func (f *Fanout) sendAll(ctx context.Context, jobs []*job) []*job {
	var (
		mu    sync.Mutex
		again []*job
		wg    sync.WaitGroup
		slots = make(chan struct{}, f.cfg.Workers)
	)
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if f.attempt(ctx, j) {
				mu.Lock()
				again = append(again, j)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return again
}

// attempt sends j once and reports whether it should be tried again.
func (f *Fanout) attempt(ctx context.Context, j *job) (again bool) {
	defer func() {
		if p := recover(); p != nil {
			f.log.Error("status fan-out: sender panic", "key", j.msg.Key, "panic", p)
			again = false
		}
	}()
	actx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	j.attempts++
	err := j.sender.Send(actx, j.msg)
	if err == nil {
		return false
	}
	var pe *firebreak.ProviderError
	var fe *firebreak.FieldError
	switch {
	case ctx.Err() != nil:
		return true // stopping: the round fails and the update goes again
	case errors.As(err, &fe) || firebreak.ProviderOutcome(err) == firebreak.CallRejected:
		f.log.Warn("status message refused for good", "key", j.msg.Key, "kind", j.sub.Kind, "subscription", j.sub.ID, "err", err)
		return false
	case j.attempts >= j.limit:
		f.log.Warn("status message given up", "key", j.msg.Key, "kind", j.sub.Kind, "subscription", j.sub.ID,
			"attempts", j.attempts, "err", err)
		return false
	}
	j.wait = 0
	if errors.As(err, &pe) {
		j.wait = pe.RetryAfter
	}
	return true
}

// retry tries jobs again after a backoff until each is sent or given up.
// It fails only when ctx ends.
func (f *Fanout) retry(ctx context.Context, jobs []*job) error {
	for len(jobs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := time.Duration(0)
		for _, j := range jobs {
			wait = max(wait, f.backoff(j.attempts), min(j.wait, f.cfg.MaxBackoff))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		jobs = f.sendAll(ctx, jobs)
	}
	return ctx.Err()
}

// backoff is the wait after n failures: Backoff doubled n-1 times, at most
// MaxBackoff.
func (f *Fanout) backoff(n int) time.Duration {
	d := f.cfg.Backoff
	for i := 1; i < n && d < f.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, f.cfg.MaxBackoff)
}

// WebhookClient returns the HTTP client for webhook subscriptions. It
// connects only to public addresses, checked after name resolution (a
// subscriber's name may resolve to a loopback or private address that the
// check at subscription could not see), uses no proxy, follows no redirect
// and bounds each request by timeout.
func WebhookClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: dialPublic}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.DialContext = nil, d.DialContext
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// nonPublic are prefixes that netip's predicates do not call private but
// that no webhook should reach: shared address space (carrier NAT),
// benchmarking, and NAT64, which maps onto any IPv4 address.
var nonPublic = []netip.Prefix{netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("64:ff9b::/96")}

// dialPublic refuses a connection to an address that is not public.
func dialPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	ip := ap.Addr().Unmap()
	ok := ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
	for _, p := range nonPublic {
		ok = ok && !p.Contains(ip)
	}
	if !ok {
		return fmt.Errorf("webhook address %s is not public", ip)
	}
	return nil
}
