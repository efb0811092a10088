package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"

	"firebreak"
	"firebreak/ingest"
)

// MaxErrors is how many per-line errors one response reports.
const MaxErrors = 100

// Typical sizes, for sizing the slice of decoded events up front.
const (
	avgLineBytes     = 200 // one NDJSON event
	typicalGzipRatio = 6   // NDJSON login events compress about 6 to 10 times
)

// maxScoreBytes bounds the body of POST /api/v1/score: one event, generously.
const maxScoreBytes = 64 << 10

// EventsResponse is the body of every POST /api/v1/events response. Line
// numbers in Errors are 1-based lines of the (decompressed) body.
type EventsResponse struct {
	Accepted  int                    `json:"accepted"`
	Rejected  int                    `json:"rejected"`
	Errors    []firebreak.FieldError `json:"errors"`
	Truncated bool                   `json:"truncated,omitempty"` // more errors than MaxErrors
	Code      string                 `json:"code,omitempty"`      // set when nothing was accepted
	Error     string                 `json:"error,omitempty"`
}

// ScoreResponse is the body of a successful POST /api/v1/score.
type ScoreResponse struct {
	Score      float64              `json:"score"`
	Decision   string               `json:"decision"`
	Reasons    []string             `json:"reasons"`
	Thresholds firebreak.Thresholds `json:"thresholds"`
}

// handleEvents accepts one JSON event or an NDJSON batch. Valid lines are
// ingested together (durably) and bad lines reported, unless every line is bad.
func (s *Server) handleEvents(w nethttp.ResponseWriter, r *nethttp.Request) {
	res := &EventsResponse{Errors: []firebreak.FieldError{}}
	media, body, err := s.openBody(w, r, s.cfg.MaxBodyBytes, mediaJSON, mediaNDJSON)
	if err != nil {
		s.eventsError(w, r, res, err)
		return
	}
	hint := max(r.ContentLength, 0)
	if r.Header.Get("Content-Encoding") != "" {
		hint *= typicalGzipRatio
	}
	events, err := s.decodeBatch(media, body, hint, res)
	if err != nil {
		// The body as a whole is refused: its lines are neither counted nor listed.
		s.eventsError(w, r, &EventsResponse{Errors: []firebreak.FieldError{}}, err)
		return
	}
	s.metrics.eventsRejected.Add(float64(res.Rejected))
	switch {
	case len(events) == 0 && res.Rejected == 0:
		err = firebreak.Errorf(firebreak.EINVALID, "Empty body: send one JSON event or NDJSON lines.")
	case len(events) == 0:
		err = firebreak.Errorf(firebreak.EINVALID, "No valid events: every line was rejected.")
	default:
		err = s.cfg.Ingest.Ingest(r.Context(), events)
	}
	if err != nil {
		s.eventsError(w, r, res, err)
		return
	}
	res.Accepted = len(events)
	s.metrics.eventsAccepted.Add(float64(res.Accepted))
	writeJSON(w, nethttp.StatusAccepted, res)
}

// eventsError writes err in the shape of an EventsResponse: nothing accepted.
func (s *Server) eventsError(w nethttp.ResponseWriter, r *nethttp.Request, res *EventsResponse, err error) {
	code, msg, fields := s.describe(w, r, err)
	res.Accepted, res.Code, res.Error = 0, code, msg
	if len(res.Errors) == 0 && len(fields) > 0 {
		res.Errors = fields
	}
	writeJSON(w, ErrorStatusCode(code), res)
}

