package http

import (
	nethttp "net/http"
	"strconv"

	"firebreak"
	"firebreak/auth"
)

// MeResponse is the body of GET /api/v1/me: who the request is from.
type MeResponse struct {
	Name  string         `json:"name"`
	Role  firebreak.Role `json:"role"`
	Kind  auth.Kind      `json:"kind"`  // session or token
	Actor string         `json:"actor"` // as the timeline records it
	// CSRFToken is the session's token for state-changing requests; empty
	// for tokens, which need none.
	CSRFToken string `json:"csrf_token,omitempty"`
}

// OperatorsResponse is the body of GET /api/v1/operators.
type OperatorsResponse struct {
	Operators []*firebreak.Operator `json:"operators"`
}

// CreateOperatorRequest is the body of POST /api/v1/operators.
type CreateOperatorRequest struct {
	Name     string         `json:"name"`
	Role     firebreak.Role `json:"role"`
	Password string         `json:"password"`
}

// TokensResponse is the body of GET /api/v1/tokens.
type TokensResponse struct {
	Tokens []*firebreak.APIToken `json:"tokens"`
}

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name string         `json:"name"`
	Role firebreak.Role `json:"role"`
}

// CreateTokenResponse is the body of a created token: the token itself,
// shown this once, and what is stored about it.
type CreateTokenResponse struct {
	Token string `json:"token"`
	*firebreak.APIToken
}

// authService returns the authentication service, or writes 503 and returns
// nil when the server runs without an operator store.
func (s *Server) authService(w nethttp.ResponseWriter, r *nethttp.Request) *auth.Service {
	if s.auth == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Operators are not available: this server runs without an operator store."))
	}
	return s.auth
}

func (s *Server) handleMe(w nethttp.ResponseWriter, r *nethttp.Request) {
	p := auth.FromContext(r.Context())
	res := &MeResponse{Name: p.Name, Role: p.Role, Kind: p.Kind, Actor: p.Actor()}
	if p.Session != nil {
		res.CSRFToken = p.Session.CSRFToken
	}
	writeJSON(w, nethttp.StatusOK, res)
}

func (s *Server) handleListOperators(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	ops, err := svc.ListOperators(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ops == nil {
		ops = []*firebreak.Operator{}
	}
	writeJSON(w, nethttp.StatusOK, &OperatorsResponse{Operators: ops})
}

func (s *Server) handleCreateOperator(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	var req CreateOperatorRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	op, err := svc.CreateOperator(r.Context(), s.actor(r), req.Name, req.Role, req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.haveOperators.Store(true)
	writeJSON(w, nethttp.StatusCreated, op)
}

func (s *Server) handleUpdateOperator(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	var upd auth.OperatorUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		s.writeError(w, r, err)
		return
	}
	op, err := svc.UpdateOperator(r.Context(), s.actor(r), r.PathValue("name"), upd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, op)
}

func (s *Server) handleListTokens(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	tokens, err := svc.ListTokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if tokens == nil {
		tokens = []*firebreak.APIToken{}
	}
	writeJSON(w, nethttp.StatusOK, &TokensResponse{Tokens: tokens})
}

func (s *Server) handleCreateToken(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	var req CreateTokenRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, tok, err := svc.CreateToken(r.Context(), s.actor(r), req.Name, req.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, nethttp.StatusCreated, &CreateTokenResponse{Token: secret, APIToken: tok})
}

func (s *Server) handleRevokeToken(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.authService(w, r)
	if svc == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.writeError(w, r, &firebreak.FieldError{Field: "id", Reason: "must be a positive integer"})
		return
	}
	if err := svc.RevokeToken(r.Context(), s.actor(r), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(nethttp.StatusNoContent)
}
