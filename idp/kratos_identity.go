package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"firebreak"
)

var errNoID = errors.New(`no "id"`)

// krIdentity is the part of a Kratos identity the connector reads.
type krIdentity struct {
	ID            string          `json:"id"`
	State         string          `json:"state"`
	MetadataAdmin json.RawMessage `json:"metadata_admin"`
}

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitzero"`
}

// metadata returns metadata_admin as an object; nil when it is unset.
func (i *krIdentity) metadata() (map[string]any, error) {
	if len(i.MetadataAdmin) == 0 || bytes.Equal(i.MetadataAdmin, []byte("null")) {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(i.MetadataAdmin, &m); err != nil {
		return nil, errors.New("metadata_admin is not an object")
	}
	return m, nil
}

// patch returns the JSON Patch that carries the action out; none when it
// is already in place.
func (i *krIdentity) patch(req firebreak.ActionRequest, apply bool, now time.Time) ([]jsonPatchOp, error) {
	meta, err := i.metadata()
	if err != nil {
		// Overwriting the application's own metadata would be worse than not acting.
		return nil, &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: err.Error()}
	}
	var ops []jsonPatchOp
	set := func(key string, v any) {
		if meta == nil {
			meta = map[string]any{}
			ops = append(ops, jsonPatchOp{Op: "add", Path: "/metadata_admin", Value: map[string]any{}})
		}
		if old, ok := meta[key]; !ok || old != v {
			ops = append(ops, jsonPatchOp{Op: "add", Path: "/metadata_admin/" + key, Value: v})
		}
	}
	unset := func(key string) {
		if _, ok := meta[key]; ok {
			ops = append(ops, jsonPatchOp{Op: "remove", Path: "/metadata_admin/" + key})
		}
	}
	switch req.Action {
	case firebreak.ActionForceReset:
		switch {
		case apply:
			set(krResetRequired, true)
			unset(krResetDoneAt)
		case i.state().ResetUsed:
			return nil, &firebreak.ProviderError{Outcome: firebreak.CallRejected, Status: http.StatusConflict, Reason: "the person already reset the password"}
		default:
			unset(krResetRequired)
		}
	case firebreak.ActionStepUp:
		if apply {
			set(krStepUpRequired, true)
		} else {
			unset(krStepUpRequired)
		}
	case firebreak.ActionLock:
		if apply && req.Until.IsZero() {
			return nil, &firebreak.ProviderError{Outcome: firebreak.CallRejected, Reason: "temporary_lock needs an until time"}
		}
		state := "active"
		if apply {
			state = "inactive"
			set(krLockedUntil, req.Until.UTC().Format(time.RFC3339))
		} else {
			unset(krLockedUntil)
		}
		if i.State != state {
			ops = append(ops, jsonPatchOp{Op: "replace", Path: "/state", Value: state})
		}
	}
	return ops, nil
}

// state reads what Firebreak's actions left on the identity. An identity
// made inactive by someone else is not reported as locked.
func (i *krIdentity) state() firebreak.TargetState {
	st := firebreak.TargetState{Exists: true}
	meta, _ := i.metadata()
	st.ResetRequired = meta[krResetRequired] == true
	_, done := meta[krResetDoneAt]
	st.ResetUsed = done && !st.ResetRequired
	st.StepUpRequired = meta[krStepUpRequired] == true
	if s, ok := meta[krLockedUntil].(string); ok && i.State == "inactive" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			st.LockedUntil = t
		}
	}
	return st
}
