package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// maxIncidentBody bounds the JSON bodies of incident changes.
const maxIncidentBody = 64 << 10

// maxCursorLen bounds a pagination cursor, as the domain filters do.
const maxCursorLen = 1024

// parseIncidentID reads the {id} path value: a positive integer.
func parseIncidentID(r *nethttp.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fieldErrors{{Field: "id", Reason: "must be a positive integer"}}
	}
	return id, nil
}

// parseIncidentFilter reads state, kind, since, cursor and limit, reporting
// every bad parameter at once.
func parseIncidentFilter(q url.Values) (firebreak.IncidentFilter, error) {
	f := firebreak.IncidentFilter{State: firebreak.State(q.Get("state")), Kind: firebreak.IncidentKind(q.Get("kind"))}
	var errs fieldErrors
	if f.State != "" && !slices.Contains(firebreak.States, f.State) {
		errs = append(errs, oneOf("state", firebreak.States))
	}
	if f.Kind != "" && !slices.Contains(firebreak.IncidentKinds, f.Kind) {
		errs = append(errs, oneOf("kind", firebreak.IncidentKinds))
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, firebreak.FieldError{Field: "since", Reason: "must be an RFC 3339 time"})
		}
		f.Since = t
	}
	var err fieldErrors
	f.Cursor, f.Limit, err = parsePage(q)
	errs = append(errs, err...)
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// parseAccountsRequest reads the {id} path value and the tier, cursor and
// limit parameters, reporting every bad one at once.
func parseAccountsRequest(r *nethttp.Request) (int64, firebreak.AccountFilter, error) {
	var errs fieldErrors
	id, err := parseIncidentID(r)
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	q := r.URL.Query()
	f := firebreak.AccountFilter{Tier: firebreak.Tier(q.Get("tier"))}
	if f.Tier != "" && !slices.Contains(firebreak.Tiers, f.Tier) {
		errs = append(errs, oneOf("tier", firebreak.Tiers))
	}
	var perrs fieldErrors
	f.Cursor, f.Limit, perrs = parsePage(q)
	errs = append(errs, perrs...)
	if len(errs) > 0 {
		return id, f, errs
	}
	return id, f, nil
}

// parsePage reads cursor and limit (1 to MaxPageLimit, default
// DefaultPageLimit). The store checks that a cursor is one of its own.
func parsePage(q url.Values) (cursor string, limit int, errs fieldErrors) {
	cursor, limit = q.Get("cursor"), firebreak.DefaultPageLimit
	if len(cursor) > maxCursorLen {
		errs = append(errs, firebreak.FieldError{Field: "cursor", Reason: "longer than " + strconv.Itoa(maxCursorLen) + " bytes"})
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > firebreak.MaxPageLimit {
			errs = append(errs, firebreak.FieldError{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(firebreak.MaxPageLimit)})
		}
		limit = n
	}
	return cursor, limit, errs
}

// oneOf is the field error for a value outside an enumeration.
func oneOf[T ~string](field string, set []T) firebreak.FieldError {
	names := make([]string, len(set))
	for i, v := range set {
		names[i] = string(v)
	}
	return firebreak.FieldError{Field: field, Reason: "must be one of " + strings.Join(names, ", ")}
}

// validateMove checks a tier move as the API spells it: the target tier is
// the body's "tier" field, which the domain calls "to".
func validateMove(m *firebreak.TierMove) error {
	err := m.Validate()
	var fe *firebreak.FieldError
	if errors.As(err, &fe) && fe.Field == "to" {
		return fieldErrors{{Field: "tier", Reason: fe.Reason}}
	}
	return err
}

// decodeBody reads exactly one JSON object into v from a body of at most
// maxIncidentBody bytes, refusing unknown fields.
func (s *Server) decodeBody(w nethttp.ResponseWriter, r *nethttp.Request, v any) error {
	_, body, err := s.openBody(w, r, maxIncidentBody, mediaJSON)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return firebreak.Errorf(firebreak.EINVALID, "Request body holds more than one JSON value.")
	}
	return nil
}

// jsonError turns an error from decoding a JSON body into what the client
// sees: the field to blame where there is one.
func jsonError(err error) error {
	var fe *firebreak.Error
	var fieldErr *firebreak.FieldError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &fe):
		return fe // from the bounded body reader: too large, unreadable
	case errors.As(err, &fieldErr):
		return fieldErrors{*fieldErr} // from a value's UnmarshalJSON, such as a duration
	case errors.Is(err, io.EOF):
		return firebreak.Errorf(firebreak.EINVALID, "Request body is empty: send a JSON object.")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fieldErrors{{Field: typeErr.Field, Reason: "must not be a JSON " + typeErr.Value}}
	case errors.As(err, &typeErr):
		return firebreak.Errorf(firebreak.EINVALID, "Request body must be a JSON object, not %s.", typeErr.Value)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return firebreak.Errorf(firebreak.EINVALID, "Request body is not valid JSON: %v.", err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ := strconv.Unquote(name)
		return fieldErrors{{Field: field, Reason: "unknown field"}}
	}
	return &firebreak.Error{Code: firebreak.EINVALID, Message: fmt.Sprintf("Request body is not valid JSON: %v.", err)}
}
