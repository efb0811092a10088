package firebreak

import (
	"context"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditStatusPublished is the audit action of a published status update,
// from the API, the dashboard or a campaign's announcement.
const AuditStatusPublished = "status.published"

// Phase is where a public status update says an incident is.
type Phase string

// Phases of a public incident, in their usual order. An incident whose latest
// update is resolved is no longer current; a later update reopens it.
const (
	PhaseInvestigating Phase = "investigating"
	PhaseIdentified    Phase = "identified"
	PhaseMonitoring    Phase = "monitoring"
	PhaseResolved      Phase = "resolved"
)

// Phases lists every phase in order.
var Phases = []Phase{PhaseInvestigating, PhaseIdentified, PhaseMonitoring, PhaseResolved}

// Limits on status updates and subscriptions.
const (
	MaxStatusBodyLen  = 8192           // bytes of an update's body
	MaxNextUpdateWait = 24 * time.Hour // how far ahead the next update may be promised
	MaxTargetLen      = 2048           // bytes of a subscription's address or URL
)

// EntryStatusUpdate is the timeline kind of a published status update.
const EntryStatusUpdate = "status_update"

// StatusUpdate is one public message on the status page. Updates with the
// same IncidentID form a thread; IncidentID 0 is the thread of general
// notices (maintenance, "this notice is real") that concern no incident.
// Every update except a resolved one promises the next by NextUpdateBy.
type StatusUpdate struct {
	ID           int64     `json:"id"`
	IncidentID   int64     `json:"incident_id"` // 0 for a general notice
	Phase        Phase     `json:"phase"`
	Title        string    `json:"title"`
	Body         string    `json:"body"` // plain text; blank lines separate paragraphs
	Author       string    `json:"author"`
	PublishedAt  time.Time `json:"published_at"`
	NextUpdateBy time.Time `json:"next_update_by,omitzero"` // zero only when resolved
}

// Validate checks the fields a caller sets against the current time now and
// returns a *FieldError naming the first bad one. NextUpdateBy is required,
// after now and at most MaxNextUpdateWait ahead, unless the phase is
// resolved, when it must be zero.
func (u *StatusUpdate) Validate(now time.Time) error {
	switch {
	case u.IncidentID < 0:
		return &FieldError{Field: "incident_id", Reason: "must be 0 (a general notice) or an incident id"}
	case !slices.Contains(Phases, u.Phase):
		return &FieldError{Field: "phase", Reason: "must be one of " + names(Phases)}
	}
	if err := checkText("title", u.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := checkText("body", whitespace.Replace(u.Body), MaxStatusBodyLen, true); err != nil {
		return err
	}
	if err := checkText("author", u.Author, MaxShortField, true); err != nil {
		return err
	}
	return u.checkNextUpdate(now)
}

func (u *StatusUpdate) checkNextUpdate(now time.Time) error {
	const field = "next_update_by"
	switch {
	case u.Phase == PhaseResolved && !u.NextUpdateBy.IsZero():
		return &FieldError{Field: field, Reason: "must be empty when the phase is resolved"}
	case u.Phase == PhaseResolved:
		return nil
	case u.NextUpdateBy.IsZero():
		return &FieldError{Field: field, Reason: "required unless the phase is resolved: say when the next update comes"}
	case !u.NextUpdateBy.After(now):
		return &FieldError{Field: field, Reason: "must be in the future"}
	case u.NextUpdateBy.After(now.Add(MaxNextUpdateWait)):
		return &FieldError{Field: field, Reason: "must be at most 24h ahead"}
	}
	return nil
}

// StatusThread is one incident's public updates, newest first.
type StatusThread struct {
	IncidentID int64          `json:"incident_id"` // 0 for general notices
	Updates    []StatusUpdate `json:"updates"`     // never empty; Updates[0] is the latest
}

// Latest returns the thread's newest update.
func (t *StatusThread) Latest() StatusUpdate { return t.Updates[0] }

// StatusFilter selects a page of status history, newest first. Cursor is the
// Next of a previous page, opaque to callers.
type StatusFilter struct {
	Cursor string
	Limit  int // at most MaxPageLimit; 0 means DefaultPageLimit
}

// Validate checks the filter's fields; the store checks the cursor.
func (f *StatusFilter) Validate() error { return checkLimit(f.Limit, f.Cursor) }

// StatusPage is one page of status updates, newest first. Next is empty on
// the last page.
type StatusPage struct {
	Updates []StatusUpdate `json:"updates"`
	Next    string         `json:"next,omitempty"`
}

// SubscriptionKind is how a subscriber hears of new status updates.
type SubscriptionKind string

// Subscription kinds.
const (
	SubscribeEmail   SubscriptionKind = "email"
	SubscribeWebhook SubscriptionKind = "webhook"
)

// SubscriptionKinds lists every subscription kind.
var SubscriptionKinds = []SubscriptionKind{SubscribeEmail, SubscribeWebhook}

// Subscription is someone who asked to hear of status updates. It receives
// nothing until confirmed through the token sent to Target. The store keeps
// only a hash of the token, so Token is set only by Subscribe.
type Subscription struct {
	ID        int64            `json:"id"`
	Kind      SubscriptionKind `json:"kind"`
	Target    string           `json:"target"` // an email address or an https URL
	Token     string           `json:"-"`      // confirms and unsubscribes; plain text only once
	CreatedAt time.Time        `json:"created_at"`
	Confirmed bool             `json:"confirmed"`
}

// Validate checks Kind and Target and normalises Target: surrounding space
// is trimmed and an email address's domain is lower-cased. A webhook must be
// an https URL without credentials whose host is a name or a public address.
func (s *Subscription) Validate() error {
	s.Target = strings.TrimSpace(s.Target)
	switch {
	case !slices.Contains(SubscriptionKinds, s.Kind):
		return &FieldError{Field: "kind", Reason: "must be one of " + names(SubscriptionKinds)}
	case s.Target == "":
		return &FieldError{Field: "target", Reason: "required"}
	case len(s.Target) > MaxTargetLen:
		return &FieldError{Field: "target", Reason: "longer than " + strconv.Itoa(MaxTargetLen) + " bytes"}
	case s.Kind == SubscribeEmail:
		return s.normaliseEmail()
	}
	return checkWebhookURL(s.Target)
}

func (s *Subscription) normaliseEmail() error {
	a, err := mail.ParseAddress(s.Target)
	if err != nil || a.Name != "" || a.Address != s.Target || len(a.Address) > 254 {
		return &FieldError{Field: "target", Reason: "not an email address (write it as name@example.com)"}
	}
	local, domain, _ := strings.Cut(a.Address, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return &FieldError{Field: "target", Reason: "email domain must be a domain name"}
	}
	s.Target = local + "@" + strings.ToLower(domain)
	return nil
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return &FieldError{Field: "target", Reason: "not an absolute URL"}
	case u.Scheme != "https":
		return &FieldError{Field: "target", Reason: "webhook URL must use https"}
	case u.User != nil:
		return &FieldError{Field: "target", Reason: "webhook URL must not hold credentials"}
	case u.Fragment != "":
		return &FieldError{Field: "target", Reason: "webhook URL must not have a #fragment"}
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &FieldError{Field: "target", Reason: "webhook host must not be local"}
	}
	if ip, err := netip.ParseAddr(host); err == nil && !isPublic(ip) {
		return &FieldError{Field: "target", Reason: "webhook host must be a public address"}
	}
	return nil
}

// isPublic reports whether ip is routable on the internet. This only stops
// the obvious cases at input; the sender must check the resolved address.
func isPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}

