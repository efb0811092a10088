package contain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"firebreak"
)

// Tuning of the executor.
const (
	// haltMinSample is how many finished items a stage needs before its
	// error rate can halt it (a stage with fewer is judged at its end).
	haltMinSample = 20
	// flushEvery bounds how long an outcome waits to be recorded.
	flushEvery = 20 * time.Millisecond
	// callTimeout bounds one provider call.
	callTimeout = 30 * time.Second
	// revokeSkew is how much earlier than an item's send time a session
	// revocation may be dated and still count as this item's (clock skew
	// between Firebreak and the provider).
	revokeSkew = 2 * time.Second
	// reconcileFor bounds how long reconciliation waits out a provider
	// that refuses to answer before the run halts.
	reconcileFor = 2 * time.Minute
)

// execution is one run being dispatched.
type execution struct {
	run    *firebreak.Run
	cancel context.CancelCauseFunc
	done   chan struct{}
	// lastCall is when the last provider call started (unix ns): the kill
	// switch's latency is measured against it.
	lastCall atomic.Int64
}

// launch starts dispatching a run in the background; a run already being
// dispatched is left alone.
func (s *Service) launch(r *firebreak.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.runs[r.ID]; ok {
		return nil
	}
	if s.ctx.Err() != nil {
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "Firebreak is shutting down; the run will resume at the next start.")
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	run := *r // the caller keeps its copy
	e := &execution{run: &run, cancel: cancel, done: make(chan struct{})}
	s.runs[r.ID] = e
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(e.done)
		defer func() {
			s.mu.Lock()
			delete(s.runs, r.ID)
			s.mu.Unlock()
		}()
		s.execute(ctx, e)
	}()
	return nil
}

// cancel stops dispatch of a run with a cause.
func (s *Service) cancel(runID int64, cause error) {
	s.mu.Lock()
	e := s.runs[runID]
	s.mu.Unlock()
	if e != nil {
		e.cancel(cause)
	}
}

// wait returns once a run is no longer being dispatched.
func (s *Service) wait(runID int64) {
	s.mu.Lock()
	e := s.runs[runID]
	s.mu.Unlock()
	if e != nil {
		<-e.done
	}
}

// LastCall returns when the last provider call of a run being dispatched
// started, or zero. Tests and benchmarks measure the kill switch with it.
func (s *Service) LastCall(runID int64) time.Time {
	s.mu.Lock()
	e := s.runs[runID]
	s.mu.Unlock()
	if e == nil || e.lastCall.Load() == 0 {
		return time.Time{}
	}
	return time.Unix(0, e.lastCall.Load())
}

