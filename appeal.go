package firebreak

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"
)

// AppealState is where an appeal is.
type AppealState string

// Appeal states: received, then lifted (the restriction was undone at once
// or by an operator), queued_for_review (waiting for an operator) or
// rejected. Lifted and rejected are decisions; received and queued appeals
// are open.
const (
	AppealReceived AppealState = "received"
	AppealLifted   AppealState = "lifted"
	AppealQueued   AppealState = "queued_for_review"
	AppealRejected AppealState = "rejected"
)

// AppealStates lists every appeal state.
var AppealStates = []AppealState{AppealReceived, AppealLifted, AppealQueued, AppealRejected}

// Open reports whether the appeal still waits for a decision.
func (s AppealState) Open() bool { return s == AppealReceived || s == AppealQueued }

// MaxAppealComment is the longest comment a person may leave, in characters.
const MaxAppealComment = 1000

// Audit actions of appeals.
const (
	AuditAppealRecorded = "appeal.recorded"
	AuditAppealDecided  = "appeal.decided"
)

// Appeal is a person's "this was me" about an incident that acted on their
// account. A lifted appeal counts as a measured false positive.
type Appeal struct {
	ID         int64       `json:"id"`
	IncidentID int64       `json:"incident_id"`
	Account    string      `json:"account"`
	Tier       Tier        `json:"tier"`              // the account's tier when it appealed
	Comment    string      `json:"comment,omitempty"` // the person's words, at most MaxAppealComment characters
	State      AppealState `json:"state"`
	Reason     string      `json:"reason,omitempty"` // why it was decided so
	CreatedAt  time.Time   `json:"created_at"`
	DecidedAt  time.Time   `json:"decided_at,omitzero"`
	DecidedBy  string      `json:"decided_by,omitempty"`
}

// Validate checks a new appeal and returns a *FieldError naming the first
// bad field.
func (a *Appeal) Validate() error {
	if a.IncidentID <= 0 {
		return &FieldError{Field: "incident_id", Reason: "required"}
	}
	if err := checkText("account", a.Account, MaxAccountLen, true); err != nil {
		return err
	}
	switch {
	case !slices.Contains(Tiers, a.Tier):
		return &FieldError{Field: "tier", Reason: "must be one of " + names(Tiers)}
	case utf8.RuneCountInString(a.Comment) > MaxAppealComment:
		return &FieldError{Field: "comment", Reason: "longer than 1000 characters"}
	case a.State != "" && a.State != AppealReceived:
		return &FieldError{Field: "state", Reason: "a new appeal is received"}
	}
	return checkLongText("comment", a.Comment, false)
}

// AppealCount is how many appeals of one tier are in one state.
type AppealCount struct {
	Tier  Tier        `json:"tier"`
	State AppealState `json:"state"`
	Count int64       `json:"count"`
}

// AppealList is one page of an incident's appeals, newest first, with the
// counts of all of them by tier and state.
type AppealList struct {
	Appeals []*Appeal     `json:"appeals"`
	Counts  []AppealCount `json:"counts"`
	Next    string        `json:"next,omitempty"`
}

// Lifted returns the number of lifted appeals of tier t.
func (l *AppealList) Lifted(t Tier) int64 {
	for _, c := range l.Counts {
		if c.Tier == t && c.State == AppealLifted {
			return c.Count
		}
	}
	return 0
}

// FalsePositiveRate is the measured false-positive rate of a tier: appeals
// lifted divided by the accounts acted on; 0 when none were acted on.
func FalsePositiveRate(lifted, actedOn int64) float64 {
	if actedOn <= 0 {
		return 0
	}
	return float64(lifted) / float64(actedOn)
}

// AppealFilter pages through an incident's appeals; State narrows them.
type AppealFilter struct {
	IncidentID int64
	State      AppealState
	Cursor     string
	Limit      int
}

// AccountAction is one action a containment run took on an account, for
// the person's self-service page.
type AccountAction struct {
	Action ActionKind `json:"action"`
	At     time.Time  `json:"at"`
	Until  time.Time  `json:"until,omitzero"` // for a temporary lock: about when it ends
	Undone bool       `json:"undone"`         // a rollback has since undone it
}

// AppealService stores appeals.
//
// Error codes: EINVALID for bad input naming the field, ENOTFOUND for an
// unknown appeal or incident, ECONFLICT for a decision on an appeal that is
// already decided.
type AppealService interface {
	// Record stores a new appeal and sets its ID, State and CreatedAt. An
	// incident and account hold at most one open appeal: a repeat changes
	// nothing, loads the open one into a and returns created false.
	Record(ctx context.Context, a *Appeal) (created bool, err error)
	// Decide moves an open appeal to lifted, queued_for_review or
	// rejected, with a reason, by actor, and returns it.
	Decide(ctx context.Context, id int64, state AppealState, reason, actor string) (*Appeal, error)
	// FindAppeal returns one appeal.
	FindAppeal(ctx context.Context, id int64) (*Appeal, error)
	// ListAppeals returns a page of an incident's appeals and their counts.
	ListAppeals(ctx context.Context, filter AppealFilter) (*AppealList, error)
	// AccountActions returns what the incident's containment runs did to
	// account (confirmed items only), oldest first.
	AccountActions(ctx context.Context, incidentID int64, account string) ([]AccountAction, error)
}
