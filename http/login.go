package http

import (
	"errors"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"firebreak"
	"firebreak/auth"
)

// loginPageData is what login.html renders.
type loginPageData struct {
	layout
	Next  string // where to go after signing in: a local path
	Name  string // the name tried, to fill in again
	Error string
	// PlainHTTP is set when the page came over plain HTTP from a host that
	// is not loopback: the browser will not keep the Secure cookie.
	PlainHTTP bool
}

// errNoOperatorStore answers sign-in on a server without operators.
var errNoOperatorStore = firebreak.Errorf(firebreak.EUNAVAILABLE,
	"Sign-in is not available: this server runs without an operator store.")

// handleLoginPage shows the sign-in form, or goes straight on to next for
// someone already signed in.
func (s *Server) handleLoginPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if c, err := r.Cookie(SessionCookie); err == nil && s.auth != nil {
		if _, err := s.auth.Authenticate(r.Context(), c.Value); err == nil {
			nethttp.Redirect(w, r, next, nethttp.StatusSeeOther)
			return
		}
	}
	s.renderStatus(w, r, nethttp.StatusOK, "login.html", &loginPageData{Next: next, PlainHTTP: plainHTTP(r)})
}

// handleLogin checks the form's name and password, sets the session cookie
// and goes on to next. A wrong password shows the form again with 401; a
// name locked after failed logins gets 429 and Retry-After.
func (s *Server) handleLogin(w nethttp.ResponseWriter, r *nethttp.Request) {
	// A cross-site sign-in form could sign the victim in as the attacker.
	if err := s.crossOrigin.Check(r); err != nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EFORBIDDEN, "Cross-site sign-in is refused."))
		return
	}
	if s.auth == nil {
		s.pageError(w, r, errNoOperatorStore)
		return
	}
	r.Body = nethttp.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EINVALID, "The sign-in form could not be read."))
		return
	}
	name, next := r.PostForm.Get("name"), localPath(r.PostForm.Get("next"))
	cookie, _, err := s.auth.Login(r.Context(), name, r.PostForm.Get("password"), clientIP(r))
	if err != nil {
		s.loginFailed(w, r, err, &loginPageData{Next: next, Name: name, PlainHTTP: plainHTTP(r)})
		return
	}
	nethttp.SetCookie(w, s.sessionCookie(cookie))
	nethttp.Redirect(w, r, next, nethttp.StatusSeeOther)
}

// loginFailed shows the form again with the reason, or an error page for
// internal errors.
func (s *Server) loginFailed(w nethttp.ResponseWriter, r *nethttp.Request, err error, data *loginPageData) {
	code := firebreak.ErrorCode(err)
	if code != firebreak.EUNAUTHORIZED && code != firebreak.ETOOMANYREQUEST {
		s.pageError(w, r, err)
		return
	}
	var locked *auth.LockedError
	if errors.As(err, &locked) {
		w.Header().Set("Retry-After", retryAfter(locked.Wait))
	}
	if len(data.Name) > 64 {
		data.Name = ""
	}
	data.Error = firebreak.ErrorMessage(err)
	s.renderStatus(w, r, ErrorStatusCode(code), "login.html", data)
}

// handleLogout ends the session and goes back to the sign-in form.
func (s *Server) handleLogout(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.auth == nil {
		s.pageError(w, r, errNoOperatorStore)
		return
	}
	if err := s.auth.Logout(r.Context(), auth.FromContext(r.Context()), clientIP(r)); err != nil {
		s.pageError(w, r, err)
		return
	}
	nethttp.SetCookie(w, s.clearedCookie())
	nethttp.Redirect(w, r, "/login", nethttp.StatusSeeOther)
}

// sessionCookie carries a session id: sent only over HTTPS (browsers count
// http://localhost and 127.0.0.1 as secure too), never to scripts, never on
// requests from other sites, and forgotten by the browser when the session
// would end anyway.
func (s *Server) sessionCookie(value string) *nethttp.Cookie {
	return &nethttp.Cookie{
		Name: SessionCookie, Value: value, Path: "/",
		MaxAge: int(s.auth.Config().AbsoluteTimeout / time.Second),
		Secure: true, HttpOnly: true, SameSite: nethttp.SameSiteStrictMode,
	}
}

// clearedCookie tells the browser to forget the session cookie.
func (s *Server) clearedCookie() *nethttp.Cookie {
	return &nethttp.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: nethttp.SameSiteStrictMode}
}

// localPath returns next if it is a path on this server, and "/" otherwise,
// so that the sign-in form cannot be used to send people elsewhere.
func localPath(next string) string {
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, c := range next {
		// Browsers read "\" as "/" and drop tabs and newlines, so "/\evil"
		// and "/\t/evil" would leave the site.
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}

// clientIP returns the address the request came from, for the audit trail.
// Forwarding headers are not trusted: anyone can set them.
func clientIP(r *nethttp.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// plainHTTP reports whether r came over plain HTTP to a host that is not
// loopback, where browsers refuse the session cookie.
func plainHTTP(r *nethttp.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