// SubscriberFilter selects confirmed subscriptions in ID order. Zero fields
// do not filter.
type SubscriberFilter struct {
	Kind    SubscriptionKind
	AfterID int64 // the last ID of the previous page
	Limit   int   // at most MaxPageLimit; 0 means DefaultPageLimit
}

// Validate checks the filter's fields.
func (f *SubscriberFilter) Validate() error {
	if f.Kind != "" && !slices.Contains(SubscriptionKinds, f.Kind) {
		return &FieldError{Field: "kind", Reason: "must be one of " + names(SubscriptionKinds)}
	}
	if f.AfterID < 0 {
		return &FieldError{Field: "after_id", Reason: "must not be negative"}
	}
	return checkLimit(f.Limit, "")
}

// StatusService stores the public status page: updates in threads per
// incident, and the subscriptions to them. Times come from the store's clock.
//
// Error codes:
//   - EINVALID: bad input, the message naming the field (e.g.
//     "field next_update_by: must be in the future"), including a malformed
//     cursor and an empty token.
//   - ENOTFOUND: an incident that does not exist (Publish), a thread with no
//     updates (Thread, Latest), a token that matches no subscription.
//   - ECONFLICT: subscribing a target that is already subscribed and
//     confirmed.
//   - EINTERNAL: anything else (storage failure).
type StatusService interface {
	// Publish stores u, setting its ID and PublishedAt. An update for an
	// incident also goes on that incident's timeline, in the same transaction.
	Publish(ctx context.Context, u *StatusUpdate) error
	// Current returns the threads whose latest update is not resolved, the
	// most recently updated first, each with all its updates.
	Current(ctx context.Context) ([]StatusThread, error)
	// History returns a page of every update, newest first.
	History(ctx context.Context, filter StatusFilter) (*StatusPage, error)
	// Thread returns one incident's updates (0: general notices), newest
	// first, at most MaxPageLimit of them.
	Thread(ctx context.Context, incidentID int64) (*StatusThread, error)
	// Latest returns the newest update of one incident (0: general notices).
	Latest(ctx context.Context, incidentID int64) (*StatusUpdate, error)
	// Overdue returns the latest update of each current thread whose
	// NextUpdateBy is before now: a promised update that has not come.
	// Oldest promise first.
	Overdue(ctx context.Context, now time.Time) ([]StatusUpdate, error)

	// Subscribe stores an unconfirmed subscription, setting ID, CreatedAt and
	// a new Token to send to Target for confirmation. Subscribing an
	// unconfirmed target again replaces its token.
	Subscribe(ctx context.Context, sub *Subscription) error
	// Confirm marks the subscription holding token confirmed and returns it.
	Confirm(ctx context.Context, token string) (*Subscription, error)
	// Unsubscribe deletes the subscription holding token.
	Unsubscribe(ctx context.Context, token string) error
	// ListSubscribers returns a page of confirmed subscriptions in ID order.
	ListSubscribers(ctx context.Context, filter SubscriberFilter) ([]Subscription, error)
}
