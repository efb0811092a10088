// Package contain turns an incident into containment: plans that act on
// exactly the accounts the incident names, previewed with their blast
// radius, approved by a second person above a limit, and executed in stages
// through an identity provider connector, durably, with pause, resume, a
// kill switch, halt conditions and rollback. Every step is written to the
// audit trail and the incident's timeline.
package contain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"firebreak"
)

// NoticeConcurrency is the number of items in flight of a run that only
// queues notices, unless its plan sets one.
const NoticeConcurrency = 1024

// Config bounds what plans may do. Zero fields take the defaults.
type Config struct {
	// ApprovalAbove is the number of accounts a plan may act on without a
	// second person's approval (default 100). Irreversible actions always
	// need approval.
	ApprovalAbove int64
	// ApprovalTTL is how long an approval stays valid (default 1h).
	ApprovalTTL time.Duration
	// MaxAccounts is the most accounts one plan may act on (default 5,000,000).
	MaxAccounts int64
	// MaxShare refuses a plan that acts on this share of every known
	// account or more (default 0.5): that is "everyone".
	MaxShare float64
	// Concurrency is the default number of provider calls in flight (default 32).
	Concurrency int
	// Batch is how many items the executor claims and records at a time (default 512).
	Batch int
	// MaxAttempts bounds retries of one item that the provider refused
	// before acting (default 6).
	MaxAttempts int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AfterCall, if set, runs after every provider call that succeeded and
	// before its outcome is recorded: the crash test kills the process
	// there, in the window between "provider applied" and "state recorded".
	AfterCall func()
}

