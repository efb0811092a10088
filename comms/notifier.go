// Package comms runs an incident's communication: campaigns of notices as
// containment runs (the Notifier carries out the notice actions and
// Announce mirrors every mass send on the status page), notice previews
// with the incident's real data, operators' decisions on appeals, and the
// per-incident metrics of notices, appeals and measured false positives.
// See docs/communication.md.
package comms

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"firebreak"
	"firebreak/notice"
)

// Facts is what the notifier reads about one account of an incident
// (*sqlite.AppealStore provides it).
type Facts interface {
	// Tiers returns the tier of each of accounts the incident holds;
	// accounts it does not hold are absent.
	Tiers(ctx context.Context, incidentID int64, accounts []string) (map[string]firebreak.Tier, error)
	// EachAccountAction calls fn with every containment action confirmed
	// on an account of the incident, rollbacks included, oldest first.
	EachAccountAction(ctx context.Context, incidentID int64, fn func(account string, kind firebreak.RunKind, a firebreak.AccountAction)) error
}

// Config configures a Notifier. Zero fields take the defaults in parentheses.
type Config struct {
	Incidents firebreak.IncidentService // required
	Facts     Facts                     // required
	Notices   firebreak.NoticeService   // the outbox (required)
	Status    firebreak.StatusService   // the promised next update (required)
	Templates *notice.Set               // required
	// Org is the organisation's name as people know it (required).
	Org string
	// StatusURL returns the public status page of an incident (required).
	StatusURL func(incidentID int64) string
	// Channels are the channels the outbox delivers on; a notice action on
	// another channel is rejected rather than queued for ever. Nil: all.
	Channels []firebreak.Channel
	// Locale returns an account's language tag; nil or "": the templates'
	// fallback locale.
	Locale func(ctx context.Context, account string) string
	// Refresh is how long the incident, its next promised update and the
	// actions taken on its accounts are cached between reads (5s).
	Refresh time.Duration
	// Batch is the most notices queued in one transaction (1024).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Notifier carries out the notice actions of containment runs (it is the
// contain.Service's Notifier): Apply renders the notice that fits the
// account's current tier on the action's channel and queues it in the
// outbox, at most once per incident, account and template. Concurrent
// Applies share one transaction (group commit). Safe for concurrent use.
type Notifier struct {
	cfg   Config
	queue chan *pending
	// rendered hands rendered batches to the writer, so that one batch
	// renders while the one before is written and synced.
	rendered chan renderedBatch

	mu    sync.Mutex
	cache map[int64]*cachedIncident

	stop context.CancelFunc
	done chan struct{}
}

// pending is one notice waiting for the group commit, which looks up the
// account's tier, renders and queues a batch of them at once.
type pending struct {
	account string
	channel firebreak.Channel
	data    *incidentData
	done    chan error
}

// renderedBatch is a batch of notices ready to queue, with whom to answer.
type renderedBatch struct {
	notices []firebreak.Notice
	waiting []*pending
}

// incidentData is what every notice of an incident shares. It is never
// changed once loaded: a refresh makes a new one, so that notices waiting
// for the group commit keep reading the one they were given.
type incidentData struct {
	inc     *firebreak.Incident
	next    time.Time                 // the promised next update
	actions map[string]notice.Actions // what containment did, per account
}

// cachedIncident holds an incident's data, read again at most every Refresh.
type cachedIncident struct {
	mu      sync.Mutex
	loaded  time.Time
	err     error
	data    *incidentData
	loading chan struct{} // closed when the read in progress ends; nil when none is
}

// New returns a Notifier; Close stops it.
func New(cfg Config) (*Notifier, error) {
	switch {
	case cfg.Incidents == nil:
		return nil, &firebreak.FieldError{Field: "incidents", Reason: "required"}
	case cfg.Facts == nil:
		return nil, &firebreak.FieldError{Field: "facts", Reason: "required"}
	case cfg.Notices == nil:
		return nil, &firebreak.FieldError{Field: "notices", Reason: "required"}
	case cfg.Status == nil:
		return nil, &firebreak.FieldError{Field: "status", Reason: "required"}
	case cfg.Templates == nil:
		return nil, &firebreak.FieldError{Field: "templates", Reason: "required"}
	case cfg.Org == "":
		return nil, &firebreak.FieldError{Field: "org", Reason: "required: notices name the organisation"}
	case cfg.StatusURL == nil:
		return nil, &firebreak.FieldError{Field: "status_url", Reason: "required: notices say where updates appear"}
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.Batch <= 0 || cfg.Batch > firebreak.MaxBatch {
		cfg.Batch = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, stop := context.WithCancel(context.Background())
	n := &Notifier{cfg: cfg, queue: make(chan *pending, 4*cfg.Batch), rendered: make(chan renderedBatch, 1),
		cache: map[int64]*cachedIncident{}, stop: stop, done: make(chan struct{})}
	go n.commit(ctx)
	go n.write()
	return n, nil
}

// Close stops the group commit; Applies waiting for it fail.
func (n *Notifier) Close() error {
	n.stop()
	<-n.done
	return nil
}

// Templates returns the notifier's notice templates.
func (n *Notifier) Templates() *notice.Set { return n.cfg.Templates }

// Name identifies the notifier on the timeline.
func (n *Notifier) Name() string { return "notices" }

// Apply queues the notice of one account on the action's channel. It is
// idempotent: the outbox keeps one notice per incident, account and
// template, so a repeat after an unknown outcome changes nothing. An
// account the incident no longer holds, or an incident that was resolved
// or merged, is rejected with the reason (the item is skipped, not sent).
func (n *Notifier) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	info, ok := req.Action.Info()
	if !ok || info.Channel == "" {
		return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: fmt.Sprintf("%s is not a notice action", req.Action)}
	}
	if n.cfg.Channels != nil && !slices.Contains(n.cfg.Channels, info.Channel) {
		return rejected("no %s channel is configured on this server", info.Channel)
	}
	d, err := n.incident(ctx, req.IncidentID)
	if err != nil {
		return err
	}
	switch {
	case d.inc.MergedInto != 0:
		return rejected("the incident was merged into incident %d", d.inc.MergedInto)
	case d.inc.State == firebreak.StateResolved:
		return rejected("the incident was resolved")
	}
	p := &pending{account: req.Target, channel: info.Channel, data: d, done: make(chan error, 1)}
	select {
	case n.queue <- p:
	case <-ctx.Done():
		return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Reason: "cancelled before the notice was queued"}
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// It may still commit: the outcome is unknown, and a repeat is harmless.
		return ctx.Err()
	}
}

