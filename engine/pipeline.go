// Package engine is the streaming pipeline between ingestion and the risk
// model: it journals events durably, scores them in journal order, keeps the
// counters the dashboard shows, snapshots the model and rebuilds it on start.
// Replay uses the same Pipeline, so a policy measured offline behaves the
// same way online.
package engine

import (
	"sync"

	"firebreak"
	"firebreak/risk"
)

// Pipeline scores events one at a time in order and counts what it decided.
// It is the one code path shared by `serve` and `replay`. Not safe for
// concurrent use except for Stats.
type Pipeline struct {
	model *risk.Model

	mu        sync.Mutex // guards the fields below for Stats
	events    int64
	successes int64
	failures  int64
	changes   int64    // account changes (decision 0007)
	decisions [3]int64 // successful logins, by decision
	thresh    firebreak.Thresholds
	accounts  int
	budget    float64
}

// NewPipeline returns a pipeline around model.
func NewPipeline(model *risk.Model) *Pipeline {
	return &Pipeline{model: model, thresh: model.Thresholds(), budget: model.Policy().ChallengeBudget}
}

// Model returns the risk model. Only the pipeline's own goroutine may use it.
func (p *Pipeline) Model() *risk.Model { return p.model }

// Process scores e against everything before it, learns from it and counts
// the decision. r receives the verdict.
func (p *Pipeline) Process(e *firebreak.Event, r *risk.Result) {
	if !e.IsLogin() {
		// An account change is not a login: nothing to score or learn. The
		// detector weighs it against the session it came from.
		*r = risk.Result{}
		p.mu.Lock()
		p.events++
		p.changes++
		p.mu.Unlock()
		return
	}
	p.model.Assess(e, r)
	p.mu.Lock()
	p.events++
	if e.Outcome == firebreak.OutcomeSuccess {
		p.successes++
		p.decisions[r.Decision]++
	} else {
		p.failures++
	}
	// Thresholds change slowly (the model refreshes them every 512 scores);
	// copying them every 1024 events keeps Stats fresh and Process cheap.
	if p.events&1023 == 0 {
		p.thresh = p.model.Thresholds()
		p.accounts = p.model.Accounts()
	}
	p.mu.Unlock()
}

// Assessment converts a risk result into the domain type, with reasons. It
// reads only e and r, so any goroutine may call it.
func Assessment(e *firebreak.Event, r *risk.Result) firebreak.Assessment {
	return firebreak.Assessment{Score: r.Score, Decision: r.Decision, Reasons: risk.Reasons(e, r)}
}

// Refresh updates the cached thresholds and account count now.
func (p *Pipeline) Refresh() {
	t, n := p.model.Thresholds(), p.model.Accounts()
	p.mu.Lock()
	p.thresh, p.accounts = t, n
	p.mu.Unlock()
}

// Stats returns the counters. Safe for concurrent use.
func (p *Pipeline) Stats() firebreak.EngineStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := firebreak.EngineStats{
		Events:     p.events,
		Accounts:   p.accounts,
		Successes:  p.successes,
		Failures:   p.failures,
		Changes:    p.changes,
		Thresholds: p.thresh,
		Budget:     p.budget,
		Decisions:  map[string]int64{},
	}
	for d, n := range p.decisions {
		s.Decisions[firebreak.Decision(d).String()] = n
	}
	if p.successes > 0 {
		s.Challenged = float64(p.decisions[firebreak.Challenge]+p.decisions[firebreak.Deny]) / float64(p.successes)
	}
	return s
}
