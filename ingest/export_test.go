package ingest

import (
	"time"
	"unicode/utf8"

	"firebreak"
)

// ParseNativeReference parses like ParseNative but only with encoding/json
// and the standard library's time, IP and float parsers: the reference the
// differential fuzz test holds the fast path to.
func ParseNativeReference(line []byte, e *firebreak.Event, now time.Time) error {
	if !utf8.Valid(line) {
		return &firebreak.FieldError{Reason: "invalid UTF-8"}
	}
	var r rawNative
	if err := slowNative(line, &r); err != nil {
		return err
	}
	return r.build(e, now, nil, true)
}

// FastPathTaken reports whether the fast scanner handles line by itself.
func FastPathTaken(line []byte) bool {
	var r rawNative
	return utf8.Valid(line) && fastNative(line, &r)
}

// CheckAgent applies the native format's rules to a parsed agent.
func CheckAgent(a *firebreak.Agent) error { return checkAgent(a) }
