package idp

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"firebreak"
)

// kcUser is a Keycloak UserRepresentation. Fields the connector does not
// touch are kept as they came, so that writing the user back changes only
// what Firebreak meant to change.
type kcUser struct {
	raw             map[string]json.RawMessage
	enabled         bool
	requiredActions []string
	attributes      map[string][]string
}

func decodeKCUser(b []byte) (*kcUser, error) {
	u := &kcUser{}
	if err := json.Unmarshal(b, &u.raw); err != nil {
		return nil, err
	}
	if u.raw == nil || u.raw["id"] == nil {
		return nil, errors.New("not a user representation")
	}
	for name, dst := range map[string]any{"enabled": &u.enabled, "requiredActions": &u.requiredActions, "attributes": &u.attributes} {
		if v, ok := u.raw[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, errors.New(name + ": " + err.Error())
			}
		}
	}
	if u.attributes == nil {
		u.attributes = map[string][]string{}
	}
	return u, nil
}

func (u *kcUser) encode() ([]byte, error) {
	for name, v := range map[string]any{"enabled": u.enabled, "requiredActions": u.requiredActions, "attributes": u.attributes} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		u.raw[name] = b
	}
	return json.Marshal(u.raw)
}

// change edits the user for one action and reports whether anything
// changed: applying what is already in place writes nothing.
func (u *kcUser) change(req firebreak.ActionRequest, apply bool, now time.Time) (bool, error) {
	before := u.fingerprint()
	switch req.Action {
	case firebreak.ActionForceReset:
		switch {
		case apply:
			u.require(kcUpdatePassword, true)
			if _, ok := u.attributes[kcResetMarker]; !ok {
				u.attributes[kcResetMarker] = []string{now.UTC().Format(time.RFC3339)}
			}
		case u.state().ResetUsed:
			return false, &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: http.StatusConflict, Reason: "the person already reset the password"}
		default:
			u.require(kcUpdatePassword, false)
			delete(u.attributes, kcResetMarker)
		}
	case firebreak.ActionStepUp:
		u.require(kcConfigureTOTP, apply)
	case firebreak.ActionLock:
		if apply && req.Until.IsZero() {
			return false, &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: "temporary_lock needs an until time"}
		}
		u.enabled = !apply
		if apply {
			u.attributes[kcLockedUntil] = []string{req.Until.UTC().Format(time.RFC3339)}
		} else {
			delete(u.attributes, kcLockedUntil)
		}
	}
	return u.fingerprint() != before, nil
}

// require adds or removes a required action.
func (u *kcUser) require(action string, on bool) {
	i := slices.Index(u.requiredActions, action)
	switch {
	case on && i < 0:
		u.requiredActions = append(u.requiredActions, action)
	case !on && i >= 0:
		u.requiredActions = slices.Delete(u.requiredActions, i, i+1)
	}
}

func (u *kcUser) fingerprint() string {
	b, _ := json.Marshal([]any{u.enabled, u.requiredActions, u.attributes})
	return string(b)
}

// state reads what Firebreak's actions left on the user. A reset counts
// as used when Firebreak required it and Keycloak has since dropped the
// required action (the person chose a new password). A user disabled by
// someone else is not reported as locked.
func (u *kcUser) state() firebreak.TargetState {
	st := firebreak.TargetState{Exists: true}
	st.ResetRequired = slices.Contains(u.requiredActions, kcUpdatePassword)
	_, marked := u.attributes[kcResetMarker]
	st.ResetUsed = marked && !st.ResetRequired
	st.StepUpRequired = slices.Contains(u.requiredActions, kcConfigureTOTP)
	if v := u.attributes[kcLockedUntil]; !u.enabled && len(v) > 0 {
		if t, err := time.Parse(time.RFC3339, v[0]); err == nil {
			st.LockedUntil = t
		}
	}
	return st
}