// Wait blocks until a run is no longer being dispatched (finished, paused,
// halted or killed) or ctx is done.
func (s *Service) Wait(ctx context.Context, runID int64) error {
	s.mu.Lock()
	e := s.runs[runID]
	s.mu.Unlock()
	if e == nil {
		return nil
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// execute dispatches a run stage by stage until it finishes, halts, waits
// at a manual stage, or is stopped.
func (s *Service) execute(ctx context.Context, e *execution) {
	r := e.run
	log := s.Logger.With("run", r.ID, "plan", r.PlanID)
	if err := s.connectors(r.Spec); err != nil {
		s.halt(r, "no connector: "+firebreak.ErrorMessage(err))
		return
	}
	conn, _ := s.connector(r.Spec.Connector) // nil when the run has only notices
	d := &dispatcher{s: s, e: e, r: r, conn: conn, notifier: s.Notifier, limiter: newPacer(r.Spec.RateLimit), until: timedUntil(r.Spec, s.cfg.Now())}
	if err := d.reconcile(ctx); err != nil {
		if ctx.Err() == nil {
			s.halt(r, "reconciliation after a restart failed: "+err.Error())
		}
		return
	}
	for stage := r.Stage; stage < len(r.Spec.Stages); stage++ {
		if !s.announce(ctx, r, stage) {
			return
		}
		why := d.stage(ctx, stage)
		switch {
		case why != "":
			s.halt(r, why)
			return
		case ctx.Err() != nil:
			return // paused, killed or shutting down: whoever stopped it records it
		}
		if r.Spec.ManualStages && stage+1 < len(r.Spec.Stages) {
			r.Stage, r.State, r.UpdatedAt = stage+1, firebreak.RunPaused, s.cfg.Now()
			r.Reason = fmt.Sprintf("stage %d done; waiting for an operator to resume stage %d", stage, stage+1)
			if err := s.Store.UpdateRun(context.WithoutCancel(ctx), r); err != nil {
				log.Warn("run state not stored", "err", err)
			}
			s.timeline(ctx, r.IncidentID, firebreak.SystemActor, "run_paused", fmt.Sprintf("Run %d: %s.", r.ID, r.Reason), map[string]any{"run": r.ID})
			return
		}
	}
	s.finish(ctx, r)
}

// announce records that a stage begins, or resumes after a pause, a halt
// or a restart: in the store, the audit trail (failing closed: false halts
// the run) and the timeline.
func (s *Service) announce(ctx context.Context, r *firebreak.Run, stage int) bool {
	r.Stage, r.UpdatedAt = stage, s.cfg.Now()
	if err := s.Store.UpdateRun(context.WithoutCancel(ctx), r); err != nil {
		s.Logger.Warn("run state not stored", "run", r.ID, "err", err)
		return false
	}
	end := firebreak.StageEnd(r.Spec.Stages, stage, r.Total)
	data := map[string]any{"run": r.ID, "stage": stage, "share": r.Spec.Stages[stage], "through": end}
	if err := s.audit(ctx, firebreak.SystemActor, firebreak.AuditRunStage, runObject(r.ID), data); err != nil {
		s.halt(r, "audit trail unavailable")
		return false
	}
	s.timeline(ctx, r.IncidentID, firebreak.SystemActor, "run_stage",
		fmt.Sprintf("Run %d stage %d: dispatching up to %d of %d actions (%.0f%%).", r.ID, stage, end, r.Total, 100*r.Spec.Stages[stage]), data)
	return true
}

// finish marks a run finished and moves the incident on.
func (s *Service) finish(ctx context.Context, r *firebreak.Run) {
	bg := context.WithoutCancel(ctx)
	now := s.cfg.Now()
	r.State, r.Reason, r.UpdatedAt, r.FinishedAt = firebreak.RunFinished, "", now, now
	if err := s.Store.UpdateRun(bg, r); err != nil {
		s.Logger.Warn("run state not stored", "run", r.ID, "err", err)
		return
	}
	got, err := s.Store.FindRun(bg, r.ID)
	if err == nil {
		r = got
	}
	c := r.Counts
	msg := fmt.Sprintf("Run %d finished: %d confirmed, %d failed, %d skipped of %d.", r.ID, c.Confirmed, c.Failed, c.Skipped, r.Total)
	if r.Kind == firebreak.RunRollback {
		msg = fmt.Sprintf("Rollback run %d of run %d finished: %d undone, %d failed, %d skipped (could not be undone) of %d.", r.ID, r.RollbackOf, c.Confirmed, c.Failed, c.Skipped, r.Total)
	}
	s.record(bg, r.IncidentID, firebreak.SystemActor, firebreak.AuditRunFinished, "run_finished", runObject(r.ID), msg,
		map[string]any{"run": r.ID, "confirmed": c.Confirmed, "failed": c.Failed, "skipped": c.Skipped})
	if r.Kind == firebreak.RunApply {
		s.moveIncident(bg, r.IncidentID, firebreak.StateTriaged, firebreak.StateContained, firebreak.SystemActor)
	}
}

// halt stops a run because a condition tripped; an operator resumes it.
func (s *Service) halt(r *firebreak.Run, why string) {
	ctx := context.Background()
	r.State, r.Reason, r.UpdatedAt = firebreak.RunHalted, why, s.cfg.Now()
	if err := s.Store.UpdateRun(ctx, r); err != nil {
		s.Logger.Warn("run state not stored", "run", r.ID, "err", err)
	}
	s.record(ctx, r.IncidentID, firebreak.SystemActor, firebreak.AuditRunHalted, "run_halted", runObject(r.ID),
		fmt.Sprintf("Run %d halted at stage %d: %s.", r.ID, r.Stage, why), map[string]any{"run": r.ID, "stage": r.Stage, "reason": why})
}

// timedUntil returns, per timed action, until when it holds: the longest
// duration any step gives it, from now.
func timedUntil(spec firebreak.PlanSpec, now time.Time) map[firebreak.ActionKind]time.Time {
	until := make(map[firebreak.ActionKind]time.Time)
	for _, st := range spec.Steps {
		for _, a := range st.Actions {
			if info, _ := a.Info(); info.Timed {
				if t := now.Add(st.Duration.Duration); t.After(until[a]) {
					until[a] = t
				}
			}
		}
	}
	return until
}

// dispatcher carries one run's items to the provider.
type dispatcher struct {
	s        *Service
	e        *execution
	r        *firebreak.Run
	conn     firebreak.Connector // the identity provider
	notifier firebreak.Connector // notice actions
	limiter  *pacer
	until    map[firebreak.ActionKind]time.Time

	mu        sync.Mutex
	notBefore time.Time // a provider's Retry-After holds every worker
}

// stage dispatches every pending item of one stage. It returns a reason
// when a halt condition tripped, "" when the stage is done or ctx stopped.
func (d *dispatcher) stage(ctx context.Context, stage int) string {
	s, r := d.s, d.r
	end := firebreak.StageEnd(r.Spec.Stages, stage, r.Total)
	if stage == len(r.Spec.Stages)-1 {
		end = math.MaxInt64 // everything left (a rollback keeps its items' seqs)
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	workers := r.Spec.Concurrency
	if provider, _ := needs(r.Spec); workers <= 0 && !provider {
		// Notices call no provider: the notifier commits them in groups,
		// and the more are in flight the larger each group.
		workers = NoticeConcurrency
	} else if workers <= 0 {
		workers = s.cfg.Concurrency
	}
	items := make(chan firebreak.RunItem, s.cfg.Batch)
	results := make(chan firebreak.ItemResult, s.cfg.Batch)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range items {
				results <- d.call(ctx, it)
			}
		})
	}
	var halt string
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		halt = d.collect(ctx, stage, results, stop)
	}()
	bg := context.WithoutCancel(ctx)
