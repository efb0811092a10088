package sqlite

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"

	"firebreak"
)

// cursor is a position in a sorted list: after the row with this sort key
// and id. It travels as base64url JSON, which callers treat as opaque.
type cursor struct {
	List string `json:"l"`           // "incidents" or "accounts"
	Key  string `json:"k"`           // opened_at of an incident, or a tier
	ID   int64  `json:"i,omitempty"` // incident id
	Acct string `json:"a,omitempty"` // account
}

// Lists a cursor can point into.
const (
	incidentList = "incidents"
	accountList  = "accounts"
)

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // strings and an int64 always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses s as a cursor into list; "" is the start of the list.
// Anything else that is not a cursor this store made is EINVALID.
func decodeCursor(s, list string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && !c.valid(list) {
		err = errors.New("bad position")
	}
	if err != nil {
		return cursor{}, invalid(&firebreak.FieldError{Field: "cursor",
			Reason: "not a cursor from this list; pass the next value of the previous page"})
	}
	return c, nil
}

func (c cursor) valid(list string) bool {
	if c.List != list {
		return false
	}
	if list == accountList {
		return slices.Contains(firebreak.Tiers, firebreak.Tier(c.Key)) && c.Acct != "" && c.ID == 0
	}
	_, err := parseTime(c.Key)
	return err == nil && c.ID > 0 && c.Acct == ""
}

// fieldError is a validation failure: an EINVALID *firebreak.Error whose
// message names the field, which also unwraps to the *firebreak.FieldError
// so that the HTTP layer can return the field as structured data.
type fieldError struct {
	code  *firebreak.Error
	field *firebreak.FieldError
}

func (e *fieldError) Error() string   { return e.code.Error() }
func (e *fieldError) Unwrap() []error { return []error{e.code, e.field} }

// invalid turns a *firebreak.FieldError from a Validate method into an
// EINVALID error; nil and other errors pass through.
func invalid(err error) error {
	var fe *firebreak.FieldError
	if errors.As(err, &fe) {
		return &fieldError{code: firebreak.Errorf(firebreak.EINVALID, "%s", fe.Error()), field: fe}
	}
	return err
}
