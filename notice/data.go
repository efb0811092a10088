package notice

import (
	"time"

	"firebreak"
)

// Data is what a template sees. It is built per (template, account): the
// incident-wide fields are copied from one shared value and only Tier,
// Account and Actions change per person. It holds nothing secret: Account
// is a display name or the account id, never a password, token or code.
type Data struct {
	Org        string         // the organisation's name, as people know it
	Incident   Incident       // what happened
	Tier       firebreak.Tier // how sure we are that this account is in an attacker's hands
	Account    string         // display name or account id
	Actions    Actions        // what containment did to this account
	StatusURL  string         // the public status page of the incident
	NextUpdate time.Time      // when the next update is promised
}

// Incident is the part of an incident a notice may tell.
type Incident struct {
	ID        int64
	Kind      firebreak.IncidentKind
	Title     string
	FirstSeen time.Time
}

// Actions is what containment did to one account.
type Actions struct {
	ResetRequired   bool      // a new password is required at the next sign-in
	SessionsRevoked bool      // every session was signed out
	StepUp          bool      // a second factor is required at the next sign-in
	LockedUntil     time.Time // sign-ins are refused until then; zero: not locked
}

// Any reports whether anything was done to the account.
func (a Actions) Any() bool {
	return a.ResetRequired || a.SessionsRevoked || a.StepUp || a.Locked()
}

// Locked reports whether the account is locked until a time.
func (a Actions) Locked() bool { return !a.LockedUntil.IsZero() }

// ActionsOf turns confirmed containment actions on one account into Actions;
// lockedUntil is the end of a temporary_lock. Source actions are ignored.
func ActionsOf(kinds []firebreak.ActionKind, lockedUntil time.Time) Actions {
	var a Actions
	for _, k := range kinds {
		switch k {
		case firebreak.ActionForceReset:
			a.ResetRequired = true
		case firebreak.ActionRevokeSessions:
			a.SessionsRevoked = true
		case firebreak.ActionStepUp:
			a.StepUp = true
		case firebreak.ActionLock:
			a.LockedUntil = lockedUntil
		}
	}
	return a
}

// Set records that containment confirmed kind on the account (on true) or
// that a rollback undid it (on false); lockedUntil is the end of a
// temporary_lock. Source and notice actions change nothing.
func (a *Actions) Set(kind firebreak.ActionKind, on bool, lockedUntil time.Time) {
	switch kind {
	case firebreak.ActionForceReset:
		a.ResetRequired = on
	case firebreak.ActionRevokeSessions:
		a.SessionsRevoked = on
	case firebreak.ActionStepUp:
		a.StepUp = on
	case firebreak.ActionLock:
		if on {
			a.LockedUntil = lockedUntil
		} else {
			a.LockedUntil = time.Time{}
		}
	}
}

// Validate checks that the fields every template relies on are set.
func (d *Data) Validate() error {
	switch {
	case d.Org == "":
		return &firebreak.FieldError{Field: "org", Reason: "required"}
	case d.Account == "":
		return &firebreak.FieldError{Field: "account", Reason: "required"}
	case d.Incident.Kind == "":
		return &firebreak.FieldError{Field: "incident.kind", Reason: "required"}
	case d.Tier == "":
		return &firebreak.FieldError{Field: "tier", Reason: "required"}
	case d.StatusURL == "":
		return &firebreak.FieldError{Field: "status_url", Reason: "required: every notice says where updates appear"}
	case d.NextUpdate.IsZero():
		return &firebreak.FieldError{Field: "next_update", Reason: "required: every notice says when the next update comes"}
	}
	return nil
}

// SampleData returns realistic data for previews and the linter: a
// credential-stuffing incident, a compromised account that must reset its
// password and was signed out, and the given organisation and status URL.
func SampleData(org, statusURL string) *Data {
	first := time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)
	return &Data{
		Org: org,
		Incident: Incident{ID: 42, Kind: firebreak.KindCredentialStuffing,
			Title: "Credential stuffing against the sign-in page", FirstSeen: first},
		Tier:       firebreak.TierCompromised,
		Account:    "Alex Morgan",
		Actions:    Actions{ResetRequired: true, SessionsRevoked: true, StepUp: true, LockedUntil: first.Add(24 * time.Hour)},
		StatusURL:  statusURL,
		NextUpdate: first.Add(4 * time.Hour),
	}
}

// longSample is the sample stretched to the longest values a real notice
// may carry, so that the length rule holds for every person.
func longSample(d *Data) *Data {
	l := *d
	l.Org = pad(l.Org, 64)
	l.Account = pad(l.Account, 64)
	l.Incident.Title = pad(l.Incident.Title, firebreak.MaxTitleLen)
	return &l
}

func pad(s string, n int) string {
	for len(s) < n {
		s += " lorem"
	}
	return s[:n]
}