claim:
	for ctx.Err() == nil {
		batch, err := s.Store.ClaimItems(bg, r.ID, end, s.cfg.Batch, s.cfg.Now())
		if err != nil {
			stop(fmt.Errorf("%w: claim items: %v", errHalted, err))
			break
		}
		if len(batch) == 0 {
			break
		}
		for i, it := range batch {
			select {
			case items <- it:
			case <-ctx.Done():
				for _, it := range batch[i:] {
					results <- firebreak.ItemResult{Seq: it.Seq, State: firebreak.ItemPending, Attempts: it.Attempts - 1}
				}
				break claim
			}
		}
	}
	close(items)
	wg.Wait()
	close(results)
	<-collected
	if halt == "" {
		if cause := context.Cause(ctx); errors.Is(cause, errHalted) {
			halt = cause.Error()
		}
	}
	return halt
}

// collect records outcomes in batches, writes each batch to the audit
// trail with a digest of its outcomes, and trips the halt condition.
func (d *dispatcher) collect(ctx context.Context, stage int, results <-chan firebreak.ItemResult, stop context.CancelCauseFunc) string {
	s, r := d.s, d.r
	bg := context.WithoutCancel(ctx)
	var batch []firebreak.ItemResult
	var done, failed int64
	halt := ""
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.Store.RecordItems(bg, r.ID, batch); err != nil {
			halt = "outcomes could not be recorded: " + err.Error()
			stop(errHalted)
		} else if err := d.auditBatch(bg, stage, batch); err != nil {
			halt = "audit trail unavailable"
			stop(errHalted)
		}
		batch = batch[:0]
	}
	for {
		select {
		case res, ok := <-results:
			if !ok {
				flush()
				if halt == "" && done > 0 && float64(failed) > r.Spec.HaltErrorRate*float64(done) {
					halt = fmt.Sprintf("%d of %d actions failed in stage %d, above the halt rate of %.1f%%", failed, done, stage, 100*r.Spec.HaltErrorRate)
				}
				return halt
			}
			if res.State == "" {
				continue // outcome unknown: stays sent, reconciled on resume
			}
			batch = append(batch, res)
			if res.State != firebreak.ItemPending {
				done++
			}
			if res.State == firebreak.ItemFailed {
				failed++
				if halt == "" && done >= haltMinSample && float64(failed) > r.Spec.HaltErrorRate*float64(done) {
					halt = fmt.Sprintf("%d of %d actions failed in stage %d, above the halt rate of %.1f%%", failed, done, stage, 100*r.Spec.HaltErrorRate)
					stop(errHalted)
				}
			}
			if len(batch) >= s.cfg.Batch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// auditBatch writes one audit record for a batch of outcomes: the counts
// and a SHA-256 digest of every (seq, state, reason), so that the per-item
// states in the store can be checked against the signed trail.
func (d *dispatcher) auditBatch(ctx context.Context, stage int, batch []firebreak.ItemResult) error {
	counts := make(map[firebreak.ItemState]int)
	h := sha256.New()
	var buf []byte
	for _, res := range batch {
		counts[res.State]++
		buf = strconv.AppendInt(buf[:0], res.Seq, 10)
		buf = append(buf, '\t')
		buf = append(buf, res.State...)
		buf = append(buf, '\t')
		buf = append(buf, res.Reason...)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return d.s.audit(ctx, firebreak.SystemActor, firebreak.AuditRunItems, runObject(d.r.ID), map[string]any{
		"run": d.r.ID, "stage": stage, "first": batch[0].Seq, "n": len(batch), "states": counts,
		"digest": hex.EncodeToString(h.Sum(nil))})
}

// call carries one item out: it applies (or, in a rollback, reverts) the
// action, retries what the provider refused before acting, and reads the
// provider's state before retrying a call whose outcome is unknown, so that
// no effect is ever applied twice. It returns the item's outcome; State ""
// leaves the item sent (its outcome unknown) for reconciliation.
func (d *dispatcher) call(ctx context.Context, it firebreak.RunItem) firebreak.ItemResult {
	res := firebreak.ItemResult{Seq: it.Seq, Attempts: it.Attempts}
	if ctx.Err() != nil {
		res.State, res.Attempts = firebreak.ItemPending, it.Attempts-1
		return res
	}
	rollback := d.r.Kind == firebreak.RunRollback
	req := firebreak.ActionRequest{Action: it.Action, IncidentID: d.r.IncidentID, Target: it.Target, Key: it.Key(), Until: d.until[it.Action],
		Reason: fmt.Sprintf("firebreak incident %d, plan %d v%d, run %d", d.r.IncidentID, d.r.PlanID, d.r.Version, d.r.ID)}
	unknown := false // a call of this item may have taken effect
	var last error
	for attempt := 0; attempt < d.s.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			res.Attempts++
		}
		if err := d.wait(ctx); err != nil {
			if unknown {
				return firebreak.ItemResult{Seq: it.Seq}
			}
			res.State, res.Attempts = firebreak.ItemPending, it.Attempts-1
			return res
		}
		if unknown {
			st, err := d.observe(it)
			switch {
			case err != nil:
				last = err
				d.backoff(err, attempt)
				continue
			case !st.Exists:
				res.State, res.Reason = firebreak.ItemSkipped, "the provider does not know this target"
				return res
			case rollback && st.Reverted(it.Action), !rollback && st.Applied(it.Action, it.SentAt.Add(-revokeSkew)):
				res.State, res.Reason = firebreak.ItemConfirmed, "confirmed by reading the provider after: "+reason(last)
				return res
			}
			unknown = false // not in effect: safe to call again
			if err := d.wait(ctx); err != nil {
				res.State, res.Attempts = firebreak.ItemPending, it.Attempts-1
				return res
			}
		}
		d.e.lastCall.Store(time.Now().UnixNano())
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		var err error
		if rollback {
			err = d.connFor(it.Action).Revert(cctx, req)
		} else {
			err = d.connFor(it.Action).Apply(cctx, req)
		}
		cancel()
		if err == nil {
			if hook := d.s.cfg.AfterCall; hook != nil {
				hook()
			}
			res.State, res.Reason = firebreak.ItemConfirmed, ""
			return res
		}
		last = err
		switch firebreak.ProviderOutcome(err) {
		case firebreak.CallRejected:
			res.State, res.Reason = firebreak.ItemSkipped, reason(err)
			return res
		case firebreak.CallUnknown:
			unknown = true
		}
		d.backoff(err, attempt)
	}
	if unknown {
		res.State, res.Reason = firebreak.ItemFailed, "outcome unknown after "+strconv.Itoa(d.s.cfg.MaxAttempts)+" attempts: "+reason(last)
		return res
	}
	res.State, res.Reason = firebreak.ItemFailed, "gave up after "+strconv.Itoa(d.s.cfg.MaxAttempts)+" attempts: "+reason(last)
	return res
}

// observe reads the provider's state of an item's target.
func (d *dispatcher) observe(it firebreak.RunItem) (firebreak.TargetState, error) {
	d.e.lastCall.Store(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return d.connFor(it.Action).Observe(ctx, it.Target, it.Source)
}

// connFor returns the connector that carries out action.
func (d *dispatcher) connFor(action firebreak.ActionKind) firebreak.Connector {
	if info, _ := action.Info(); info.Channel != "" {
		return d.notifier
	}
	return d.conn
}

// wait holds a call until the rate limit and any Retry-After allow it.
func (d *dispatcher) wait(ctx context.Context) error {
	d.mu.Lock()
	nb := d.notBefore
	d.mu.Unlock()
	if delay := time.Until(nb); delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	return d.limiter.Wait(ctx)
}

// backoff waits before a retry: the provider's Retry-After, which holds
// every worker, or an exponential delay with jitter for this item alone.
func (d *dispatcher) backoff(err error, attempt int) {
	var pe *firebreak.ProviderError
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		// Jitter, so that a whole-second Retry-After does not lock every
		// retry onto the phase of a provider's periodic throttling.
		wait := pe.RetryAfter + rand.N(pe.RetryAfter/4+time.Millisecond)
		d.mu.Lock()
		if nb := time.Now().Add(wait); nb.After(d.notBefore) {
			d.notBefore = nb
		}
		d.mu.Unlock()
		return
	}
	delay := time.Duration(10<<min(attempt, 8)) * time.Millisecond
	time.Sleep(delay/2 + rand.N(delay/2+1))
}

func reason(err error) string {
	var pe *firebreak.ProviderError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	if err == nil {
		return "unknown"
	}
	return err.Error()
}

// reconcile settles the items a crash left sent: for each, it reads the
// provider's state; an effect in place is confirmed, anything else goes
// back to pending and is dispatched again with the rest.
func (d *dispatcher) reconcile(ctx context.Context) error {
	s, r := d.s, d.r
	rollback := r.Kind == firebreak.RunRollback
	filter := firebreak.ItemFilter{State: firebreak.ItemSent, Limit: firebreak.MaxPageLimit}
	fixed := 0
	for ctx.Err() == nil {
		page, err := s.Store.ListItems(ctx, r.ID, filter)
		if err != nil {
			return err
		}
		var results []firebreak.ItemResult
		for _, it := range page.Items {
			// Reconciliation must settle every item before anything new
			// is sent, so a provider that is throttling is waited out
			// (up to reconcileFor); other errors get MaxAttempts.
			var st firebreak.TargetState
			var err error
			deadline := time.Now().Add(reconcileFor)
			for attempt := 0; ; attempt++ {
				if err = d.wait(ctx); err != nil {
					return err
				}
				if st, err = d.observe(it); err == nil {
					break
				}
				throttled := firebreak.ProviderOutcome(err) == firebreak.CallNotApplied
				if time.Now().After(deadline) || (!throttled && attempt+1 >= s.cfg.MaxAttempts) {
					break
				}
				d.backoff(err, attempt)
			}
			res := firebreak.ItemResult{Seq: it.Seq, Attempts: it.Attempts}
			switch {
			case err != nil:
				return fmt.Errorf("read the provider's state of %s: %s", it.Target, reason(err))
			case !st.Exists:
				res.State, res.Reason = firebreak.ItemSkipped, "the provider does not know this target"
			case rollback && st.Reverted(it.Action), !rollback && st.Applied(it.Action, it.SentAt.Add(-revokeSkew)):
				res.State, res.Reason = firebreak.ItemConfirmed, "confirmed by reading the provider after a restart"
			default:
				res.State = firebreak.ItemPending // not in effect: send again
			}
			results = append(results, res)
		}
		if len(results) > 0 {
			if err := s.Store.RecordItems(context.WithoutCancel(ctx), r.ID, results); err != nil {
				return err
			}
			fixed += len(results)
		}
		// Items just recorded left the sent state, so the next page starts
		// again from the first sent item.
		if page.Next == "" || len(results) == 0 {
			break
		}
	}
	if fixed > 0 {
		s.timeline(ctx, r.IncidentID, firebreak.SystemActor, "run_reconciled",
			fmt.Sprintf("Run %d: %d actions whose outcome a restart left unknown were settled by reading the provider's state.", r.ID, fixed),
			map[string]any{"run": r.ID, "items": fixed})
	}
	return ctx.Err()
}
