package idp

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"firebreak"
)

// simRequest is the body of an apply or revert call to the simulated
// provider's HTTP API.
type simRequest struct {
	Key    string    `json:"key"`
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// simHandler serves a Sim over HTTP.
type simHandler struct{ sim *Sim }

// NewSimHandler serves sim over HTTP, with its faults carried out for
// real: 5xx and 429 status codes with Retry-After, delayed answers, and
// connections reset (hijacked and closed) after an effect. The API:
//
//	POST   /v1/targets/{target}/actions/{action}  apply; body {"key", "until", "reason"}
//	DELETE /v1/targets/{target}/actions/{action}  revert; same body
//	GET    /v1/targets/{target}[?source=1]        the target's state
//	GET    /v1/stats                              counters and call rate
//
// Targets that hold a "/" (a CIDR prefix) are path-escaped ("%2F").
func NewSimHandler(sim *Sim) http.Handler {
	h := &simHandler{sim: sim}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/targets/{target}/actions/{action}", h.apply)
	mux.HandleFunc("DELETE /v1/targets/{target}/actions/{action}", h.revert)
	mux.HandleFunc("GET /v1/targets/{target}", h.observe)
	mux.HandleFunc("GET /v1/stats", h.stats)
	return mux
}

func (h *simHandler) apply(w http.ResponseWriter, r *http.Request)  { h.act(w, r, true) }
func (h *simHandler) revert(w http.ResponseWriter, r *http.Request) { h.act(w, r, false) }

func (h *simHandler) act(w http.ResponseWriter, r *http.Request, apply bool) {
	var body simRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request body: " + err.Error()})
			return
		}
	}
	req := firebreak.ActionRequest{Action: firebreak.ActionKind(r.PathValue("action")), Target: r.PathValue("target"),
		Key: body.Key, Until: body.Until, Reason: body.Reason}
	var err error
	if apply {
		err = h.sim.Apply(r.Context(), req)
	} else {
		err = h.sim.Revert(r.Context(), req)
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (h *simHandler) observe(w http.ResponseWriter, r *http.Request) {
	source, _ := strconv.ParseBool(r.URL.Query().Get("source"))
	st, err := h.sim.Observe(r.Context(), r.PathValue("target"), source)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(st))
}

func (h *simHandler) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.sim.Stats())
}

// fail answers a failed call as a real provider would.
func (h *simHandler) fail(w http.ResponseWriter, err error) {
	var pe *firebreak.ProviderError
	if !errors.As(err, &pe) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	switch pe.Outcome {
	case firebreak.CallUnknown:
		resetConnection(w)
		return
	case firebreak.CallNotApplied:
		if pe.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(pe.RetryAfter.Seconds()))))
		}
	}
	status := pe.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]string{"error": pe.Reason})
}

// resetConnection drops the connection without an answer, with a TCP RST
// where it can, as a provider that crashed after acting would.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // close with RST, not FIN
	}
	conn.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
