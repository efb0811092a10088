package main

import (
	"context"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"

	"firebreak"
	"firebreak/channel"
	"firebreak/outbox"
	"firebreak/sqlite"
)

// openOutbox starts the notice outbox: queued notices are re-checked and
// sent through the configured channels (always the in-app feed, which the
// platform's app reads through GET /api/v1/feed/{account}; email, SMS, chat
// and Slack from the --channels file).
func (c *ServeCommand) openOutbox(ctx context.Context) error {
	c.Notices, c.Feed = sqlite.NewNoticeStore(c.db), sqlite.NewInAppStore(c.db)
	var cfg channel.Config
	if c.Config.ChannelsPath != "" {
		data, err := os.ReadFile(c.Config.ChannelsPath)
		if err != nil {
			return fmt.Errorf("read channels file: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
			return fmt.Errorf("channels file %s: %w", c.Config.ChannelsPath, err)
		}
	}
	if cfg.InApp == nil {
		cfg.InApp = &channel.InAppConfig{}
	}
	senders, policies, err := cfg.Senders(&linkingFeed{InAppFeed: c.Feed, c: c})
	if err != nil {
		return fmt.Errorf("channels: %s", firebreak.ErrorMessage(err))
	}
	c.statusSenders = senders
	var kinds []firebreak.Channel
	for _, s := range senders {
		kinds = append(kinds, s.Kind())
	}
	c.outboxChannels = kinds
	sender, err := outbox.New(outbox.Config{Store: c.Notices, Channels: kinds, Logger: c.Logger,
		StillDue: c.noticeStillDue})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	d, err := channel.NewDispatcher(channel.DispatcherConfig{Senders: senders, Policies: policies,
		OnDelivery: sender.OnDelivery, Logger: c.Logger})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	octx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sender.Run(octx, d); err != nil && octx.Err() == nil {
			c.Logger.Error("outbox stopped", "err", err)
		}
	}()
	c.stopOutbox = func() {
		cancel()
		<-done
		d.Close()
	}
	return nil
}

// noticeStillDue re-checks a notice just before it goes out: nothing is
// sent about an incident that was resolved or merged meanwhile, to an
// account the incident no longer holds, or to a person whose restriction
// was lifted on appeal (after an outage of the sender, say).
func (c *ServeCommand) noticeStillDue(ctx context.Context, n firebreak.Notice) (bool, string, error) {
	inc, err := c.Incidents.Find(ctx, n.IncidentID)
	switch {
	case firebreak.ErrorCode(err) == firebreak.ENOTFOUND:
		return false, "the incident no longer exists", nil
	case err != nil:
		return false, "", err
	case inc.MergedInto != 0:
		return false, fmt.Sprintf("the incident was merged into incident %d", inc.MergedInto), nil
	case inc.State == firebreak.StateResolved:
		return false, "the incident was resolved", nil
	}
	if acct, err := c.appeals.AffectedAccount(ctx, n.IncidentID, n.Account); err != nil {
		return false, "", err
	} else if acct == nil {
		return false, "the incident no longer holds this account", nil
	}
	if lifted, err := c.appeals.Lifted(ctx, n.IncidentID, n.Account); err != nil {
		return false, "", err
	} else if lifted {
		return false, "the restriction was lifted on appeal", nil
	}
	return true, "", nil
}
