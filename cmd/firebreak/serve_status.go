package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"firebreak"
	"firebreak/channel"
	"firebreak/sqlite"
	"firebreak/statuspage"
)

// laterHandler serves with a handler set after the server is built: the
// status page needs the server's public URL, which is known once it listens.
type laterHandler struct {
	h   atomic.Pointer[statuspage.Handler]
	fan atomic.Pointer[statuspage.Fanout]
}

func (l *laterHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.Error(w, "the status page is starting", http.StatusServiceUnavailable)
}

// invalidate drops the status page's cached pages after a publish and wakes
// the fan-out that sends the update to subscribers.
func (l *laterHandler) invalidate(firebreak.StatusUpdate) {
	if h := l.h.Load(); h != nil {
		h.Invalidate()
	}
	if f := l.fan.Load(); f != nil {
		f.Notify()
	}
}

// statusKeyFile holds the key that seals the status subscriptions' tokens
// (for the unsubscribe link in every message), in the data directory:
// created on first start, 32 random bytes, mode 0600.
const statusKeyFile = "statuspage.key"

// openStatusPage builds the public status page once the server listens, the
// fan-out that sends confirmations and updates to its subscribers, and the
// reminder that tells operators when a promised update is late (in the log,
// and on their webhook: see operatorNotifier).
func (c *ServeCommand) openStatusPage(ctx context.Context) error {
	base := c.Config.PublicURL
	if base == "" {
		base = c.Server.URL() + "/status"
	}
	var fan *statuspage.Fanout // set before the page serves its first request
	page, err := statuspage.New(statuspage.Config{Status: c.Status, BaseURL: base, Logger: c.Logger,
		OnSubscribe: func(ctx context.Context, sub firebreak.Subscription) { fan.Subscribed(ctx, sub) }})
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	if fan, err = c.statusFanout(page); err != nil {
		return err
	}
	c.statusPage.fan.Store(fan)
	c.statusPage.h.Store(page)
	notify, err := c.operatorNotifier()
	if err != nil {
		return err
	}
	reminder := statuspage.NewReminder(c.Status, notify)
	reminder.Repeat = 15 * time.Minute
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		fan.Run(rctx)
	}()
	c.stopReminder = func() {
		cancel()
		<-done // the fan-out uses the store, which closes next
	}
	go reminder.Run(rctx)
	return nil
}

// statusFanout returns the fan-out of page's subscriptions: email through
// the email channel of the --channels file (when there is none, email
// subscriptions cannot be confirmed and wait unconfirmed), webhooks signed
// with each subscription's token, to public addresses only.
func (c *ServeCommand) statusFanout(page *statuspage.Handler) (*statuspage.Fanout, error) {
	key, err := loadOrCreateKey(filepath.Join(c.Config.DataDir, statusKeyFile))
	if err != nil {
		return nil, fmt.Errorf("status subscription key: %w", err)
	}
	var email firebreak.Sender
	for _, s := range c.statusSenders {
		if s.Kind() == firebreak.ChannelEmail {
			email = s
		}
	}
	if email == nil {
		c.Logger.Info("status page: no email channel is configured; email subscriptions cannot be confirmed")
	}
	client := statuspage.WebhookClient(10 * time.Second)
	fan, err := statuspage.NewFanout(statuspage.FanoutConfig{Page: page, Updates: sqlite.NewStatusStore(c.db),
		Meta: c.db, Key: key, Email: email, Logger: c.Logger,
		Webhook: func(url string, secret []byte) (firebreak.Sender, error) {
			return channel.NewWebhook(channel.WebhookConfig{Kind: firebreak.ChannelChat, URL: url, Secret: secret, Client: client})
		}})
	if err != nil {
		return nil, err
	}
	return fan, nil
}

// openStatusStore opens the store of status updates and subscriptions.
func (c *ServeCommand) openStatusStore() {
	c.Status = sqlite.NewStatusStore(c.db)
	c.statusPage = &laterHandler{}
}

// operatorWebhookEnv names the environment variable holding the operators'
// Slack-compatible incoming webhook URL (a secret: whoever has it can post).
const operatorWebhookEnv = "FIREBREAK_OPERATOR_WEBHOOK"

// operatorNotifier returns how late status promises reach operators: a
// message on their Slack-compatible webhook when FIREBREAK_OPERATOR_WEBHOOK
// is set, and a warning in the log always.
func (c *ServeCommand) operatorNotifier() (func(context.Context, []statuspage.Overdue) error, error) {
	var slack firebreak.Sender
	if url := os.Getenv(operatorWebhookEnv); url != "" {
		s, err := channel.NewSlack(channel.SlackConfig{URL: url})
		if err != nil {
			return nil, fmt.Errorf("%s: %s", operatorWebhookEnv, firebreak.ErrorMessage(err))
		}
		slack = s
	}
	return func(ctx context.Context, late []statuspage.Overdue) error {
		for _, o := range late {
			c.Logger.Warn("a promised status update is late", "incident", o.Update.IncidentID,
				"promised_by", o.Update.NextUpdateBy, "late", o.Late.Round(time.Second).String())
		}
		if slack == nil {
			return nil
		}
		return slack.Send(ctx, lateMessage(late))
	}, nil
}

// lateMessage is the operators' reminder of late status promises.
func lateMessage(late []statuspage.Overdue) firebreak.Message {
	var b strings.Builder
	b.WriteString("Status page: a promised update is late.\n")
	for _, o := range late {
		what := "General notice"
		if o.Update.IncidentID != 0 {
			what = fmt.Sprintf("Incident %d", o.Update.IncidentID)
		}
		fmt.Fprintf(&b, "- %s, %q: the next update was promised by %s (%s ago).\n", what, o.Update.Title,
			o.Update.NextUpdateBy.UTC().Format(time.RFC3339), o.Late.Round(time.Minute))
	}
	key := fmt.Sprintf("late-%d-%d", late[0].Update.ID, late[0].Update.NextUpdateBy.Unix())
	return firebreak.Message{Channel: firebreak.ChannelSlack, To: "operators", Text: b.String(), Key: key}
}
