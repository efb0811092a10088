package channel

import (
	"context"
	"errors"
	"sync"
	"time"

	"firebreak"
)

// InApp delivers messages to the in-app feed that the platform's own app
// reads per account. Delivery is an Append to a firebreak.InAppFeed; the
// feed drops a key it already holds, so a retry never shows twice.
type InApp struct {
	feed firebreak.InAppFeed
}

var _ firebreak.Sender = (*InApp)(nil)

// NewInApp returns an InApp sender writing to feed.
func NewInApp(feed firebreak.InAppFeed) *InApp { return &InApp{feed: feed} }

// Kind implements firebreak.Sender.
func (a *InApp) Kind() firebreak.ChannelKind { return firebreak.ChannelInApp }

// Send implements firebreak.Sender. A store error is CallUnknown: the
// append may have committed, and appending again is harmless.
func (a *InApp) Send(ctx context.Context, m firebreak.Message) error {
	if err := checkMessage(firebreak.ChannelInApp, &m); err != nil {
		return err
	}
	err := a.feed.Append(ctx, m.To, m)
	var fe *firebreak.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return providerErr(firebreak.CallRejected, 0, fe.Error())
	}
	return providerErr(firebreak.CallUnknown, 0, "feed: "+err.Error())
}

// MemoryFeed is an in-memory firebreak.InAppFeed for tests and the demo.
type MemoryFeed struct {
	mu      sync.Mutex
	next    int64
	entries map[string][]firebreak.InAppEntry // by account, oldest first
	keys    map[[2]string]bool                // (account, key) already appended
	Now     func() time.Time                  // nil: time.Now
}

var _ firebreak.InAppFeed = (*MemoryFeed)(nil)

// NewMemoryFeed returns an empty MemoryFeed.
func NewMemoryFeed() *MemoryFeed {
	return &MemoryFeed{entries: make(map[string][]firebreak.InAppEntry), keys: make(map[[2]string]bool)}
}

// Append implements firebreak.InAppFeed.
func (f *MemoryFeed) Append(ctx context.Context, account string, m firebreak.Message) error {
	if account == "" {
		return &firebreak.FieldError{Field: "account", Reason: "required"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[[2]string{account, m.Key}] {
		return nil
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	f.next++
	m.Meta = cloneMeta(m.Meta)
	f.entries[account] = append(f.entries[account], firebreak.InAppEntry{ID: f.next, Account: account, Message: m, Created: now()})
	f.keys[[2]string{account, m.Key}] = true
	return nil
}

// List implements firebreak.InAppFeed.
func (f *MemoryFeed) List(ctx context.Context, account string, after int64, limit int) ([]firebreak.InAppEntry, error) {
	if limit <= 0 {
		return nil, &firebreak.FieldError{Field: "limit", Reason: "must be positive"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []firebreak.InAppEntry
	for _, e := range f.entries[account] {
		if e.ID > after {
			e.Message.Meta = cloneMeta(e.Message.Meta)
			out = append(out, e)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func cloneMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
