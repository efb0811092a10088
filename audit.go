package firebreak

import (
	"context"
	"encoding/json"
	"time"
)

// Audit record actions. Every operator and automated step of a response
// writes one; the audit trail is hash-chained and signed (package audit), so
// nobody can quietly rewrite it.
const (
	AuditOperatorLogin       = "operator.login"
	AuditOperatorLoginFailed = "operator.login_failed"
	AuditOperatorLogout      = "operator.logout"
	AuditOperatorCreated     = "operator.created"
	AuditOperatorUpdated     = "operator.updated"
	AuditTokenCreated        = "token.created"
	AuditTokenRevoked        = "token.revoked"
	AuditIncidentUpdated     = "incident.updated" // state, severity, title
	AuditTierMoved           = "incident.tier_moved"
	AuditPlanCreated         = "plan.created"
	AuditPlanRevised         = "plan.revised"
	AuditPlanApproved        = "plan.approved"
	AuditPlanRefused         = "plan.refused" // a refused approval or run, with the reason
	AuditRunStarted          = "run.started"
	AuditRunStage            = "run.stage" // a stage began
	AuditRunItems            = "run.items" // a batch of per-account outcomes, with a digest
	AuditRunPaused           = "run.paused"
	AuditRunResumed          = "run.resumed"
	AuditRunKilled           = "run.killed"
	AuditRunHalted           = "run.halted" // a halt condition stopped it
	AuditRunFinished         = "run.finished"
	AuditRollbackStarted     = "rollback.started"
)

// AuditRecord is one entry of the audit trail.
type AuditRecord struct {
	Seq    int64           `json:"seq"` // position in the log, from 0; set by Append
	Time   time.Time       `json:"time"`
	Actor  string          `json:"actor"`  // "system" or an operator's name
	Action string          `json:"action"` // one of the Audit* constants
	Object string          `json:"object"` // what it acted on: "incident/3", "plan/7", "run/2"
	Data   json.RawMessage `json:"data,omitempty"`
}

// Auditor appends records to the audit trail. Append returns only once the
// record is durable; when it fails, the caller must not take the step the
// record describes (dangerous actions fail closed).
type Auditor interface {
	Append(ctx context.Context, rec AuditRecord) (seq int64, err error)
}

// AuditData marshals v for AuditRecord.Data; values that cannot be
// marshalled become a JSON string saying so, so that recording never fails
// for the data's sake.
func AuditData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal("unmarshallable audit data: " + err.Error())
	}
	return b
}
