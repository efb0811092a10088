package ingest_test

import (
	"errors"
	"strings"
	"testing"

	"firebreak"
)

// sameEvent compares events by value, label included.
func sameEvent(a, b *firebreak.Event) bool {
	la, lb := a.Label, b.Label
	if (la == nil) != (lb == nil) || (la != nil && *la != *lb) {
		return false
	}
	x, y := *a, *b
	x.Label, y.Label = nil, nil
	return x == y
}

// wantFieldError checks that err is a *firebreak.FieldError for line, field
// and a reason containing reason.
func wantFieldError(t *testing.T, err error, line int, field, reason string) {
	t.Helper()
	var fe *firebreak.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want *firebreak.FieldError", err, err)
	}
	if fe.Line != line || fe.Field != field || !strings.Contains(fe.Reason, reason) {
		t.Fatalf("error = {Line:%d Field:%q Reason:%q}, want line %d, field %q, reason containing %q",
			fe.Line, fe.Field, fe.Reason, line, field, reason)
	}
}
