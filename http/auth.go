package http

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	nethttp "net/http"
	"net/url"
	"strings"

	"firebreak"
	"firebreak/auth"
)

// Names of the session cookie, the CSRF header and the CSRF form field.
const (
	SessionCookie = "fb_session"
	CSRFHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
)

// maxFormBytes bounds the body of a form post (sign-in, sign-out).
const maxFormBytes = 64 << 10

// firstAdminHint tells how to create the first operator.
const firstAdminHint = "firebreak operator add --data DIR --name NAME --role admin"

// access says who may use a route: anyone (public), or a principal whose
// role allows role. The zero value lets no one in, so a route that forgets
// to say is refused (deny by default).
type access struct {
	public bool
	role   firebreak.Role
}

// The access levels of the route table.
var (
	anyone     = access{public: true}
	viewers    = access{role: firebreak.RoleViewer}
	responders = access{role: firebreak.RoleResponder}
	approvers  = access{role: firebreak.RoleApprover}
	admins     = access{role: firebreak.RoleAdmin}
)

// String is the level as docs/access.md shows it.
func (a access) String() string {
	switch {
	case a.public:
		return "public"
	case a.role == "":
		return "nobody"
	}
	return string(a.role)
}

// newAuthService returns the authentication service over cfg.Operators, or
// nil without them.
func newAuthService(cfg Config) *auth.Service {
	if cfg.Operators == nil {
		return nil
	}
	ac := cfg.Auth
	if ac.Now == nil {
		ac.Now = cfg.Now
	}
	if ac.Logger == nil {
		ac.Logger = cfg.Logger
	}
	if ac.Auditor == nil {
		ac.Auditor = cfg.Auditor
	}
	return auth.NewService(cfg.Operators, ac)
}

// hasOperators reports whether any operator exists, remembering a yes.
func (s *Server) hasOperators(ctx context.Context) (bool, error) {
	if s.haveOperators.Load() {
		return true, nil
	}
	if s.auth == nil {
		return false, nil
	}
	ok, err := s.auth.HasOperators(ctx)
	if ok {
		s.haveOperators.Store(true)
	}
	return ok, err
}

// warnWithoutOperators logs how to get in when nobody can.
func (s *Server) warnWithoutOperators() {
	if s.cfg.Token != "" {
		return
	}
	ok, err := s.hasOperators(s.ctx)
	if err != nil {
		s.logger.Error("count operators", "err", err)
		return
	}
	if !ok {
		s.logger.Warn("no operator and no API token: every route but the public ones answers 401; create the first admin with: "+firstAdminHint,
			"addr", s.ln.Addr().String())
	}
}

// authorize wraps a route's handler in access control: it finds the
// principal, refuses anonymous requests and roles that are too weak, checks
// CSRF on state-changing requests of browser sessions, and puts the
// principal in the request's context.
func (s *Server) authorize(pattern string, a access, next nethttp.Handler) nethttp.Handler {
	if a.public {
		return next
	}
	page := isPagePattern(pattern)
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		p, err := s.principal(w, r)
		switch {
		case p == nil && !hasAuthorization(r) && (err == nil || firebreak.ErrorCode(err) == firebreak.EUNAUTHORIZED):
			// Nobody, or a session that has ended.
			s.denyAnonymous(w, r, page, err)
		case err != nil:
			s.deny(w, r, page, err)
		case !p.Role.Allows(a.role):
			s.deny(w, r, page, forbidden(a, p))
		default:
			if err := s.checkCSRF(w, r, p); err != nil {
				s.deny(w, r, page, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
		}
	})
}

// isPagePattern reports whether a route serves HTML pages to people, who
// are sent to the sign-in form, rather than to programs, who get 401.
func isPagePattern(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/partials/")
}

func hasAuthorization(r *nethttp.Request) bool { return r.Header.Get("Authorization") != "" }