func (c Config) withDefaults() Config {
	if c.ApprovalAbove <= 0 {
		c.ApprovalAbove = 100
	}
	if c.ApprovalTTL <= 0 {
		c.ApprovalTTL = time.Hour
	}
	if c.MaxAccounts <= 0 {
		c.MaxAccounts = 5_000_000
	}
	if c.MaxShare <= 0 || c.MaxShare > 1 {
		c.MaxShare = 0.5
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Batch <= 0 {
		c.Batch = 512
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service plans, approves and runs containment. Set the exported fields,
// then call Start to resume runs a crash interrupted.
type Service struct {
	Incidents firebreak.IncidentService
	Store     firebreak.ContainmentService
	Auditor   firebreak.Auditor
	// Connectors by name; "" names the default connector.
	Connectors map[string]firebreak.Connector
	// Notifier carries out the notice actions (notify_email, ...): it
	// queues a notice per account in the outbox (*comms.Notifier). Nil
	// refuses runs of plans with notice actions.
	Notifier firebreak.Connector
	// Announce publishes, before a run of a plan with notice actions
	// starts, a status page entry saying that notices are going out, so
	// that people can check a notice is real. It fails closed: an error
	// refuses the run. Nil refuses runs of plans with notice actions.
	Announce func(ctx context.Context, p *firebreak.Plan, actor string) error
	// KnownAccounts returns how many accounts Firebreak knows, to refuse a
	// plan that acts on nearly all of them. Nil skips that check.
	KnownAccounts func(ctx context.Context) (int64, error)
	Logger        *slog.Logger

	cfg Config

	mu   sync.Mutex
	runs map[int64]*execution // runs being dispatched
	// resumeMu lets one Resume run at a time, so that a run found paused
	// or halted is never being dispatched by an execution a concurrent
	// Resume launched: any execution left is winding down.
	resumeMu sync.Mutex

	wg   sync.WaitGroup
	ctx  context.Context // cancelled by Close
	stop context.CancelFunc
}

// NewService returns a service with cfg; set the exported fields before use.
func NewService(cfg Config) *Service {
	s := &Service{cfg: cfg.withDefaults(), runs: make(map[int64]*execution), Logger: slog.New(slog.DiscardHandler)}
	s.ctx, s.stop = context.WithCancel(context.Background())
	return s
}

// Config returns the service's configuration with defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// CreatePlan writes version 1 of a plan for an incident: it resolves the
// selectors into exact targets and computes the preview and the hash that
// approvals bind to. Nothing is executed.
func (s *Service) CreatePlan(ctx context.Context, incidentID int64, spec firebreak.PlanSpec, actor string) (*firebreak.Plan, error) {
	p, targets, err := s.build(ctx, incidentID, spec, actor, 1)
	if err != nil {
		s.refused(ctx, incidentID, 0, actor, err)
		return nil, err
	}
	if err := s.Store.CreatePlan(ctx, p, targets); err != nil {
		return nil, err
	}
	s.record(ctx, p.IncidentID, actor, firebreak.AuditPlanCreated, "plan_created", planObject(p.ID),
		fmt.Sprintf("Plan %d v%d written: %s.", p.ID, p.Version, describe(p.Preview)), planData(p))
	return p, nil
}

// RevisePlan writes a new version of a plan. Approvals of earlier versions
// no longer count: they are bound to their version's hash.
func (s *Service) RevisePlan(ctx context.Context, planID int64, spec firebreak.PlanSpec, actor string) (*firebreak.Plan, error) {
	old, err := s.Store.FindPlan(ctx, planID, 0)
	if err != nil {
		return nil, err
	}
	p, targets, err := s.build(ctx, old.IncidentID, spec, actor, old.Version+1)
	if err != nil {
		s.refused(ctx, old.IncidentID, planID, actor, err)
		return nil, err
	}
	p.ID = planID
	if err := s.Store.RevisePlan(ctx, p, targets); err != nil {
		return nil, err
	}
	s.record(ctx, p.IncidentID, actor, firebreak.AuditPlanRevised, "plan_revised", planObject(p.ID),
		fmt.Sprintf("Plan %d revised to v%d: %s; approvals of v%d no longer count.", p.ID, p.Version, describe(p.Preview), old.Version), planData(p))
	return p, nil
}

// build validates a spec and resolves it against the incident.
func (s *Service) build(ctx context.Context, incidentID int64, spec firebreak.PlanSpec, actor string, version int) (*firebreak.Plan, []firebreak.PlanTarget, error) {
	if err := firebreak.ValidateActor(actor); err != nil {
		return nil, nil, err
	}
	spec.Normalize()
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	if err := s.connectors(spec); err != nil {
		return nil, nil, err
	}
	inc, err := s.Incidents.Find(ctx, incidentID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case inc.MergedInto != 0:
		return nil, nil, firebreak.Errorf(firebreak.ECONFLICT, "Incident %d was merged into incident %d; plan there.", inc.ID, inc.MergedInto)
	case inc.State == firebreak.StateResolved:
		return nil, nil, firebreak.Errorf(firebreak.ECONFLICT, "Incident %d is resolved; reopen it before planning containment.", inc.ID)
	}
	targets, err := s.resolve(ctx, inc, &spec)
	if err != nil {
		return nil, nil, err
	}
	p := &firebreak.Plan{IncidentID: inc.ID, Version: version, Author: actor, Spec: spec}
	p.Preview = s.preview(&spec, targets)
	p.Hash = planHash(p, targets)
	return p, targets, nil
}

// connector returns the connector a plan names.
// needs reports whether a plan's actions need the identity provider and the notifier.
func needs(spec firebreak.PlanSpec) (provider, notifier bool) {
	for _, st := range spec.Steps {
		for _, a := range st.Actions {
			info, _ := a.Info()
			notifier = notifier || info.Channel != ""
			provider = provider || info.Channel == ""
		}
	}
	return provider, notifier
}

// connectors checks that what a plan's actions need is configured.
func (s *Service) connectors(spec firebreak.PlanSpec) error {
	provider, notifier := needs(spec)
	if provider {
		if _, err := s.connector(spec.Connector); err != nil {
			return err
		}
	}
	if notifier && (s.Notifier == nil || s.Announce == nil) {
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "Notices cannot be sent: this server has no notifier and status page configured.")
	}
	return nil
}

func (s *Service) connector(name string) (firebreak.Connector, error) {
	if c := s.Connectors[name]; c != nil {
		return c, nil
	}
	if name == "" {
		return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "No identity provider connector is configured.")
	}
	return nil, &firebreak.FieldError{Field: "connector", Reason: fmt.Sprintf("no connector named %q is configured", name)}
}

// Approve records a second person's approval of one exact plan version. It
// is refused for a version that is not the latest, a hash that does not
// match, and the version's own author. The approval is written to the audit
// trail first: if that fails, there is no approval.
func (s *Service) Approve(ctx context.Context, planID int64, version int, hash, approver, comment string) (*firebreak.Approval, error) {
	if err := firebreak.ValidateActor(approver); err != nil {
		return nil, err
	}
	if len(comment) > firebreak.MaxTextLen {
		return nil, &firebreak.FieldError{Field: "comment", Reason: fmt.Sprintf("longer than %d bytes", firebreak.MaxTextLen)}
	}
	p, err := s.Store.FindPlan(ctx, planID, 0)
	if err != nil {
		return nil, err
	}
	if err := checkBinding(p, version, hash); err != nil {
		s.refuse(ctx, p, approver, "approval refused: "+firebreak.ErrorMessage(err))
		return nil, err
	}
	if approver == p.Author {
		err := firebreak.Errorf(firebreak.EFORBIDDEN, "%s wrote plan %d v%d and cannot approve it; another approver must.", approver, p.ID, p.Version)
		s.refuse(ctx, p, approver, "approval refused: the author cannot approve their own plan")
		return nil, err
	}
	now := s.cfg.Now()
	a := &firebreak.Approval{PlanID: p.ID, Version: p.Version, Hash: p.Hash, Approver: approver, Comment: comment,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.ApprovalTTL)}
	if err := s.audit(ctx, approver, firebreak.AuditPlanApproved, planObject(p.ID), a); err != nil {
		return nil, err
	}
	if err := s.Store.AddApproval(ctx, a); err != nil {
		return nil, err
	}
	s.timeline(ctx, p.IncidentID, approver, "plan_approved",
		fmt.Sprintf("%s approved plan %d v%d (hash %s), valid until %s.", approver, p.ID, p.Version, p.Hash[:12], a.ExpiresAt.UTC().Format(time.RFC3339)), nil)
	return a, nil
}

