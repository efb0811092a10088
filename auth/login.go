package auth

import (
	"context"
	"fmt"
	"time"

	"firebreak"
)

// Errors of Login and Authenticate. They say as little as they can: never
// whether a name exists.
var (
	errBadLogin      = firebreak.Errorf(firebreak.EUNAUTHORIZED, "Wrong name or password.")
	errDisabled      = firebreak.Errorf(firebreak.EUNAUTHORIZED, "This operator is disabled: ask an admin to enable it.")
	errSignIn        = firebreak.Errorf(firebreak.EUNAUTHORIZED, "Sign in first.")
	errSessionEnded  = firebreak.Errorf(firebreak.EUNAUTHORIZED, "Your session has ended: sign in again.")
	errBadToken      = firebreak.Errorf(firebreak.EUNAUTHORIZED, "The API token is not valid.")
	errRevokedToken  = firebreak.Errorf(firebreak.EUNAUTHORIZED, "The API token has been revoked.")
	errLogoutSession = firebreak.Errorf(firebreak.EINVALID, "Only a browser session can sign out; revoke an API token instead.")
)

// LockedError is Login's error while a name is locked after failed logins.
// It unwraps to an ETOOMANYREQUEST *firebreak.Error.
type LockedError struct {
	Wait time.Duration // until the lock ends
	err  *firebreak.Error
}

func newLockedError(wait time.Duration) *LockedError {
	secs := int64((wait + time.Second - 1) / time.Second)
	return &LockedError{Wait: wait, err: firebreak.Errorf(firebreak.ETOOMANYREQUEST,
		"Too many failed sign-ins: try again in %d seconds.", max(secs, 1))}
}

func (e *LockedError) Error() string { return e.err.Error() }
func (e *LockedError) Unwrap() error { return e.err }

// touchEvery is how often a session's or token's last use is written: a
// write per request would cost more than the timeout's precision is worth.
func (s *Service) touchEvery() time.Duration { return s.cfg.IdleTimeout / 30 }

// Login checks name and password and starts a session. It returns the
// cookie value, which is shown to no one else and stored only hashed, and
// the signed-in principal. While a name is locked after failed logins it
// returns a *LockedError without looking at the password; an unknown name
// costs the same time as a known one and locks the same way.
func (s *Service) Login(ctx context.Context, name, password, ip string) (string, *Principal, error) {
	defer s.lockName(name)()
	now := s.cfg.Now()
	op, err := s.findForLogin(ctx, name)
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	until := s.unknown.lockedUntil(name)
	if op != nil {
		until = op.LockedUntil
	}
	if now.Before(until) {
		s.auditLoginFailed(ctx, name, ip, "locked")
		return "", nil, newLockedError(until.Sub(now))
	}
	var ok bool
	err = s.withHashSlot(ctx, func() {
		if op == nil {
			s.hasher.VerifyDummy(password)
			return
		}
		ok = s.hasher.Verify(password, op.PasswordHash)
	})
	switch {
	case err != nil:
		return "", nil, err
	case !ok:
		return "", nil, s.failLogin(ctx, op, name, ip, now)
	case op.Disabled:
		s.auditLoginFailed(ctx, name, ip, "disabled")
		return "", nil, errDisabled
	}
	if err := s.afterGoodPassword(ctx, op, password); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	return s.startSession(ctx, op, ip, now)
}

// findForLogin returns the operator named name, or nil when there is none
// (a name that could never be valid is not looked up).
func (s *Service) findForLogin(ctx context.Context, name string) (*firebreak.Operator, error) {
	if firebreak.ValidateOperatorName(name) != nil {
		return nil, nil
	}
	op, err := s.ops.FindOperatorByName(ctx, name)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return nil, nil
	}
	return op, err
}

// failLogin counts a failure, locks the name once it has too many, and
// returns the error to show.
func (s *Service) failLogin(ctx context.Context, op *firebreak.Operator, name, ip string, now time.Time) error {
	reason := "unknown operator"
	if op == nil {
		if firebreak.ValidateOperatorName(name) == nil {
			s.unknown.fail(name, now)
		}
	} else {
		reason = "wrong password"
		op.FailedLogins++
		if d := Lockout(op.FailedLogins); d > 0 {
			op.LockedUntil = now.Add(d)
		}
		if err := s.ops.UpdateOperator(ctx, op); err != nil {
			return fmt.Errorf("login: count failure: %w", err)
		}
	}
	s.auditLoginFailed(ctx, name, ip, reason)
	return errBadLogin
}

// afterGoodPassword clears the failure count and upgrades a hash made with
// other parameters than the current ones.
func (s *Service) afterGoodPassword(ctx context.Context, op *firebreak.Operator, password string) error {
	changed := op.FailedLogins != 0 || !op.LockedUntil.IsZero()
	op.FailedLogins, op.LockedUntil = 0, time.Time{}
	if s.hasher.NeedsRehash(op.PasswordHash) {
		var hash string
		var err error
		if slotErr := s.withHashSlot(ctx, func() { hash, err = s.hasher.Hash(password) }); slotErr != nil {
			return slotErr
		}
		if err != nil {
			return err
		}
		op.PasswordHash, changed = hash, true
	}
	if !changed {
		return nil
	}
	return s.ops.UpdateOperator(ctx, op)
}

