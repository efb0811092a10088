package http

import (
	"context"
	nethttp "net/http"
	"strconv"

	"firebreak"
)

// AuditLog is what the API reads of the audit trail (*audit.Log).
type AuditLog interface {
	Records(ctx context.Context, from int64, limit int) ([]firebreak.AuditRecord, error)
	Size() int64
	Checkpoint() string
	VerifierKey() string
}

// AuditResponse is the body of GET /api/v1/audit: records from Seq "from"
// on. Next is the "from" of the next page; 0 on the last page.
type AuditResponse struct {
	Records []firebreak.AuditRecord `json:"records"`
	Size    int64                   `json:"size"`
	Next    int64                   `json:"next,omitempty"`
}

// CheckpointResponse is the body of GET /api/v1/audit/checkpoint: the latest
// signed checkpoint and the key that verifies it. Keep a copy of both away
// from this server: `firebreak audit verify` checks a log against them.
type CheckpointResponse struct {
	Size        int64  `json:"size"`
	Checkpoint  string `json:"checkpoint"`
	VerifierKey string `json:"verifier_key"`
}

func (s *Server) auditLog(w nethttp.ResponseWriter, r *nethttp.Request) AuditLog {
	if s.cfg.AuditLog == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail is not available on this server."))
		return nil
	}
	return s.cfg.AuditLog
}

func (s *Server) handleAudit(w nethttp.ResponseWriter, r *nethttp.Request) {
	log := s.auditLog(w, r)
	if log == nil {
		return
	}
	q := r.URL.Query()
	var errs fieldErrors
	from, limit := int64(0), firebreak.DefaultPageLimit
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseInt(v, 10, 64); err != nil || from < 0 {
			errs = append(errs, firebreak.FieldError{Field: "from", Reason: "must be a record number from 0"})
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > firebreak.MaxPageLimit {
			errs = append(errs, firebreak.FieldError{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(firebreak.MaxPageLimit)})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	recs, err := log.Records(r.Context(), from, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := AuditResponse{Records: nonNilSlice(recs), Size: log.Size()}
	if n := int64(len(recs)); n > 0 && from+n < res.Size {
		res.Next = from + n
	}
	writeJSON(w, nethttp.StatusOK, res)
}

func (s *Server) handleAuditCheckpoint(w nethttp.ResponseWriter, r *nethttp.Request) {
	log := s.auditLog(w, r)
	if log == nil {
		return
	}
	writeJSON(w, nethttp.StatusOK, CheckpointResponse{Size: log.Size(), Checkpoint: log.Checkpoint(), VerifierKey: log.VerifierKey()})
}
