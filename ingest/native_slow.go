package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"firebreak"
)

// slowNative splits a native object with encoding/json. It is the reference
// path: the fast scanner falls back to it on anything unusual, and every
// structural error is reported from here.
func slowNative(line []byte, r *rawNative) error {
	if err := checkJSON(line); err != nil {
		return err
	}
	return walkObject(line, func(key string, v json.RawMessage) error {
		id := fieldIndex([]byte(key))
		if id < 0 {
			return nil
		}
		if r.seen&(1<<id) != 0 {
			return &firebreak.FieldError{Field: key, Reason: "duplicate key"}
		}
		r.seen |= 1 << id
		return r.setSlow(id, v)
	})
}

// checkJSON reports malformed JSON (including NaN, Infinity, truncation and
// nesting deeper than encoding/json allows) and a top level that is not an
// object.
func checkJSON(line []byte) error {
	if !json.Valid(line) {
		err := json.Unmarshal(line, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &firebreak.FieldError{Reason: fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error())}
		}
		return &firebreak.FieldError{Reason: "malformed JSON"}
	}
	if t := bytes.TrimLeft(line, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return &firebreak.FieldError{Reason: "not a JSON object"}
	}
	return nil
}

// walkObject calls fn for each member of a valid JSON object, in order,
// duplicates included.
func walkObject(obj []byte, fn func(key string, v json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return &firebreak.FieldError{Reason: "malformed JSON"}
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return &firebreak.FieldError{Reason: "malformed JSON"}
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return &firebreak.FieldError{Field: key, Reason: "malformed JSON"}
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

func (r *rawNative) setSlow(id int, v json.RawMessage) error {
	if v[0] == 'n' {
		return nil // null is absent
	}
	name := fieldNames[id]
	switch {
	case id == fLabel:
		if v[0] != '{' {
			return &firebreak.FieldError{Field: name, Reason: "must be an object"}
		}
		return r.setSlowLabel(v)
	case id >= fASN:
		if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
			return &firebreak.FieldError{Field: name, Reason: "must be a number"}
		}
		r.val[id] = v
	default:
		s, err := jsonString(name, v)
		if err != nil {
			return err
		}
		r.val[id] = []byte(s)
	}
	return nil
}

func (r *rawNative) setSlowLabel(obj []byte) error {
	r.hasLabel = true
	return walkObject(obj, func(key string, v json.RawMessage) error {
		id := labelIndex([]byte(key))
		if id < 0 {
			return nil
		}
		name := "label." + key
		if r.labelSeen&(1<<id) != 0 {
			return &firebreak.FieldError{Field: name, Reason: "duplicate key"}
		}
		r.labelSeen |= 1 << id
		if v[0] == 'n' {
			return nil
		}
		if id == lCohort {
			s, err := jsonString(name, v)
			r.cohort = []byte(s)
			return err
		}
		if v[0] != 't' && v[0] != 'f' {
			return &firebreak.FieldError{Field: name, Reason: "must be true or false"}
		}
		if id == lATO {
			r.ato = v[0] == 't'
		} else {
			r.attack = v[0] == 't'
		}
		return nil
	})
}

func jsonString(name string, v json.RawMessage) (string, error) {
	if v[0] != '"' {
		return "", &firebreak.FieldError{Field: name, Reason: "must be a string"}
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", &firebreak.FieldError{Field: name, Reason: "malformed string"}
	}
	return s, nil
}