// decodeBatch decodes every line of body, collecting valid events and
// recording rejected lines in res. It fails only when the body as a whole is
// unusable: unreadable, too large, or too many events.
// sizeHint, the body's length when known, sizes the slice of events.
func (s *Server) decodeBatch(media string, body io.Reader, sizeHint int64, res *EventsResponse) ([]firebreak.Event, error) {
	body, err := singleObjectAsLine(media, body)
	if err != nil {
		return nil, err
	}
	dec := ingest.NewDecoder(body, s.decoderOptions())
	events := make([]firebreak.Event, 0, int(min(sizeHint/avgLineBytes+1, int64(s.cfg.MaxEvents))))
	for lines := 1; ; lines++ {
		if lines > s.cfg.MaxEvents {
			return nil, firebreak.Errorf(firebreak.ETOOLARGE, "More than %d events in one request: split the batch.", s.cfg.MaxEvents)
		}
		// Decode in place: no copy, and no event escaping to the heap.
		events = append(events, firebreak.Event{})
		err := dec.Next(&events[len(events)-1])
		if err == nil {
			continue
		}
		events = events[:len(events)-1]
		var fe *firebreak.FieldError
		switch {
		case err == io.EOF:
			return events, nil
		case errors.As(err, &fe):
			res.reject(*fe)
		default:
			return nil, readError(err, s.cfg.MaxBodyBytes)
		}
	}
}

// reject records one rejected line.
func (res *EventsResponse) reject(fe firebreak.FieldError) {
	res.Rejected++
	if len(res.Errors) < MaxErrors {
		res.Errors = append(res.Errors, fe)
	} else {
		res.Truncated = true
	}
}

// singleObjectAsLine lets an application/json body hold one pretty-printed
// object: a body that is one valid JSON value is compacted onto one line, so
// the line decoder sees it whole. Anything else is left as lines.
func singleObjectAsLine(media string, body io.Reader) (io.Reader, error) {
	if media != mediaJSON {
		return body, nil
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, bom))
	if !json.Valid(trimmed) {
		return bytes.NewReader(data), nil
	}
	var line bytes.Buffer
	if err := json.Compact(&line, trimmed); err != nil {
		return nil, fmt.Errorf("compact json body: %w", err)
	}
	return &line, nil
}

func (s *Server) decoderOptions() ingest.Options {
	return ingest.Options{Format: "ndjson", Now: s.cfg.Now(), Agents: s.cfg.Agents, MaxLineBytes: s.cfg.MaxLineBytes}
}

// handleScore scores one login in progress and returns the verdict. Account
// changes are refused: they go to handleEvents.
func (s *Server) handleScore(w nethttp.ResponseWriter, r *nethttp.Request) {
	_, body, err := s.openBody(w, r, maxScoreBytes, mediaJSON)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.decodeOne(body)
	if err == nil && !e.IsLogin() {
		// A change is made from a session that already exists: there is no
		// login in progress to allow, challenge or deny. Refused before the
		// engine sees it, so nothing is journaled.
		err = &firebreak.FieldError{Field: "type", Reason: "the score endpoint takes login attempts; send account changes to /api/v1/events"}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, th, err := s.cfg.Ingest.Score(r.Context(), e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reasons := a.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	writeJSON(w, nethttp.StatusOK, &ScoreResponse{Score: a.Score, Decision: a.Decision.String(), Reasons: reasons, Thresholds: th})
}

// decodeOne decodes a body that must hold exactly one event. Its field
// errors carry line 0: the whole body.
func (s *Server) decodeOne(body io.Reader) (firebreak.Event, error) {
	var e firebreak.Event
	body, err := singleObjectAsLine(mediaJSON, body)
	if err != nil {
		return e, err
	}
	dec := ingest.NewDecoder(body, s.decoderOptions())
	var fe *firebreak.FieldError
	switch err := dec.Next(&e); {
	case err == io.EOF:
		return e, firebreak.Errorf(firebreak.EINVALID, "Empty body: send one JSON event.")
	case errors.As(err, &fe):
		fe.Line = 0
		return e, fe
	case err != nil:
		return e, readError(err, maxScoreBytes)
	}
	var next firebreak.Event
	if err := dec.Next(&next); err != io.EOF {
		return e, firebreak.Errorf(firebreak.EINVALID, "The body holds more than one event: score takes exactly one.")
	}
	return e, nil
}
