package http

import (
	"crypto/sha256"
	"crypto/subtle"
	nethttp "net/http"
	"strings"

	"firebreak"
)

// authenticate requires "Authorization: Bearer <token>" when a token is
// configured. Both sides are hashed before the constant-time comparison so
// that not even the token's length leaks through timing.
func (s *Server) authenticate(next nethttp.Handler) nethttp.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := sha256.Sum256([]byte(s.cfg.Token))
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		token, ok := bearerToken(r)
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="firebreak"`)
			s.writeError(w, r, firebreak.Errorf(firebreak.EUNAUTHORIZED, "A valid bearer token is required: send \"Authorization: Bearer <token>\"."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *nethttp.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
