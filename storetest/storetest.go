// Package storetest is the one conformance suite every Firebreak store must
// pass. A store's own tests call it with a function that opens an empty
// store; the embedded SQLite store and the PostgreSQL store run the same
// tests, so they behave the same behind firebreak's service interfaces.
package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"firebreak"
)

// t0 is the time the suite's fixtures start at.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// wantCode fails t unless err carries the error code want and a message
// that contains every one of mention (a field name, the allowed states).
func wantCode(t *testing.T, err error, want string, mention ...string) {
	t.Helper()
	if got := firebreak.ErrorCode(err); got != want {
		t.Fatalf("err = %v (code %q), want code %q", err, got, want)
	}
	msg := firebreak.ErrorMessage(err)
	for _, m := range mention {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not mention %q", msg, m)
		}
	}
}

// wantField fails t unless err is EINVALID and names field, both in its
// message and, when it carries one, in its *firebreak.FieldError.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, firebreak.EINVALID, field)
	var fe *firebreak.FieldError
	if errors.As(err, &fe) && fe.Field != field {
		t.Errorf("FieldError.Field = %q, want %q", fe.Field, field)
	}
}

func ptr[T any](v T) *T { return &v }
