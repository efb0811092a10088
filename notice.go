package firebreak

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// Channel is the way a notice reaches a person (or, for slack, operators).
type Channel string

// Notice channels.
const (
	ChannelEmail Channel = "email" // SMTP; subject, text and HTML
	ChannelSMS   Channel = "sms"   // signed webhook to an SMS provider
	ChannelChat  Channel = "chat"  // signed webhook to a chat provider
	ChannelSlack Channel = "slack" // Slack-compatible incoming webhook, for operators
	ChannelInApp Channel = "inapp" // the in-app feed the platform's own app reads
)

// Channels lists every channel.
var Channels = []Channel{ChannelEmail, ChannelSMS, ChannelChat, ChannelSlack, ChannelInApp}

// NoticeState is where a notice is in its delivery.
type NoticeState string

// Notice states: queued → sent | failed(reason). A notice that is no longer
// due when its turn comes (the incident was resolved, the restriction was
// lifted) is failed with a reason that says so; it is never sent late.
const (
	NoticeQueued NoticeState = "queued"
	NoticeSent   NoticeState = "sent"
	NoticeFailed NoticeState = "failed"
)

// NoticeStates lists every notice state.
var NoticeStates = []NoticeState{NoticeQueued, NoticeSent, NoticeFailed}

// Limits on notice fields, in bytes.
const (
	MaxNoticeBody   = 256 << 10 // Text and HTML each
	MaxSubjectLen   = 998       // one RFC 5322 header line
	MaxLocaleLen    = 35        // a BCP 47 tag such as "pt-BR"
	MaxTemplateName = MaxShortField
)

// NoticeKey identifies a notice: at most one notice exists per incident,
// account and template, however often it is enqueued and across restarts.
type NoticeKey struct {
	IncidentID int64
	Account    string
	Template   string
}

// Notice is one rendered message to one account about one incident, and its
// delivery state. Template is the logical template name ("email/compromised"),
// the same in every locale, so that a person gets one notice whatever the
// language; an account that moves to another tier gets the new tier's notice.
type Notice struct {
	ID         int64       `json:"id"`
	IncidentID int64       `json:"incident_id"`
	Account    string      `json:"account"`
	Template   string      `json:"template"`
	Channel    Channel     `json:"channel"`
	Locale     string      `json:"locale"`
	Subject    string      `json:"subject,omitempty"` // email only
	Text       string      `json:"text"`
	HTML       string      `json:"html,omitempty"` // email only
	State      NoticeState `json:"state"`
	Reason     string      `json:"reason,omitempty"` // why it failed
	Attempts   int         `json:"attempts"`
	CreatedAt  time.Time   `json:"created_at"`
	SentAt     time.Time   `json:"sent_at,omitzero"`
	// NextAttempt is the earliest time a sender may claim the notice: a
	// lease while a sender holds it, a backoff or Retry-After after a
	// temporary failure. Zero: at once.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// Key returns the notice's deduplication key.
func (n *Notice) Key() NoticeKey {
	return NoticeKey{IncidentID: n.IncidentID, Account: n.Account, Template: n.Template}
}

// Validate checks the fields a caller sets before Enqueue and returns a
// *FieldError naming the first bad one.
func (n *Notice) Validate() error {
	switch {
	case n.IncidentID <= 0:
		return &FieldError{Field: "incident_id", Reason: "required"}
	case !slices.Contains(Channels, n.Channel):
		return &FieldError{Field: "channel", Reason: "must be one of " + names(Channels)}
	case n.State != "" && !slices.Contains(NoticeStates, n.State):
		return &FieldError{Field: "state", Reason: "must be one of " + names(NoticeStates)}
	case n.Text == "":
		return &FieldError{Field: "text", Reason: "required"}
	case len(n.Text) > MaxNoticeBody:
		return &FieldError{Field: "text", Reason: "longer than " + strconv.Itoa(MaxNoticeBody) + " bytes"}
	case len(n.HTML) > MaxNoticeBody:
		return &FieldError{Field: "html", Reason: "longer than " + strconv.Itoa(MaxNoticeBody) + " bytes"}
	case n.Channel == ChannelEmail && n.Subject == "":
		return &FieldError{Field: "subject", Reason: "required for email"}
	case n.Channel != ChannelEmail && (n.Subject != "" || n.HTML != ""):
		return &FieldError{Field: "html", Reason: "subject and html are for email only"}
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"account", n.Account, MaxAccountLen},
		{"template", n.Template, MaxTemplateName},
		{"locale", n.Locale, MaxLocaleLen},
		{"subject", n.Subject, MaxSubjectLen},
	} {
		if err := checkText(f.name, f.v, f.max, f.name != "subject"); err != nil {
			return err
		}
	}
	return checkLongText("reason", n.Reason, false)
}

