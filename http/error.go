package http

import (
	"encoding/json"
	"errors"
	nethttp "net/http"
	"strconv"
	"time"

	"firebreak"
)

// codes maps each firebreak error code to its HTTP status. It is the only
// place where that mapping lives; the client reads it backwards.
var codes = map[string]int{
	firebreak.EINVALID:        nethttp.StatusBadRequest,
	firebreak.EUNAUTHORIZED:   nethttp.StatusUnauthorized,
	firebreak.EFORBIDDEN:      nethttp.StatusForbidden,
	firebreak.ENOTFOUND:       nethttp.StatusNotFound,
	firebreak.ECONFLICT:       nethttp.StatusConflict,
	firebreak.ETOOLARGE:       nethttp.StatusRequestEntityTooLarge,
	firebreak.EUNSUPPORTED:    nethttp.StatusUnsupportedMediaType,
	firebreak.ETOOMANYREQUEST: nethttp.StatusTooManyRequests,
	firebreak.EUNAVAILABLE:    nethttp.StatusServiceUnavailable,
	firebreak.EINTERNAL:       nethttp.StatusInternalServerError,
}

// ErrorStatusCode returns the HTTP status for a firebreak error code, and 500
// for an unknown code.
func ErrorStatusCode(code string) int {
	if v, ok := codes[code]; ok {
		return v
	}
	return nethttp.StatusInternalServerError
}

// FromErrorStatusCode returns the firebreak error code for an HTTP status, and
// EINTERNAL for a status that has none.
func FromErrorStatusCode(status int) string {
	for code, v := range codes {
		if v == status {
			return code
		}
	}
	return firebreak.EINTERNAL
}

// ErrorResponse is the JSON body of every error response except those of
// POST /api/v1/events, which use EventsResponse.
type ErrorResponse struct {
	Code   string                 `json:"code"`
	Error  string                 `json:"error"`
	Errors []firebreak.FieldError `json:"errors,omitempty"`
}

// fieldErrors is a validation failure naming one or more fields. It maps to
// EINVALID and its entries are returned to the client as they are.
type fieldErrors []firebreak.FieldError

func (e fieldErrors) Error() string {
	if len(e) == 0 {
		return "invalid input"
	}
	return e[0].Error()
}

// describe turns err into what the client sees: a code, a message and any
// field errors. It logs internal errors with their detail, which the client
// never sees, and sets Retry-After when the client should come back later.
func (s *Server) describe(w nethttp.ResponseWriter, r *nethttp.Request, err error) (code, msg string, fields []firebreak.FieldError) {
	var fe *firebreak.FieldError
	var fes fieldErrors
	switch {
	case errors.As(err, &fes):
		code, msg, fields = firebreak.EINVALID, fes.Error(), fes
	case errors.As(err, &fe):
		code, msg, fields = firebreak.EINVALID, fe.Error(), []firebreak.FieldError{*fe}
	default:
		code, msg = firebreak.ErrorCode(err), firebreak.ErrorMessage(err)
	}
	switch code {
	case firebreak.EINTERNAL:
		s.logger.Error("http request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case firebreak.ETOOMANYREQUEST, firebreak.EUNAVAILABLE:
		w.Header().Set("Retry-After", retryAfter(s.cfg.RetryAfter))
	}
	return code, msg, fields
}

// writeError writes err as an ErrorResponse with the status its code maps to.
func (s *Server) writeError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	code, msg, fields := s.describe(w, r, err)
	writeJSON(w, ErrorStatusCode(code), &ErrorResponse{Code: code, Error: msg, Errors: fields})
}

// retryAfter formats d as whole seconds, at least one.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w nethttp.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is already sent; an encoding error here can only be a
	// broken connection, which the client notices without our help.
	_ = json.NewEncoder(w).Encode(v)
}
