package selfservice

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"firebreak"
)

// Actor is who records and decides appeals on the policy's behalf.
const Actor = "self-service"

// Facts is what the page reads about one account in one incident
// (*sqlite.AppealStore provides it).
type Facts interface {
	// AffectedAccount returns the incident's record of account, or nil
	// when the incident does not hold it.
	AffectedAccount(ctx context.Context, incidentID int64, account string) (*firebreak.AffectedAccount, error)
	// AccountActions returns what the incident's runs did to account.
	AccountActions(ctx context.Context, incidentID int64, account string) ([]firebreak.AccountAction, error)
}

// Lifter undoes an account's step-up and lock through containment's
// rollback machinery (*contain.Service).
type Lifter interface {
	LiftAccount(ctx context.Context, incidentID int64, account, actor, reason string) (*firebreak.Run, error)
}

// Appeals records appeals and applies the policy to them.
type Appeals struct {
	Store   firebreak.AppealService
	Facts   Facts
	Lifter  Lifter
	Auditor firebreak.Auditor
	Policy  Policy
	Logger  *slog.Logger
	Now     func() time.Time
}

// Appeal records the "this was me" of the account c names, once per open
// appeal, and decides it by policy: lift at once (through a rollback run)
// or queue for review. A lift that cannot run (a run still going, nothing
// to lift) queues the appeal with the reason. The appeal and its decision
// go to the audit trail. ENOTFOUND when the incident does not hold the
// account, ECONFLICT when nothing done to it is still in effect (a lifted
// appeal's repeat): there is nothing to appeal.
func (s *Appeals) Appeal(ctx context.Context, c Claims, comment string) (*firebreak.Appeal, error) {
	acct, err := s.Facts.AffectedAccount(ctx, c.IncidentID, c.Account)
	if err != nil {
		return nil, err
	} else if acct == nil {
		return nil, firebreak.Errorf(firebreak.ENOTFOUND, "This account was not affected by the incident.")
	}
	acts, err := s.Facts.AccountActions(ctx, c.IncidentID, c.Account)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(acts, func(a firebreak.AccountAction) bool { return !a.Undone }) {
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Nothing done to this account is in effect; there is nothing to appeal.")
	}
	a := &firebreak.Appeal{IncidentID: c.IncidentID, Account: c.Account, Tier: acct.Tier, Comment: comment}
	created, err := s.Store.Record(ctx, a)
	if err != nil || !created {
		return a, err
	}
	s.audit(ctx, a, firebreak.AuditAppealRecorded)
	state, reason := firebreak.AppealQueued, fmt.Sprintf("Policy: appeals of %s accounts are reviewed by an operator.", a.Tier)
	if s.Policy.For(a.Tier) == Lift {
		run, err := s.Lifter.LiftAccount(ctx, a.IncidentID, a.Account, Actor, fmt.Sprintf("appeal %d", a.ID))
		switch firebreak.ErrorCode(err) {
		case "":
			state, reason = firebreak.AppealLifted, fmt.Sprintf("Policy: lifted at once by rollback run %d.", run.ID)
		case firebreak.ECONFLICT:
			reason = "Policy would lift, but " + firebreak.ErrorMessage(err) + " Queued for an operator."
		default:
			s.logger().Error("lift on appeal failed; queued for review", "appeal", a.ID, "err", err)
			reason = "Policy would lift, but the lift failed. Queued for an operator."
		}
	}
	decided, err := s.Store.Decide(ctx, a.ID, state, reason, Actor)
	if err != nil {
		return a, err
	}
	s.audit(ctx, decided, firebreak.AuditAppealDecided)
	return decided, nil
}

// audit writes an appeal step to the audit trail; failures are logged (the
// appeal itself is stored, and a lift audits on its own before it runs).
func (s *Appeals) audit(ctx context.Context, a *firebreak.Appeal, action string) {
	if s.Auditor == nil {
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	rec := firebreak.AuditRecord{Time: now(), Actor: Actor, Action: action, Object: fmt.Sprintf("appeal/%d", a.ID),
		Data: firebreak.AuditData(map[string]any{"incident": a.IncidentID, "account": a.Account,
			"tier": a.Tier, "state": a.State, "reason": a.Reason})}
	if _, err := s.Auditor.Append(ctx, rec); err != nil {
		s.logger().Error("audit record of appeal lost", "appeal", a.ID, "err", err)
	}
}

func (s *Appeals) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