// Revert refuses: a notice cannot be unsent.
func (n *Notifier) Revert(context.Context, firebreak.ActionRequest) error {
	return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: "a notice cannot be unsent"}
}

// Observe reports every account as existing and nothing as applied: the
// executor then calls Apply again after an unknown outcome, which the
// outbox's deduplication makes harmless.
func (n *Notifier) Observe(context.Context, string, bool) (firebreak.TargetState, error) {
	return firebreak.TargetState{Exists: true}, nil
}

// render builds the notice of one account of tier from the incident's data.
func (n *Notifier) render(ctx context.Context, p *pending, tier firebreak.Tier) (firebreak.Notice, error) {
	d := p.data
	locale := ""
	if n.cfg.Locale != nil {
		locale = n.cfg.Locale(ctx, p.account)
	}
	t, err := n.cfg.Templates.Lookup(d.inc.Kind, tier, p.channel, locale)
	if err != nil {
		return firebreak.Notice{}, rejected("no template: %s", firebreak.ErrorMessage(err))
	}
	m, err := t.Execute(n.dataFor(d.inc, d.next, tier, p.account, d.actions[p.account]))
	if err != nil {
		return firebreak.Notice{}, rejected("the template did not render: %s", firebreak.ErrorMessage(err))
	}
	return firebreak.Notice{IncidentID: d.inc.ID, Account: p.account, Template: m.Template, Channel: p.channel,
		Locale: m.Locale, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}

// dataFor is what a template sees for one account of an incident.
func (n *Notifier) dataFor(inc *firebreak.Incident, next time.Time, tier firebreak.Tier, account string, acts notice.Actions) *notice.Data {
	return &notice.Data{Org: n.cfg.Org, Tier: tier, Account: account, Actions: acts,
		StatusURL: n.cfg.StatusURL(inc.ID), NextUpdate: next,
		Incident: notice.Incident{ID: inc.ID, Kind: inc.Kind, Title: inc.Title, FirstSeen: inc.FirstSeen}}
}

// incident returns the shared data of an incident, read again after
// Refresh. One caller reads it again while the others go on with what was
// read before; only the very first read is waited for.
func (n *Notifier) incident(ctx context.Context, id int64) (*incidentData, error) {
	n.mu.Lock()
	c := n.cache[id]
	if c == nil {
		c = &cachedIncident{}
		n.cache[id] = c
	}
	n.mu.Unlock()
	for {
		c.mu.Lock()
		now := n.cfg.Now()
		fresh := !c.loaded.IsZero() && now.Sub(c.loaded) < n.cfg.Refresh
		if fresh || (c.loading != nil && !c.loaded.IsZero()) {
			data, err := c.data, c.err
			c.mu.Unlock()
			return data, err
		}
		if wait := c.loading; wait != nil { // the first read is in progress
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, notApplied(ctx.Err())
			}
		}
		done := make(chan struct{})
		c.loading = done
		c.mu.Unlock()
		data, err := n.load(context.WithoutCancel(ctx), id)
		c.mu.Lock()
		c.data, c.err, c.loaded, c.loading = data, err, now, nil
		c.mu.Unlock()
		close(done)
		return data, err
	}
}

