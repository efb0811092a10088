package firebreak

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ActionKind is one containment action an identity provider carries out.
type ActionKind string

// Containment actions. Account actions act on one account; source actions
// on one IP address or prefix.
const (
	ActionRevokeSessions ActionKind = "revoke_sessions"      // sign the account out everywhere
	ActionForceReset     ActionKind = "force_password_reset" // require a new password at next login
	ActionStepUp         ActionKind = "require_step_up"      // require MFA at next login
	ActionLock           ActionKind = "temporary_lock"       // refuse logins until a time
	ActionThrottleSource ActionKind = "throttle_source"      // slow logins from a source down
	ActionBlockSource    ActionKind = "block_source"         // refuse logins from a source

	// Notice actions queue a notice to the account in the outbox, on one
	// channel, in words that fit its tier. They are carried out by the
	// notifier (package comms), not by the identity provider.
	ActionNotifyInApp ActionKind = "notify_inapp"
	ActionNotifyEmail ActionKind = "notify_email"
	ActionNotifySMS   ActionKind = "notify_sms"
	ActionNotifyChat  ActionKind = "notify_chat"
)

// ActionKinds lists every action, gentlest account action first, notices last.
var ActionKinds = []ActionKind{ActionStepUp, ActionRevokeSessions, ActionForceReset,
	ActionLock, ActionThrottleSource, ActionBlockSource,
	ActionNotifyInApp, ActionNotifyEmail, ActionNotifySMS, ActionNotifyChat}

// ActionInfo describes what an action does and whether it can be undone.
type ActionInfo struct {
	OnSource   bool   // acts on a source (IP or prefix), not an account
	Reversible bool   // a rollback can undo it
	Timed      bool   // takes a duration (until when it holds)
	Undo       string // what a rollback does, or why it cannot
	// Channel is the channel of a notice action; "" for every other action.
	// A notice cannot be unsent, but unlike the other actions that cannot be
	// undone it needs a second person's approval only above the plan limit.
	Channel Channel
}

// Info returns what the action does; ok is false for an unknown action.
func (a ActionKind) Info() (info ActionInfo, ok bool) {
	info, ok = actionInfo[a]
	return info, ok
}

var actionInfo = map[ActionKind]ActionInfo{
	ActionRevokeSessions: {Undo: "cannot be undone: signed-out sessions stay signed out"},
	ActionForceReset:     {Reversible: true, Undo: "lifts the reset requirement if the person has not reset yet; a new password stays"},
	ActionStepUp:         {Reversible: true, Undo: "lifts the step-up requirement"},
	ActionLock:           {Reversible: true, Timed: true, Undo: "unlocks the account"},
	ActionThrottleSource: {OnSource: true, Reversible: true, Timed: true, Undo: "lifts the throttle"},
	ActionBlockSource:    {OnSource: true, Reversible: true, Timed: true, Undo: "lifts the block"},
	ActionNotifyInApp:    {Channel: ChannelInApp, Undo: noticeUndo},
	ActionNotifyEmail:    {Channel: ChannelEmail, Undo: noticeUndo},
	ActionNotifySMS:      {Channel: ChannelSMS, Undo: noticeUndo},
	ActionNotifyChat:     {Channel: ChannelChat, Undo: noticeUndo},
}

const noticeUndo = "cannot be unsent; a notice still queued is dropped when its incident is resolved, and a status page update can correct one sent"

// NoticeAction returns the notice action of a channel; ok is false for a
// channel people are not told on (slack is for operators).
func NoticeAction(ch Channel) (a ActionKind, ok bool) {
	for _, a := range ActionKinds {
		if info := actionInfo[a]; info.Channel == ch && ch != "" {
			return a, true
		}
	}
	return "", false
}

// ValidateAction checks an action name.
func ValidateAction(field string, a ActionKind) error {
	if !slices.Contains(ActionKinds, a) {
		return &FieldError{Field: field, Reason: "unknown action " + fmt.Sprintf("%q", a) + "; must be one of " + names(ActionKinds)}
	}
	return nil
}

