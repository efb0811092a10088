package firebreak

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// Selector picks the targets of one plan step from an incident. It must name
// something: a tier, an explicit list of the incident's accounts, or the
// incident's sources. A selector that names nothing is refused, never read
// as "everyone".
type Selector struct {
	Tier          Tier     `json:"tier,omitempty"`
	MinConfidence float64  `json:"min_confidence,omitempty"` // with Tier: keep accounts at least this sure
	Accounts      []string `json:"accounts,omitempty"`       // accounts the incident holds, in any tier
	Sources       bool     `json:"sources,omitempty"`        // the incident's sources (for source actions)
}

// Validate checks the selector on its own; the planner checks that it
// matches something.
func (s *Selector) Validate() error {
	named := 0
	if s.Tier != "" {
		named++
		if !slices.Contains(Tiers, s.Tier) {
			return &FieldError{Field: "tier", Reason: "must be one of " + names(Tiers)}
		}
	}
	if len(s.Accounts) > 0 {
		named++
		if len(s.Accounts) > MaxBatch {
			return &FieldError{Field: "accounts", Reason: "more than " + strconv.Itoa(MaxBatch) + " accounts; select a tier instead"}
		}
		for i, a := range s.Accounts {
			if err := checkText("accounts["+strconv.Itoa(i)+"]", a, MaxAccountLen, true); err != nil {
				return err
			}
		}
	}
	if s.Sources {
		named++
	}
	switch {
	case named == 0:
		return &FieldError{Reason: "empty selector: name a tier, accounts or sources (an empty selector never means everyone)"}
	case named > 1:
		return &FieldError{Reason: "name exactly one of tier, accounts or sources"}
	case math.IsNaN(s.MinConfidence) || s.MinConfidence < 0 || s.MinConfidence > 1:
		return &FieldError{Field: "min_confidence", Reason: "must be from 0 to 1"}
	case s.MinConfidence > 0 && s.Tier == "":
		return &FieldError{Field: "min_confidence", Reason: "only applies with a tier"}
	}
	return nil
}

// PlanStep applies actions to the targets of one selector.
type PlanStep struct {
	Select   Selector     `json:"select"`
	Actions  []ActionKind `json:"actions"`
	Duration Duration     `json:"duration,omitzero"` // how long timed actions hold
}

// Duration is a time.Duration that reads and writes as "90m", "24h".
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &FieldError{Field: "duration", Reason: `must be a string such as "24h"`}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &FieldError{Field: "duration", Reason: `must be a duration such as "90m" or "24h"`}
	}
	d.Duration = v
	return nil
}

// Limits of a plan.
const (
	MaxPlanSteps    = 16
	MaxPlanStages   = 10
	MaxTimedAction  = 30 * 24 * time.Hour
	DefaultHaltRate = 0.05
)

// DefaultStages are the cumulative shares of a plan's targets that each
// stage reaches: a 1% canary, then 10%, then everyone.
var DefaultStages = []float64{0.01, 0.1, 1}