// load reads the incident, its promised next update and what containment
// did to its accounts.
func (n *Notifier) load(ctx context.Context, id int64) (*incidentData, error) {
	inc, err := n.cfg.Incidents.Find(ctx, id)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return nil, rejected("incident %d does not exist", id)
	} else if err != nil {
		return nil, notApplied(err)
	}
	next, err := n.nextUpdate(ctx, id)
	if err != nil {
		return nil, err
	}
	actions := map[string]notice.Actions{}
	err = n.cfg.Facts.EachAccountAction(ctx, id, func(account string, kind firebreak.RunKind, a firebreak.AccountAction) {
		acts := actions[account]
		acts.Set(a.Action, kind == firebreak.RunApply, a.Until)
		if acts.Any() {
			actions[account] = acts
		} else {
			delete(actions, account)
		}
	})
	if err != nil {
		return nil, notApplied(err)
	}
	return &incidentData{inc: inc, next: next, actions: actions}, nil
}

// nextUpdate returns when the incident's next status update is promised.
// Notices go out only while a promise stands: Announce makes one before a
// campaign starts.
func (n *Notifier) nextUpdate(ctx context.Context, id int64) (time.Time, error) {
	u, err := n.cfg.Status.Latest(ctx, id)
	switch {
	case firebreak.ErrorCode(err) == firebreak.ENOTFOUND:
		return time.Time{}, rejected("incident %d has no status page entry, so a notice could not say where updates appear", id)
	case err != nil:
		return time.Time{}, notApplied(err)
	case u.NextUpdateBy.IsZero():
		return time.Time{}, rejected("the status page says incident %d is resolved", id)
	}
	return u.NextUpdateBy, nil
}

// commit resolves, renders and queues pending notices in batches: one
// query for the tiers of a batch's accounts, one transaction for its notices.
func (n *Notifier) commit(ctx context.Context) {
	defer close(n.rendered)
	var batch []*pending
	for {
		batch = make([]*pending, 0, len(batch))
		select {
		case p := <-n.queue:
			batch = append(batch, p)
		case <-ctx.Done():
			n.drain()
			return
		}
	fill:
		for len(batch) < n.cfg.Batch {
			select {
			case p := <-n.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		n.flush(context.WithoutCancel(ctx), batch)
	}
}

// flush renders one batch, answers the notices that cannot be queued and
// hands the rest to the writer.
func (n *Notifier) flush(ctx context.Context, batch []*pending) {
	byIncident := map[int64][]string{}
	for _, p := range batch {
		byIncident[p.data.inc.ID] = append(byIncident[p.data.inc.ID], p.account)
	}
	tiers := map[int64]map[string]firebreak.Tier{}
	failed := map[int64]error{}
	for id, accounts := range byIncident {
		t, err := n.cfg.Facts.Tiers(ctx, id, accounts)
		if err != nil {
			failed[id] = notApplied(err)
		}
		tiers[id] = t
	}
	notices := make([]firebreak.Notice, 0, len(batch))
	queued := make([]*pending, 0, len(batch))
	for _, p := range batch {
		id := p.data.inc.ID
		if err := failed[id]; err != nil {
			p.done <- err
			continue
		}
		tier, ok := tiers[id][p.account]
		if !ok {
			p.done <- rejected("the incident no longer holds this account")
			continue
		}
		no, err := n.render(ctx, p, tier)
		if err != nil {
			p.done <- err
			continue
		}
		notices = append(notices, no)
		queued = append(queued, p)
	}
	if len(notices) > 0 {
		n.rendered <- renderedBatch{notices: notices, waiting: queued}
	}
}

// write queues rendered batches in the outbox, one transaction each, and
// answers their notices.
func (n *Notifier) write() {
	defer close(n.done)
	for b := range n.rendered {
		_, err := n.cfg.Notices.Enqueue(context.Background(), b.notices)
		if err != nil {
			n.cfg.Logger.Warn("notices not queued", "count", len(b.notices), "err", err)
			err = notApplied(err)
		}
		for _, p := range b.waiting {
			p.done <- err
		}
	}
}

// drain fails what is still waiting when the notifier closes.
func (n *Notifier) drain() {
	for {
		select {
		case p := <-n.queue:
			p.done <- &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Reason: "the notifier is closing"}
		default:
			return
		}
	}
}

// rejected is a notice that can never be queued: the item is skipped with the reason.
func rejected(format string, args ...any) error {
	return &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: fmt.Sprintf(format, args...)}
}

// notApplied is a store error before anything was queued: safe to retry.
func notApplied(err error) error {
	return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Reason: firebreak.ErrorMessage(err)}
}
