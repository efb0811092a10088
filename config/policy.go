// Package config loads Firebreak's YAML configuration files with
// github.com/goccy/go-yaml, strictly: unknown keys and wrong types are errors
// that name the field, never silently ignored.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml"

	"firebreak"
)

// LoadPolicy reads a policy file. Keys missing from the file keep their
// defaults (firebreak.DefaultPolicy); the result is validated.
func LoadPolicy(path string) (firebreak.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return firebreak.Policy{}, fmt.Errorf("read policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return firebreak.Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses and validates a policy document.
func ParsePolicy(data []byte) (firebreak.Policy, error) {
	p := firebreak.DefaultPolicy()
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict())
		q := p
		switch err := dec.Decode(&q); {
		case errors.Is(err, io.EOF):
			// A file of comments only is an empty document: the defaults.
		case err != nil:
			return firebreak.Policy{}, firebreak.Errorf(firebreak.EINVALID, "%s", yaml.FormatError(err, false, true))
		default:
			p = q
		}
	}
	if err := p.Validate(); err != nil {
		var fe *firebreak.FieldError
		if errors.As(err, &fe) {
			return firebreak.Policy{}, firebreak.Errorf(firebreak.EINVALID, "field %s: %s", fe.Field, fe.Reason)
		}
		return firebreak.Policy{}, err
	}
	return p, nil
}