// checkBinding refuses a version or hash that is not the plan's latest.
func checkBinding(p *firebreak.Plan, version int, hash string) error {
	switch {
	case version != p.Version:
		return firebreak.Errorf(firebreak.ECONFLICT, "Plan %d is at version %d, not %d; review the latest version.", p.ID, p.Version, version)
	case hash != p.Hash:
		return firebreak.Errorf(firebreak.ECONFLICT, "The hash does not match plan %d v%d; review the plan again.", p.ID, p.Version)
	}
	return nil
}

// approved returns a valid approval of the plan's latest version, or an
// error saying why there is none.
func (s *Service) approved(ctx context.Context, p *firebreak.Plan) (*firebreak.Approval, error) {
	list, err := s.Store.Approvals(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	why := ""
	for i := len(list) - 1; i >= 0; i-- { // newest first; the newest valid one wins
		a := list[i]
		var problem string
		switch {
		case a.Version != p.Version || a.Hash != p.Hash:
			problem = fmt.Sprintf("its approvals are for another version (v%d)", a.Version)
		case a.Approver == p.Author:
			problem = "its only approval is by its author"
		case !now.Before(a.ExpiresAt):
			problem = fmt.Sprintf("its approval by %s expired at %s", a.Approver, a.ExpiresAt.UTC().Format(time.RFC3339))
		default:
			return &a, nil
		}
		// Say why the newest approval of this version does not count;
		// failing that, that the approvals are for another version.
		if why == "" || (a.Version == p.Version && strings.HasPrefix(why, "its approvals are for")) {
			why = problem
		}
	}
	if why == "" {
		why = "it has no approval"
	}
	return nil, firebreak.Errorf(firebreak.EFORBIDDEN, "Plan %d v%d needs a second person's approval (%s), and %s.", p.ID, p.Version, p.Preview.Why, why)
}

// refused records a plan that was refused (bad input, a selection that
// matches nothing or everyone) on the incident's timeline and in the audit
// trail, so that what was tried is on the record. Unknown incidents and
// failures of the stores themselves are not recorded.
func (s *Service) refused(ctx context.Context, incidentID, planID int64, actor string, err error) {
	switch firebreak.ErrorCode(err) {
	case firebreak.EINVALID, firebreak.ECONFLICT:
	default:
		return
	}
	if firebreak.ValidateActor(actor) != nil {
		return
	}
	if _, err := s.Incidents.Find(ctx, incidentID); err != nil {
		return // no such incident: nothing to put it on
	}
	what := "A new plan"
	object := fmt.Sprintf("incident/%d", incidentID)
	if planID != 0 {
		what, object = fmt.Sprintf("A revision of plan %d", planID), planObject(planID)
	}
	why := firebreak.ErrorMessage(err)
	s.record(ctx, incidentID, actor, firebreak.AuditPlanRefused, "plan_refused", object,
		fmt.Sprintf("%s by %s was refused: %s", what, actor, why), map[string]any{"plan": planID, "reason": why})
}

// refuse writes a refused step to the audit trail and the timeline.
func (s *Service) refuse(ctx context.Context, p *firebreak.Plan, actor, why string) {
	s.record(ctx, p.IncidentID, actor, firebreak.AuditPlanRefused, "plan_refused", planObject(p.ID),
		fmt.Sprintf("Plan %d v%d: %s", p.ID, p.Version, why), map[string]any{"plan": p.ID, "version": p.Version, "reason": why})
}

// Start resumes the runs that were running when the process stopped, after
// reconciling their unknown outcomes with the provider.
func (s *Service) Start(ctx context.Context) error {
	runs, err := s.Store.ListRuns(ctx, 0)
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	for _, r := range runs {
		if r.State == firebreak.RunRunning {
			s.Logger.Info("resuming run after restart", "run", r.ID, "plan", r.PlanID)
			if err := s.launch(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close stops dispatch of every run, waits for calls in flight to be
// recorded, and leaves the runs' stored state as it was (running runs
// resume on the next Start).
func (s *Service) Close() error {
	s.stop()
	s.wg.Wait()
	return nil
}

// audit appends a record; its error says the step was not taken.
func (s *Service) audit(ctx context.Context, actor, action, object string, data any) error {
	if s.Auditor == nil {
		return nil
	}
	_, err := s.Auditor.Append(ctx, firebreak.AuditRecord{Time: s.cfg.Now(), Actor: actor, Action: action, Object: object, Data: firebreak.AuditData(data)})
	if err != nil {
		s.Logger.Error("audit trail write failed; refusing the step", "action", action, "object", object, "err", err)
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail cannot be written, so %s was not done. Check the data directory.", action)
	}
	return nil
}

// record writes a step that has been taken to the audit trail and the
// incident's timeline; failures are logged.
func (s *Service) record(ctx context.Context, incidentID int64, actor, action, kind, object, msg string, data map[string]any) {
	if err := s.audit(ctx, actor, action, object, data); err != nil {
		s.Logger.Error("audit record lost", "action", action, "object", object)
	}
	s.timeline(ctx, incidentID, actor, kind, msg, data)
}

func (s *Service) timeline(ctx context.Context, incidentID int64, actor, kind, msg string, data map[string]any) {
	if s.Incidents == nil {
		return
	}
	_, err := s.Incidents.AddEntry(ctx, incidentID, firebreak.TimelineEntry{Actor: actor, Kind: kind, Message: msg, Data: data})
	if err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		s.Logger.Warn("timeline entry lost", "incident", incidentID, "kind", kind, "err", err)
	}
}

func planObject(id int64) string { return fmt.Sprintf("plan/%d", id) }
func runObject(id int64) string  { return fmt.Sprintf("run/%d", id) }

func planData(p *firebreak.Plan) map[string]any {
	return map[string]any{"plan": p.ID, "version": p.Version, "hash": p.Hash, "accounts": p.Preview.Accounts,
		"sources": p.Preview.Sources, "needs_approval": p.Preview.NeedsApproval}
}

// describe says in words what a preview does.
func describe(p firebreak.Preview) string {
	s := ""
	for i, a := range p.Actions {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s on %d (%d likely clean)", a.Action, a.Count, a.LikelyClean)
	}
	if p.NeedsApproval {
		s += "; needs approval because " + p.Why
	}
	return s
}

// Runnable returns nil if the latest version of p may run now: it needs no
// approval, or it holds a valid one. Otherwise the error says why not.
func (s *Service) Runnable(ctx context.Context, p *firebreak.Plan) error {
	if !p.Preview.NeedsApproval {
		return nil
	}
	_, err := s.approved(ctx, p)
	return err
}

// Reads returns the store of plans and runs, for reading.
func (s *Service) Reads() firebreak.ContainmentService { return s.Store }
