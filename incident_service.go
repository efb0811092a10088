package firebreak

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// Page sizes of IncidentFilter and AccountFilter.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 1000
)

// IncidentFilter selects incidents, newest opened first. Zero fields do not
// filter. Cursor is the Next of a previous page, opaque to callers.
type IncidentFilter struct {
	State  State
	Kind   IncidentKind
	Since  time.Time // keep incidents last seen at or after Since
	Cursor string
	Limit  int // at most MaxPageLimit; 0 means DefaultPageLimit
}

// Validate checks the filter's fields; the store checks the cursor.
func (f *IncidentFilter) Validate() error {
	switch {
	case f.State != "" && !slices.Contains(States, f.State):
		return &FieldError{Field: "state", Reason: "must be one of " + names(States)}
	case f.Kind != "" && !slices.Contains(IncidentKinds, f.Kind):
		return &FieldError{Field: "kind", Reason: "must be one of " + names(IncidentKinds)}
	}
	return checkLimit(f.Limit, f.Cursor)
}

// AccountFilter selects an incident's affected accounts: most certain tier
// first, then by account. Zero fields do not filter.
type AccountFilter struct {
	Tier   Tier
	Cursor string
	Limit  int // at most MaxPageLimit; 0 means DefaultPageLimit
}

// Validate checks the filter's fields; the store checks the cursor.
func (f *AccountFilter) Validate() error {
	if f.Tier != "" && !slices.Contains(Tiers, f.Tier) {
		return &FieldError{Field: "tier", Reason: "must be one of " + names(Tiers)}
	}
	return checkLimit(f.Limit, f.Cursor)
}

func checkLimit(limit int, cursor string) error {
	if limit < 0 || limit > MaxPageLimit {
		return &FieldError{Field: "limit", Reason: "must be from 0 to " + strconv.Itoa(MaxPageLimit)}
	}
	return checkText("cursor", cursor, 1024, false)
}

// IncidentPage is one page of incidents. Next is empty on the last page.
type IncidentPage struct {
	Incidents []*Incident `json:"incidents"`
	Next      string      `json:"next,omitempty"`
}

// AccountPage is one page of an incident's affected accounts with the
// incident's tier counts. Next is empty on the last page.
type AccountPage struct {
	Accounts []AffectedAccount `json:"accounts"`
	Counts   TierCounts        `json:"counts"`
	Next     string            `json:"next,omitempty"`
}

// IncidentUpdate changes an incident; nil fields stay as they are. Reason,
// optional, says why: it goes on the timeline with the change, in the same
// transaction.
type IncidentUpdate struct {
	State    *State    `json:"state,omitempty"`
	Severity *Severity `json:"severity,omitempty"`
	Title    *string   `json:"title,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// Validate checks the fields that are set; whether a state change is allowed
// depends on the current state (see CanTransition).
func (u *IncidentUpdate) Validate() error {
	switch {
	case u.State == nil && u.Severity == nil && u.Title == nil:
		return &FieldError{Reason: "nothing to update: set state, severity or title"}
	case u.State != nil && !slices.Contains(States, *u.State):
		return &FieldError{Field: "state", Reason: "must be one of " + names(States)}
	case u.Severity != nil && !slices.Contains(Severities, *u.Severity):
		return &FieldError{Field: "severity", Reason: "must be one of " + names(Severities)}
	case u.Title != nil:
		if err := checkText("title", *u.Title, MaxTitleLen, true); err != nil {
			return err
		}
	}
	return checkLongText("reason", u.Reason, false)
}

// TierMove is an operator moving one account to another tier, in any
// direction. The reason goes on the timeline.
type TierMove struct {
	Account string `json:"account"`
	To      Tier   `json:"to"`
	Reason  string `json:"reason"`
	Actor   string `json:"actor"`
}

// Validate checks every field; Reason and Actor are required.
func (m *TierMove) Validate() error {
	if err := checkText("account", m.Account, MaxAccountLen, true); err != nil {
		return err
	}
	if !slices.Contains(Tiers, m.To) {
		return &FieldError{Field: "to", Reason: "must be one of " + names(Tiers)}
	}
	if err := checkLongText("reason", m.Reason, true); err != nil {
		return err
	}
	return ValidateActor(m.Actor)
}

// IncidentService stores incidents with their sources, affected accounts and
// timeline. Every write is one transaction: it applies fully or not at all,
// and the timeline entries it writes commit with it.
//
// Error codes:
//   - EINVALID: bad input, the message naming the field (e.g.
//     "accounts[3].tier: must be one of ..."), including a malformed cursor
//     and merging an incident into itself.
//   - ENOTFOUND: an unknown incident id, or (MoveAccount) an account the
//     incident does not hold.
//   - ECONFLICT: a state change AllowedTransitions does not allow (the
//     message names the allowed states); moving an account to the tier it is
//     in; adding accounts or sources to a resolved incident; changing a
//     merged incident; merging a resolved one.
//   - EINTERNAL: anything else (storage failure).
type IncidentService interface {
	// Create stores inc with its sources and first accounts and an "opened"
	// timeline entry by actor. It sets ID, State (detected), OpenedAt,
	// UpdatedAt and Counts on inc.
	Create(ctx context.Context, inc *Incident, accounts []AffectedAccount, actor string) error
	// Find returns one incident with its sources.
	Find(ctx context.Context, id int64) (*Incident, error)
	// List returns a page of incidents (without sources), newest opened first.
	List(ctx context.Context, filter IncidentFilter) (*IncidentPage, error)
	// Update applies upd and writes one timeline entry per change, by actor.
	Update(ctx context.Context, id int64, upd IncidentUpdate, actor string) (*Incident, error)
	// UpsertAccounts adds accounts or updates them from new evidence. A tier
	// only moves up (targeted → at_risk → compromised), never down, and never
	// for an account an operator moved. Seen times widen, never narrow.
	UpsertAccounts(ctx context.Context, id int64, accounts []AffectedAccount) error
	// MoveAccount moves one account to another tier, in any direction, and
	// writes the reason on the timeline.
	MoveAccount(ctx context.Context, id int64, move TierMove) (*AffectedAccount, error)
	// ListAccounts returns a page of affected accounts with the tier counts.
	ListAccounts(ctx context.Context, id int64, filter AccountFilter) (*AccountPage, error)
	// AddSources adds sources or updates them; each counter keeps the larger
	// of the stored and the new total, and the newest evidence wins.
	AddSources(ctx context.Context, id int64, sources []IncidentSource) error
	// AddEntry appends an entry (a note, a finding) to the timeline.
	AddEntry(ctx context.Context, id int64, entry TimelineEntry) (*TimelineEntry, error)
	// Timeline returns every entry, oldest first.
	Timeline(ctx context.Context, id int64) ([]TimelineEntry, error)
	// Merge moves the accounts and sources of from into into (tiers combine
	// as in UpsertAccounts), copies from's timeline into into's, and resolves
	// from with MergedInto set. Both get a "merged" entry by actor.
	Merge(ctx context.Context, into, from int64, actor string) (*Incident, error)
}
