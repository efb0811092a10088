package mock

import (
	"context"
	"errors"
	"slices"
	"sync"

	"firebreak"
)

var _ firebreak.Auditor = (*AuditLog)(nil)

// AuditLog is an in-memory firebreak.Auditor that keeps its records and can
// be made to fail, for tests of code that must fail closed. Safe for
// concurrent use.
type AuditLog struct {
	mu      sync.Mutex
	records []firebreak.AuditRecord
	fail    bool
}

// ErrAuditDown is what Append returns while the log fails.
var ErrAuditDown = errors.New("audit trail down: disk full")

// Append keeps rec, numbered from 0, or returns ErrAuditDown.
func (a *AuditLog) Append(_ context.Context, rec firebreak.AuditRecord) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return 0, ErrAuditDown
	}
	rec.Seq = int64(len(a.records))
	a.records = append(a.records, rec)
	return rec.Seq, nil
}

// SetFail makes Append fail (true) or work again (false).
func (a *AuditLog) SetFail(fail bool) {
	a.mu.Lock()
	a.fail = fail
	a.mu.Unlock()
}

// Records returns a copy of the records kept, in order.
func (a *AuditLog) Records() []firebreak.AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.records)
}

// Actions returns the actions of the records kept, in order.
func (a *AuditLog) Actions() []string {
	var out []string
	for _, r := range a.Records() {
		out = append(out, r.Action)
	}
	return out
}

// Has reports whether a record of action was kept.
func (a *AuditLog) Has(action string) bool {
	return slices.Contains(a.Actions(), action)
}