// PlanSpec is what an operator writes: which actions on which targets, and
// how to run them.
type PlanSpec struct {
	Steps []PlanStep `json:"steps"`
	// Stages are cumulative shares of the targets, increasing, the last 1.
	Stages []float64 `json:"stages,omitempty"`
	// RateLimit caps calls to the identity provider per second; 0: no cap.
	RateLimit float64 `json:"rate_limit,omitempty"`
	// Concurrency caps calls in flight; 0: the executor's default.
	Concurrency int `json:"concurrency,omitempty"`
	// HaltErrorRate halts the run when the share of failed calls in a stage
	// exceeds it; 0: DefaultHaltRate.
	HaltErrorRate float64 `json:"halt_error_rate,omitempty"`
	// ManualStages makes each stage after the first wait for a resume.
	ManualStages bool `json:"manual_stages,omitempty"`
	// Connector names the identity provider connector; "" means the default.
	Connector string `json:"connector,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Normalize fills defaults: DefaultStages and DefaultHaltRate.
func (p *PlanSpec) Normalize() {
	if len(p.Stages) == 0 {
		p.Stages = slices.Clone(DefaultStages)
	}
	if p.HaltErrorRate == 0 {
		p.HaltErrorRate = DefaultHaltRate
	}
}

// Validate checks every field, naming the first bad one ("steps[1].actions[0]: ...").
func (p *PlanSpec) Validate() error {
	if len(p.Steps) == 0 {
		return &FieldError{Field: "steps", Reason: "a plan needs at least one step"}
	} else if len(p.Steps) > MaxPlanSteps {
		return &FieldError{Field: "steps", Reason: "at most " + strconv.Itoa(MaxPlanSteps) + " steps"}
	}
	for i := range p.Steps {
		if err := p.Steps[i].validate(); err != nil {
			return indexed("steps", i, err)
		}
	}
	if len(p.Stages) > MaxPlanStages {
		return &FieldError{Field: "stages", Reason: "at most " + strconv.Itoa(MaxPlanStages) + " stages"}
	}
	for i, s := range p.Stages {
		switch {
		case math.IsNaN(s) || s <= 0 || s > 1:
			return &FieldError{Field: "stages[" + strconv.Itoa(i) + "]", Reason: "must be a share above 0 and at most 1"}
		case i > 0 && s <= p.Stages[i-1]:
			return &FieldError{Field: "stages[" + strconv.Itoa(i) + "]", Reason: "stages must increase"}
		}
	}
	if n := len(p.Stages); n > 0 && p.Stages[n-1] != 1 {
		return &FieldError{Field: "stages", Reason: "the last stage must be 1 (everyone selected)"}
	}
	switch {
	case math.IsNaN(p.RateLimit) || p.RateLimit < 0 || p.RateLimit > 1e6:
		return &FieldError{Field: "rate_limit", Reason: "must be from 0 (no cap) to 1000000 per second"}
	case p.Concurrency < 0 || p.Concurrency > 1024:
		return &FieldError{Field: "concurrency", Reason: "must be from 0 (default) to 1024"}
	case math.IsNaN(p.HaltErrorRate) || p.HaltErrorRate < 0 || p.HaltErrorRate > 1:
		return &FieldError{Field: "halt_error_rate", Reason: "must be from 0 (default) to 1"}
	}
	if err := checkText("connector", p.Connector, MaxShortField, false); err != nil {
		return err
	}
	return checkLongText("note", p.Note, false)
}

func (s *PlanStep) validate() error {
	if err := s.Select.Validate(); err != nil {
		if fe, ok := err.(*FieldError); ok {
			field := "select"
			if fe.Field != "" {
				field += "." + fe.Field
			}
			return &FieldError{Field: field, Reason: fe.Reason}
		}
		return err
	}
	if len(s.Actions) == 0 {
		return &FieldError{Field: "actions", Reason: "a step needs at least one action"}
	}
	timed := false
	for i, a := range s.Actions {
		field := "actions[" + strconv.Itoa(i) + "]"
		if err := ValidateAction(field, a); err != nil {
			return err
		}
		if slices.Index(s.Actions, a) != i {
			return &FieldError{Field: field, Reason: "repeats " + string(a)}
		}
		info, _ := a.Info()
		if info.OnSource != s.Select.Sources {
			if info.OnSource {
				return &FieldError{Field: field, Reason: string(a) + " acts on sources: select sources"}
			}
			return &FieldError{Field: field, Reason: string(a) + " acts on accounts: select a tier or accounts"}
		}
		timed = timed || info.Timed
	}
	switch {
	case timed && s.Duration.Duration <= 0:
		return &FieldError{Field: "duration", Reason: "required for timed actions (temporary_lock, throttle_source, block_source)"}
	case s.Duration.Duration < 0 || s.Duration.Duration > MaxTimedAction:
		return &FieldError{Field: "duration", Reason: "must be from 0 to 720h"}
	}
	return nil
}

// PlanTarget is one action on one target, resolved from a plan's selectors
// when the plan version is written. Seq is the dispatch order: a shuffle, so
// that every stage (the canary first) is a random sample.
type PlanTarget struct {
	Seq         int64      `json:"seq"`
	Step        int        `json:"step"`
	Action      ActionKind `json:"action"`
	Target      string     `json:"target"`
	Source      bool       `json:"source,omitempty"`
	Tier        Tier       `json:"tier,omitempty"`
	Confidence  float64    `json:"confidence"`
	LikelyClean bool       `json:"likely_clean,omitempty"` // the evidence suggests the person is not compromised
}

// ActionPreview is what one action of a plan would do.
type ActionPreview struct {
	Action      ActionKind `json:"action"`
	Count       int64      `json:"count"`        // targets it acts on
	LikelyClean int64      `json:"likely_clean"` // of which the evidence marks likely clean
	Reversible  bool       `json:"reversible"`
	Undo        string     `json:"undo"`
}

// Preview is a plan's blast radius, shown before anything runs.
type Preview struct {
	Actions  []ActionPreview `json:"actions"`
	Accounts int64           `json:"accounts"` // distinct accounts acted on
	Sources  int64           `json:"sources"`  // distinct sources acted on
	// StageSizes are the number of targets each stage reaches, cumulative.
	StageSizes []int64 `json:"stage_sizes"`
	// NeedsApproval says whether a second person must approve, and Why.
	NeedsApproval bool   `json:"needs_approval"`
	Why           string `json:"why,omitempty"`
}

// Plan is one version of a containment plan for an incident. Hash binds
// approvals to exactly this version: its spec and its resolved targets.
type Plan struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	Version    int       `json:"version"`
	Author     string    `json:"author"` // of this version
	CreatedAt  time.Time `json:"created_at"`
	Spec       PlanSpec  `json:"spec"`
	Preview    Preview   `json:"preview"`
	Hash       string    `json:"hash"` // hex SHA-256
}

// Approval is a second person's consent to run one exact plan version.
type Approval struct {
	ID        int64     `json:"id"`
	PlanID    int64     `json:"plan_id"`
	Version   int       `json:"version"`
	Hash      string    `json:"hash"`
	Approver  string    `json:"approver"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RunKind says whether a run applies a plan or rolls a run back.
type RunKind string

// Run kinds.
const (
	RunApply    RunKind = "apply"
	RunRollback RunKind = "rollback"
)

// RunState is where a run is.
type RunState string

// Run states. Running, paused and halted runs can move on; killed and
// finished ones are over.
const (
	RunRunning  RunState = "running"
	RunPaused   RunState = "paused" // by an operator, or waiting at a manual stage
	RunHalted   RunState = "halted" // a halt condition tripped; resume to go on
	RunKilled   RunState = "killed" // kill switch: nothing more is dispatched
	RunFinished RunState = "finished"
)

// Over reports whether the run can no longer move.
func (s RunState) Over() bool { return s == RunKilled || s == RunFinished }

// Run is one execution of a plan version, or the rollback of a run.
type Run struct {
	ID         int64      `json:"id"`
	PlanID     int64      `json:"plan_id"`
	IncidentID int64      `json:"incident_id"`
	Version    int        `json:"version"`
	Hash       string     `json:"hash"`
	Kind       RunKind    `json:"kind"`
	RollbackOf int64      `json:"rollback_of,omitempty"` // the run a rollback undoes
	Spec       PlanSpec   `json:"spec"`                  // as approved (stages, limits, connector)
	State      RunState   `json:"state"`
	Stage      int        `json:"stage"` // index into Spec.Stages being dispatched
	Reason     string     `json:"reason,omitempty"`
	StartedBy  string     `json:"started_by"`
	StartedAt  time.Time  `json:"started_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt time.Time  `json:"finished_at,omitzero"`
	Total      int64      `json:"total"` // items
	Counts     ItemCounts `json:"counts"`
}

// StageEnd returns the Seq bound of stage i: items with Seq below it belong
// to stages 0..i.
func StageEnd(stages []float64, i int, total int64) int64 {
	if i >= len(stages)-1 {
		return total
	}
	return int64(math.Ceil(stages[i] * float64(total)))
}

// ItemState is where one action on one target is.
type ItemState string

// Item states: pending → sent → confirmed | failed | skipped. "sent" is
// recorded durably before the provider is called; an item found "sent"
// after a crash has an unknown outcome and is reconciled by reading the
// provider's state before any retry.
const (
	ItemPending   ItemState = "pending"
	ItemSent      ItemState = "sent"
	ItemConfirmed ItemState = "confirmed"
	ItemFailed    ItemState = "failed"  // with a reason, after the executor's retries
	ItemSkipped   ItemState = "skipped" // with a reason; never retried
)

// ItemStates lists every item state.
var ItemStates = []ItemState{ItemPending, ItemSent, ItemConfirmed, ItemFailed, ItemSkipped}

// ItemCounts counts a run's items by state.
type ItemCounts struct {
	Pending   int64 `json:"pending"`
	Sent      int64 `json:"sent"`
	Confirmed int64 `json:"confirmed"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
}

// Done returns the items that reached a final state.
func (c ItemCounts) Done() int64 { return c.Confirmed + c.Failed + c.Skipped }

// RunItem is one action on one target within a run.
type RunItem struct {
	RunID     int64      `json:"run_id"`
	Seq       int64      `json:"seq"`
	Action    ActionKind `json:"action"`
	Target    string     `json:"target"`
	Source    bool       `json:"source,omitempty"`
	State     ItemState  `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	Attempts  int        `json:"attempts"`
	SentAt    time.Time  `json:"sent_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Key is the item's idempotency key, sent to the provider with every call.
func (it *RunItem) Key() string {
	return "fb-" + strconv.FormatInt(it.RunID, 10) + "-" + strconv.FormatInt(it.Seq, 10)
}

// ItemResult is the outcome of one item, recorded by the executor.
type ItemResult struct {
	Seq      int64
	State    ItemState // confirmed, failed, skipped, or pending (not dispatched after all)
	Reason   string
	Attempts int
}

// ItemFilter selects a run's items by state, in Seq order.
type ItemFilter struct {
	State  ItemState
	Cursor string
	Limit  int
}

// ItemPage is one page of a run's items.
type ItemPage struct {
	Items []RunItem `json:"items"`
	Next  string    `json:"next,omitempty"`
}

// ContainmentService stores plans, approvals, runs and their items. Every
// method is one transaction.
//
// Error codes: EINVALID for bad input naming the field, ENOTFOUND for an
// unknown plan or run, ECONFLICT for a write that does not fit the current
// state (a stale plan version, a run that is over).
type ContainmentService interface {
	// CreatePlan stores version 1 of a plan with its resolved targets. It
	// sets ID, Version and CreatedAt.
	CreatePlan(ctx context.Context, p *Plan, targets []PlanTarget) error
	// RevisePlan stores a new version of plan p.ID: p.Version must be the
	// latest version + 1 (else ECONFLICT). Earlier approvals stay bound to
	// their version and so no longer count.
	RevisePlan(ctx context.Context, p *Plan, targets []PlanTarget) error
	// FindPlan returns the latest version of a plan, or version v if v > 0.
	FindPlan(ctx context.Context, id int64, v int) (*Plan, error)
	// ListPlans returns the latest version of every plan of an incident
	// (every incident if incidentID is 0), newest first.
	ListPlans(ctx context.Context, incidentID int64) ([]*Plan, error)
	// PlanTargets returns up to limit targets of one plan version (v 0:
	// the latest) with Seq above afterSeq, in Seq order; afterSeq -1 starts
	// at the first target (Seq 0).
	PlanTargets(ctx context.Context, id int64, v int, afterSeq int64, limit int) ([]PlanTarget, error)

	// AddApproval stores an approval and sets its ID and CreatedAt.
	AddApproval(ctx context.Context, a *Approval) error
	// Approvals returns every approval of a plan, all versions, oldest first.
	Approvals(ctx context.Context, planID int64) ([]Approval, error)

	// CreateRun stores a run and its items, all pending: for an apply run,
	// one per target of the plan version; for a rollback, one per confirmed
	// item of run RollbackOf with a reversible action and Seq below
	// uptoSeq (0: all). It sets ID, Total and Counts.
	CreateRun(ctx context.Context, r *Run, uptoSeq int64) error
	// CreateRollbackFor stores a rollback run r (Kind rollback, RollbackOf
	// set) like CreateRun, but with one item per confirmed item of run
	// RollbackOf whose target is one of targets and whose action is one of
	// actions and reversible: a rollback of some accounts and actions only
	// (lifting one person's step-up after an appeal). ECONFLICT when
	// nothing is selected, as for CreateRun.
	CreateRollbackFor(ctx context.Context, r *Run, targets []string, actions []ActionKind) error
	// FindRun returns a run with its item counts.
	FindRun(ctx context.Context, id int64) (*Run, error)
	// ListRuns returns the runs of a plan (every plan if planID is 0), newest first.
	ListRuns(ctx context.Context, planID int64) ([]*Run, error)
	// UpdateRun stores State, Stage, Reason, UpdatedAt and FinishedAt of r;
	// ECONFLICT if the stored run is over.
	UpdateRun(ctx context.Context, r *Run) error

	// ClaimItems marks up to limit pending items of a run with Seq below
	// beforeSeq as sent at time at, attempts+1, and returns them in Seq
	// order. The change is durable on return.
	ClaimItems(ctx context.Context, runID, beforeSeq int64, limit int, at time.Time) ([]RunItem, error)
	// RecordItems stores the outcomes of sent items; durable on return.
	RecordItems(ctx context.Context, runID int64, results []ItemResult) error
	// ListItems returns a page of a run's items.
	ListItems(ctx context.Context, runID int64, filter ItemFilter) (*ItemPage, error)
}