// ActionRequest asks a connector to apply or revert one action on one target.
type ActionRequest struct {
	Action     ActionKind
	IncidentID int64     // the incident the run belongs to
	Target     string    // an account id, or an IP address or CIDR prefix for source actions
	Key        string    // idempotency key, unique per run, target and action
	Until      time.Time // for timed actions
	Reason     string    // shown in the provider's records, e.g. "firebreak incident 3, plan 2"
}

// TargetState is what an identity provider says about one target, read to
// reconcile an action whose outcome is unknown.
type TargetState struct {
	Exists            bool
	SessionsRevokedAt time.Time // when its sessions were last revoked (zero: never, or unknown)
	ResetRequired     bool      // a password reset is pending
	ResetUsed         bool      // a reset Firebreak required has since been done by the person
	StepUpRequired    bool
	LockedUntil       time.Time // zero when not locked
	Throttled         bool
	Blocked           bool
}

// Applied reports whether the effect of action is in place in s, for an
// action first sent at since. Revocation counts only if it happened at or
// after since (sessions revoked earlier do not prove this run's call landed).
func (s TargetState) Applied(action ActionKind, since time.Time) bool {
	switch action {
	case ActionRevokeSessions:
		return !s.SessionsRevokedAt.IsZero() && !s.SessionsRevokedAt.Before(since)
	case ActionForceReset:
		return s.ResetRequired || s.ResetUsed
	case ActionStepUp:
		return s.StepUpRequired
	case ActionLock:
		return !s.LockedUntil.IsZero()
	case ActionThrottleSource:
		return s.Throttled
	case ActionBlockSource:
		return s.Blocked
	}
	return false
}

// Reverted reports whether the effect of action has been undone in s.
func (s TargetState) Reverted(action ActionKind) bool {
	switch action {
	case ActionForceReset:
		return !s.ResetRequired
	case ActionStepUp:
		return !s.StepUpRequired
	case ActionLock:
		return s.LockedUntil.IsZero()
	case ActionThrottleSource:
		return !s.Throttled
	case ActionBlockSource:
		return !s.Blocked
	}
	return false
}

// Connector carries containment actions out at an identity provider
// (package idp holds the built-in ones). Methods are safe for concurrent use.
//
// Errors: a *ProviderError says whether the call may have taken effect; any
// other error is treated as CallUnknown.
type Connector interface {
	// Name identifies the connector in plans and on the timeline.
	Name() string
	// Apply carries out one action on one target.
	Apply(ctx context.Context, req ActionRequest) error
	// Revert undoes one action on one target. Reverting a reset that the
	// person has already used is CallRejected with a reason.
	Revert(ctx context.Context, req ActionRequest) error
	// Observe reads the provider's state of a target. A target the provider
	// does not know gives Exists false and no error.
	Observe(ctx context.Context, target string, source bool) (TargetState, error)
}

// CallOutcome says what a failed provider call did.
type CallOutcome int

// Outcomes of a failed provider call.
const (
	// CallUnknown: the call may or may not have taken effect (a timeout,
	// a connection reset, a garbled answer). Observe before retrying.
	CallUnknown CallOutcome = iota
	// CallNotApplied: the provider refused before acting (429, 503);
	// retrying is safe.
	CallNotApplied
	// CallRejected: the call can never succeed (unknown account, a reset
	// already used, a 4xx); the item is skipped with the reason.
	CallRejected
)

// ProviderError is a failed identity provider call.
type ProviderError struct {
	Outcome    CallOutcome
	Status     int           // HTTP status, if any
	RetryAfter time.Duration // the provider's Retry-After, if any
	Reason     string        // short, for the item's state and the timeline
}

// Error implements error.
func (e *ProviderError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("provider: %s (HTTP %d)", e.Reason, e.Status)
	}
	return "provider: " + e.Reason
}

// ProviderOutcome returns the outcome of a failed call: the Outcome of a
// *ProviderError, CallUnknown for any other error.
func ProviderOutcome(err error) CallOutcome {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Outcome
	}
	return CallUnknown
}
