package firebreak

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Timeline entry kinds written by the stores. Other packages may add their
// own: a kind is any lower-case word with underscores, up to 64 bytes.
const (
	EntryOpened        = "opened"
	EntryStateChanged  = "state_changed"
	EntryUpdated       = "updated" // severity or title
	EntryAccountsAdded = "accounts_added"
	EntryTierMoved     = "tier_moved"
	EntrySourceAdded   = "source_added"
	EntryMerged        = "merged"
	EntryNote          = "note"
)

var entryKind = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

// TimelineEntry is one step in an incident's life: who did what, when.
type TimelineEntry struct {
	ID         int64          `json:"id"`
	IncidentID int64          `json:"incident_id"`
	Time       time.Time      `json:"time"`
	Actor      string         `json:"actor"` // "system" or an operator name
	Kind       string         `json:"kind"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data,omitempty"`
}

// Validate checks the fields a caller sets (Actor, Kind, Message, Data).
func (e *TimelineEntry) Validate() error {
	if err := ValidateActor(e.Actor); err != nil {
		return err
	}
	if !entryKind.MatchString(e.Kind) {
		return &FieldError{Field: "kind", Reason: "must be a lower-case word with underscores, up to 64 bytes"}
	}
	if err := checkLongText("message", e.Message, true); err != nil {
		return err
	}
	if b, err := json.Marshal(e.Data); err != nil {
		return &FieldError{Field: "data", Reason: "not representable as JSON"}
	} else if len(b) > MaxDataLen {
		return &FieldError{Field: "data", Reason: "larger than " + strconv.Itoa(MaxDataLen) + " bytes as JSON"}
	}
	return nil
}

// SystemActor is the actor of steps Firebreak takes on its own.
const SystemActor = "system"

// ValidateActor checks who is acting: "system" or an operator's name.
func ValidateActor(actor string) error {
	return checkText("actor", actor, MaxShortField, true)
}

// whitespace maps the control characters free text may hold to spaces.
var whitespace = strings.NewReplacer("\n", " ", "\t", " ", "\r", " ")

// checkLongText is checkText for free text, which may hold line breaks and tabs.
func checkLongText(field, v string, required bool) error {
	return checkText(field, whitespace.Replace(v), MaxTextLen, required)
}

func checkSeen(first, last time.Time) error {
	switch {
	case first.IsZero():
		return &FieldError{Field: "first_seen", Reason: "required"}
	case last.Before(first):
		return &FieldError{Field: "last_seen", Reason: "before first_seen"}
	}
	return nil
}

// indexed prefixes the field of a *FieldError with "name[i]."; other errors
// pass through.
func indexed(name string, i int, err error) error {
	if fe, ok := err.(*FieldError); ok {
		return &FieldError{Field: name + "[" + strconv.Itoa(i) + "]." + fe.Field, Reason: fe.Reason}
	}
	return err
}

// names joins a list of enum values for an error message.
func names[T ~string](set []T) string {
	if len(set) == 0 {
		return "none"
	}
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
