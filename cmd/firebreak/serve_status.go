package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"firebreak"
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
// the reminder that tells operators when a promised update is late. The
// reminder logs for now; the operator channel takes over when notices land.
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
	reminder := statuspage.NewReminder(c.Status, func(_ context.Context, late []statuspage.Overdue) error {
		for _, o := range late {
			c.Logger.Warn("a promised status update is late", "incident", o.Update.IncidentID,
				"promised_by", o.Update.NextUpdateBy, "late", o.Late.String())
		}
		return nil
	})
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
