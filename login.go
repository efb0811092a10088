package firebreak

import (
	"context"
	"time"
)

// ScoredLogin is a login event with the verdict the engine gave it. Seq is the
// event's position in the journal (1-based, strictly increasing).
type ScoredLogin struct {
	Seq        uint64
	Event      Event
	Assessment Assessment
}

// LoginFilter selects scored logins. Zero fields do not filter.
type LoginFilter struct {
	Account     string
	MinDecision Decision // e.g. Challenge: only challenged or denied logins
	Since       time.Time
	Limit       int // at most 1000; 0 means 50
}

// LoginService stores the verdicts worth keeping (high-risk logins) for the
// dashboard and later investigation.
//
// RecordScored returns EINTERNAL on storage failure. FindScored returns
// EINVALID for a bad filter; results are newest first.
type LoginService interface {
	RecordScored(ctx context.Context, logins []*ScoredLogin) error
	FindScored(ctx context.Context, filter LoginFilter) ([]*ScoredLogin, error)
}

// EngineStats is a point-in-time view of the scoring pipeline.
type EngineStats struct {
	Events      int64            `json:"events"`          // seen since start, logins and account changes (incl. journal replay)
	Accounts    int              `json:"accounts"`        // tracked profiles
	Decisions   map[string]int64 `json:"decisions"`       // by decision name, successful logins only
	Successes   int64            `json:"successes"`       // successful logins scored
	Failures    int64            `json:"failures"`        // failed logins scored
	Changes     int64            `json:"account_changes"` // account changes seen (not scored)
	Challenged  float64          `json:"challenge_rate"`  // share of successful logins challenged or denied
	Budget      float64          `json:"challenge_budget"`
	Thresholds  Thresholds       `json:"thresholds"`
	QueueLength int              `json:"queue_length"`
	JournalSeq  uint64           `json:"journal_seq"` // last durable sequence number
	Ready       bool             `json:"ready"`       // journal replay finished
}

// IngestService accepts login events and scores them.
//
// Ingest returns only after every event is durable (journaled and synced);
// scoring then happens in the background, in journal order. It returns
// ETOOMANYREQUEST or EUNAVAILABLE, accepting nothing, when overloaded.
// Score journals one event durably, scores it synchronously and returns the
// verdict with the thresholds that produced it.
type IngestService interface {
	Ingest(ctx context.Context, events []Event) error
	Score(ctx context.Context, event Event) (Assessment, Thresholds, error)
	Stats() EngineStats
}
