// Package outbox sends the notices of the durable outbox
// (firebreak.NoticeService): a Sender claims queued notices per channel
// under a lease, re-checks each against the current state, hands it to a
// channel.Dispatcher (rate limits, retries, Retry-After) and records the
// outcome. A sender that dies holding notices loses them only until the
// lease expires; the message key "n-<notice id>" lets receivers drop the
// resend. See docs/outbox.md.
package outbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// Config configures a Sender. Zero fields take the defaults in parentheses.
type Config struct {
	Store    firebreak.NoticeService // required
	Channels []firebreak.Channel     // channels to send; each needs a sender in the dispatcher (required)
	// StillDue re-checks a claimed notice against the current state just
	// before it is handed over: false (with a reason such as "incident
	// resolved") fails the notice with that reason instead of sending it
	// late. An error puts it back for a retry. nil: every notice is due.
	StillDue func(ctx context.Context, n firebreak.Notice) (due bool, reason string, err error)
	// Recipient returns the address of a notice's account on its channel
	// (an e-mail address, a phone number, a chat id). An *firebreak.FieldError
	// or ENOTFOUND fails the notice with the reason; another error retries
	// it. nil: the account itself (right for inapp and chat).
	Recipient func(ctx context.Context, n firebreak.Notice) (string, error)
	Batch     int           // notices claimed at once per channel (100)
	InFlight  int           // notices per channel handed over and not yet recorded (512)
	Lease     time.Duration // how long a claim holds a notice; a crashed sender's notices wait this long (1m)
	Poll      time.Duration // wait when nothing is due (1s)
	Retry     time.Duration // wait before a notice whose re-check or recipient failed is tried again (30s)
	Flush     time.Duration // outcomes are recorded in batches at least this often (50ms)
	Drain     time.Duration // how long Run waits for notices in flight after ctx is done (10s)
	Logger    *slog.Logger  // (discard)
	Now       func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Lease, time.Minute)
	def(&c.Poll, time.Second)
	def(&c.Retry, 30*time.Second)
	def(&c.Flush, 50*time.Millisecond)
	def(&c.Drain, 10*time.Second)
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.InFlight <= 0 {
		c.InFlight = 512
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Recipient == nil {
		c.Recipient = func(_ context.Context, n firebreak.Notice) (string, error) { return n.Account, nil }
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Store == nil:
		return &firebreak.FieldError{Field: "store", Reason: "required"}
	case len(c.Channels) == 0:
		return &firebreak.FieldError{Field: "channels", Reason: "required: at least one channel to send"}
	case c.Batch > firebreak.MaxBatch:
		return &firebreak.FieldError{Field: "batch", Reason: "more than " + strconv.Itoa(firebreak.MaxBatch)}
	}
	for i, ch := range c.Channels {
		if err := firebreak.ValidateChannel("channels["+strconv.Itoa(i)+"]", ch); err != nil {
			return err
		}
		if slices.Index(c.Channels, ch) != i {
			return &firebreak.FieldError{Field: "channels", Reason: "channel " + string(ch) + " named twice"}
		}
	}
	return nil
}

// Dispatch is where the Sender hands messages over: a *channel.Dispatcher,
// whose OnDelivery must be the Sender's OnDelivery.
type Dispatch interface {
	Enqueue(ctx context.Context, m firebreak.Message) error
}

// Key returns the message key of notice id, "n-<id>": the e-mail's
// Message-ID and the webhooks' Idempotency-Key, the same on every resend.
func Key(id int64) string { return "n-" + strconv.FormatInt(id, 10) }

// noticeID parses a key made by Key; 0 if it is not one.
func noticeID(key string) int64 {
	s, ok := strings.CutPrefix(key, "n-")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Message builds the message of notice n for recipient to.
func Message(n firebreak.Notice, to string) firebreak.Message {
	return firebreak.Message{Channel: n.Channel, To: to, Subject: n.Subject, Text: n.Text, HTML: n.HTML,
		Key: Key(n.ID), Meta: map[string]string{
			"incident_id": strconv.FormatInt(n.IncidentID, 10), "template": n.Template, "locale": n.Locale}}
}

// permanent reports whether err from a callback can never succeed on a
// retry: bad input or an unknown account.
func permanent(err error) bool {
	var fe *firebreak.FieldError
	return errors.As(err, &fe) || firebreak.ErrorCode(err) == firebreak.ENOTFOUND || firebreak.ErrorCode(err) == firebreak.EINVALID
}

// clip shortens a reason to what a notice stores.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