// startSession audits the login (failing closed) and stores a new session.
func (s *Service) startSession(ctx context.Context, op *firebreak.Operator, ip string, now time.Time) (string, *Principal, error) {
	cookie, err := RandomString()
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	csrf, err := RandomString()
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if err := s.auditOrRefuse(ctx, op.Name, firebreak.AuditOperatorLogin, "operator/"+op.Name, map[string]string{"ip": ip}); err != nil {
		return "", nil, err
	}
	sess := &firebreak.Session{IDHash: HashSecret(cookie), OperatorID: op.ID, CSRFToken: csrf, CreatedAt: now, LastSeen: now}
	if err := s.ops.CreateSession(ctx, sess); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	s.sweep(ctx, now)
	return cookie, &Principal{Name: op.Name, Role: op.Role, Kind: KindSession, OperatorID: op.ID, Session: sess}, nil
}

// sweep deletes expired sessions. Authenticate refuses them anyway, so a
// failure here is only logged.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	n, err := s.ops.DeleteExpiredSessions(ctx, now.Add(-s.cfg.AbsoluteTimeout), now.Add(-s.cfg.IdleTimeout))
	if err != nil {
		s.cfg.Logger.Warn("delete expired sessions", "err", err)
	} else if n > 0 {
		s.cfg.Logger.Debug("deleted expired sessions", "count", n)
	}
}

func (s *Service) auditLoginFailed(ctx context.Context, name, ip, reason string) {
	object := "operator/" + name
	if firebreak.ValidateOperatorName(name) != nil {
		object = "operator/?" // never copy junk input into the trail
	}
	err := s.audit(ctx, "anonymous", firebreak.AuditOperatorLoginFailed, object, map[string]string{"ip": ip, "reason": reason})
	if err != nil {
		s.cfg.Logger.Error("audit failed login", "err", err)
	}
}

// Authenticate returns the principal of a session cookie, and records its
// use. A session past its idle or absolute timeout, or whose operator is
// gone or disabled, is deleted and refused with EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, cookie string) (*Principal, error) {
	if cookie == "" {
		return nil, errSignIn
	}
	hash := HashSecret(cookie)
	sess, err := s.ops.FindSession(ctx, hash)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	now := s.cfg.Now()
	if s.expired(sess, now) {
		return nil, s.endSession(ctx, hash)
	}
	op, err := s.ops.FindOperator(ctx, sess.OperatorID)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND || (err == nil && op.Disabled) {
		return nil, s.endSession(ctx, hash)
	} else if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	if now.Sub(sess.LastSeen) >= s.touchEvery() {
		if err := s.ops.TouchSession(ctx, hash, now); err != nil {
			return nil, fmt.Errorf("authenticate session: %w", err)
		}
		sess.LastSeen = now
	}
	return &Principal{Name: op.Name, Role: op.Role, Kind: KindSession, OperatorID: op.ID, Session: sess}, nil
}

// expired reports whether sess is past its absolute or idle timeout at now.
func (s *Service) expired(sess *firebreak.Session, now time.Time) bool {
	return !now.Before(sess.CreatedAt.Add(s.cfg.AbsoluteTimeout)) || !now.Before(sess.LastSeen.Add(s.cfg.IdleTimeout))
}

// endSession deletes a session that may no longer be used and returns the
// error that refuses it.
func (s *Service) endSession(ctx context.Context, hash string) error {
	if err := s.ops.DeleteSession(ctx, hash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return errSessionEnded
}

// AuthenticateToken returns the principal of an API token, and records its
// use. An unknown, malformed or revoked token is refused with EUNAUTHORIZED.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Principal, error) {
	if !IsToken(token) {
		return nil, errBadToken
	}
	t, err := s.ops.FindToken(ctx, HashSecret(token))
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return nil, errBadToken
	} else if err != nil {
		return nil, fmt.Errorf("authenticate token: %w", err)
	}
	if t.Revoked {
		return nil, errRevokedToken
	}
	if now := s.cfg.Now(); now.Sub(t.LastUsed) >= s.touchEvery() {
		if err := s.ops.TouchToken(ctx, t.ID, now); err != nil {
			return nil, fmt.Errorf("authenticate token: %w", err)
		}
	}
	return &Principal{Name: t.Name, Role: t.Role, Kind: KindToken, TokenID: t.ID}, nil
}

// Logout ends p's session. A failure to audit it is logged: signing out is
// always safe to allow.
func (s *Service) Logout(ctx context.Context, p *Principal, ip string) error {
	if p == nil || p.Kind != KindSession || p.Session == nil {
		return errLogoutSession
	}
	if err := s.ops.DeleteSession(ctx, p.Session.IDHash); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.audit(ctx, p.Name, firebreak.AuditOperatorLogout, "operator/"+p.Name, map[string]string{"ip": ip}); err != nil {
		s.cfg.Logger.Error("audit logout", "err", err)
	}
	return nil
}
