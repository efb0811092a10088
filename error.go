package firebreak

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in http/error.go.
const (
	ECONFLICT       = "conflict"
	EINTERNAL       = "internal"
	EINVALID        = "invalid"
	ENOTFOUND       = "not_found"
	EUNAUTHORIZED   = "unauthorized"
	EFORBIDDEN      = "forbidden"
	ETOOLARGE       = "too_large"
	EUNSUPPORTED    = "unsupported_media_type"
	EUNAVAILABLE    = "unavailable"
	ETOOMANYREQUEST = "too_many_requests"
)

// Error is Firebreak's application error. Code is machine-readable, Message is
// safe to show to a user; anything else is wrapped and only logged.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("firebreak error: code=%s message=%s", e.Code, e.Message)
}

// ErrorCode returns the code of the root error if it is a *Error, EINVALID
// for a *FieldError (bad input), and EINTERNAL otherwise (nil gives "").
func ErrorCode(err error) string {
	var e *Error
	var fe *FieldError
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	} else if errors.As(err, &fe) {
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of a *Error or *FieldError,
// or a generic message for internal errors so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	var fe *FieldError
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	} else if errors.As(err, &fe) {
		return fe.Error()
	}
	return "Internal error."
}

// Errorf is a helper that returns a *Error with a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError says which field of which input line was rejected and why.
// Line is 1-based; 0 means "the whole body" (a single object).
type FieldError struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// Error implements the error interface: "line 3: field ip: not an IP address".
func (e *FieldError) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("line %d: field %s: %s", e.Line, e.Field, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	case e.Field != "":
		return fmt.Sprintf("field %s: %s", e.Field, e.Reason)
	}
	return e.Reason
}
