package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
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
	h atomic.Pointer[statuspage.Handler]
}

func (l *laterHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.Error(w, "the status page is starting", http.StatusServiceUnavailable)
}

// invalidate drops the status page's cached pages after a publish.
func (l *laterHandler) invalidate(firebreak.StatusUpdate) {
	if h := l.h.Load(); h != nil {
		h.Invalidate()
	}
}

// openStatusPage builds the public status page once the server listens, and
// the reminder that tells operators when a promised update is late (in the
// log, and on their webhook: see operatorNotifier).
func (c *ServeCommand) openStatusPage(ctx context.Context) error {
	base := c.Config.PublicURL
	if base == "" {
		base = c.Server.URL() + "/status"
	}
	page, err := statuspage.New(statuspage.Config{Status: c.Status, BaseURL: base, Logger: c.Logger,
		OnSubscribe: func(_ context.Context, sub firebreak.Subscription) {
			// Confirmation messages go out through the notice channels,
			// which are not wired yet: the subscription waits unconfirmed.
			c.Logger.Info("status page subscription awaiting confirmation", "kind", sub.Kind)
		}})
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	c.statusPage.h.Store(page)
	notify, err := c.operatorNotifier()
	if err != nil {
		return err
	}
	reminder := statuspage.NewReminder(c.Status, notify)
	reminder.Repeat = 15 * time.Minute
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopReminder = cancel
	go reminder.Run(rctx)
	return nil
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