// ValidateNotices validates notices given to Enqueue; fields are named like
// "notices[3].channel".
func ValidateNotices(notices []Notice) error {
	if len(notices) > MaxBatch {
		return &FieldError{Field: "notices", Reason: "more than " + strconv.Itoa(MaxBatch)}
	}
	for i := range notices {
		if err := notices[i].Validate(); err != nil {
			return indexed("notices", i, err)
		}
	}
	return nil
}

// NoticeResult is the outcome of one claimed notice, recorded by a sender.
type NoticeResult struct {
	ID     int64
	State  NoticeState // sent, failed, or queued (try again at RetryAt)
	Reason string      // why it failed, or why it is retried
	At     time.Time   // when it was sent or failed
	// RetryAt is the earliest next attempt of a notice put back in the
	// queue: the sender's backoff, or the provider's Retry-After.
	RetryAt time.Time
}

// NoticeFilter selects notices, oldest first (by ID). Zero fields do not
// filter; Cursor is the Next of a previous page, opaque to callers.
type NoticeFilter struct {
	IncidentID int64
	State      NoticeState
	Channel    Channel
	Cursor     string
	Limit      int // at most MaxPageLimit; 0 means DefaultPageLimit
}

// Validate checks the filter's fields; the store checks the cursor.
func (f *NoticeFilter) Validate() error {
	switch {
	case f.IncidentID < 0:
		return &FieldError{Field: "incident_id", Reason: "must not be negative"}
	case f.State != "" && !slices.Contains(NoticeStates, f.State):
		return &FieldError{Field: "state", Reason: "must be one of " + names(NoticeStates)}
	case f.Channel != "" && !slices.Contains(Channels, f.Channel):
		return &FieldError{Field: "channel", Reason: "must be one of " + names(Channels)}
	}
	return checkLimit(f.Limit, f.Cursor)
}

// NoticePage is one page of notices. Next is empty on the last page.
type NoticePage struct {
	Notices []Notice `json:"notices"`
	Next    string   `json:"next,omitempty"`
}

// NoticeStateCounts counts notices by state.
type NoticeStateCounts struct {
	Queued int64 `json:"queued"`
	Sent   int64 `json:"sent"`
	Failed int64 `json:"failed"`
}

// NoticeCounts counts an incident's notices by channel and state; channels
// without notices are absent.
type NoticeCounts map[Channel]NoticeStateCounts

// NoticeService stores notices and their delivery state; the outbox. Every
// method is one transaction.
//
// Error codes: EINVALID for bad input naming the field (a malformed cursor
// too), ENOTFOUND for an unknown notice, ECONFLICT for recording the outcome
// of a notice that is already sent or failed, EINTERNAL for anything else.
type NoticeService interface {
	// Enqueue stores notices as queued, all in one transaction. A notice
	// whose NoticeKey is already stored is skipped, not an error: the
	// stored one stays as it is. Enqueue sets ID, State and CreatedAt on the
	// notices it added, leaves ID 0 on the skipped ones, and returns how
	// many it added.
	Enqueue(ctx context.Context, notices []Notice) (added int, err error)
	// Find returns one notice.
	Find(ctx context.Context, id int64) (*Notice, error)
	// Claim takes up to limit queued notices of a channel whose NextAttempt
	// is at or before at, oldest first; it sets their NextAttempt to
	// at+lease and Attempts+1, and returns them. The change is durable on
	// return. A sender that dies holding notices loses them only until the
	// lease expires.
	Claim(ctx context.Context, channel Channel, limit int, lease time.Duration, at time.Time) ([]Notice, error)
	// Record stores the outcomes of claimed notices; durable on return.
	Record(ctx context.Context, results []NoticeResult) error
	// List returns a page of notices.
	List(ctx context.Context, filter NoticeFilter) (*NoticePage, error)
	// Counts returns an incident's notices by channel and state (every
	// incident's if incidentID is 0).
	Counts(ctx context.Context, incidentID int64) (NoticeCounts, error)
}