// principal returns who makes the request: a bearer token (the static
// Config.Token or a stored API token) or a session cookie; nil for nobody.
// A bearer token that is not valid is an error; a session cookie that has
// ended is cleared and reported as an EUNAUTHORIZED error with no principal.
func (s *Server) principal(w nethttp.ResponseWriter, r *nethttp.Request) (*auth.Principal, error) {
	if hasAuthorization(r) {
		return s.tokenPrincipal(r)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || s.auth == nil {
		return nil, nil
	}
	p, err := s.auth.Authenticate(r.Context(), c.Value)
	if firebreak.ErrorCode(err) == firebreak.EUNAUTHORIZED {
		nethttp.SetCookie(w, s.clearedCookie())
	}
	return p, err
}

// tokenPrincipal authenticates an Authorization: Bearer header.
func (s *Server) tokenPrincipal(r *nethttp.Request) (*auth.Principal, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, firebreak.Errorf(firebreak.EUNAUTHORIZED, "Send the token as \"Authorization: Bearer <token>\".")
	}
	if s.cfg.Token != "" && equalSecrets(token, s.cfg.Token) {
		return &auth.Principal{Name: APIActor, Role: firebreak.RoleAdmin, Kind: auth.KindToken}, nil
	}
	if s.auth == nil || !auth.IsToken(token) {
		return nil, firebreak.Errorf(firebreak.EUNAUTHORIZED, "The API token is not valid.")
	}
	return s.auth.AuthenticateToken(r.Context(), token)
}

// equalSecrets compares two secrets in constant time. Both sides are hashed
// first so that not even the length leaks through timing.
func equalSecrets(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
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

// forbidden is the error for a principal whose role is too weak.
func forbidden(a access, p *auth.Principal) error {
	if a.role == "" {
		return firebreak.Errorf(firebreak.EFORBIDDEN, "This route is open to no role.")
	}
	return firebreak.Errorf(firebreak.EFORBIDDEN, "This needs the %s role; %s has the %s role.", a.role, p.Actor(), p.Role)
}

// deny writes err as a page or as JSON.
func (s *Server) deny(w nethttp.ResponseWriter, r *nethttp.Request, page bool, err error) {
	if firebreak.ErrorCode(err) == firebreak.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="firebreak"`)
	}
	if page {
		s.pageError(w, r, err)
		return
	}
	s.writeError(w, r, err)
}

// denyAnonymous answers a request nobody signed: people are sent to the
// sign-in form (back to this page afterwards), programs get 401. With no
// way in at all, both get 401 saying how to create the first admin.
func (s *Server) denyAnonymous(w nethttp.ResponseWriter, r *nethttp.Request, page bool, why error) {
	ok, err := s.hasOperators(r.Context())
	switch {
	case err != nil:
		s.deny(w, r, page, err)
	case !ok && s.cfg.Token == "":
		s.deny(w, r, page, firebreak.Errorf(firebreak.EUNAUTHORIZED,
			"No operator exists yet: create the first admin on the server with \"%s\".", firstAdminHint))
	case page && ok:
		target := "/login"
		if r.Method == nethttp.MethodGet || r.Method == nethttp.MethodHead {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		nethttp.Redirect(w, r, target, nethttp.StatusSeeOther)
	case why != nil:
		s.deny(w, r, page, why)
	default:
		s.deny(w, r, page, firebreak.Errorf(firebreak.EUNAUTHORIZED,
			"Sign in, or send an API token as \"Authorization: Bearer <token>\"."))
	}
}

// checkCSRF protects the state-changing requests of browser sessions: they
// must come from this site (Sec-Fetch-Site, Origin) and carry the session's
// CSRF token in the X-CSRF-Token header or the csrf form field. Requests
// with a bearer token carry no ambient credential and need neither.
func (s *Server) checkCSRF(w nethttp.ResponseWriter, r *nethttp.Request, p *auth.Principal) error {
	if p.Kind != auth.KindSession || isSafeMethod(r.Method) {
		return nil
	}
	if err := s.crossOrigin.Check(r); err != nil {
		return firebreak.Errorf(firebreak.EFORBIDDEN, "Cross-site requests are refused.")
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" && isForm(r) {
		r.Body = nethttp.MaxBytesReader(w, r.Body, maxFormBytes)
		got = r.PostFormValue(csrfField)
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRFToken)) != 1 {
		return firebreak.Errorf(firebreak.EFORBIDDEN, "The CSRF token is missing or wrong: reload the page and try again.")
	}
	return nil
}

func isSafeMethod(m string) bool {
	return m == nethttp.MethodGet || m == nethttp.MethodHead || m == nethttp.MethodOptions
}

func isForm(r *nethttp.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// actor returns who is acting for a request, as the timeline records it:
// the operator's name, "token:NAME" for an API token, or APIActor for the
// static token.
func (s *Server) actor(r *nethttp.Request) string {
	if p := auth.FromContext(r.Context()); p != nil {
		return p.Actor()
	}
	return APIActor
}
