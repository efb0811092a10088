// Package auth signs operators in and out and tells who is acting: argon2id
// password hashes, server-side sessions with idle and absolute timeouts,
// back-off after failed logins, and hashed API tokens for automation. It
// sits on a firebreak.OperatorService (any store) and is what the HTTP
// server asks about every request.
package auth

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"firebreak"
)

// Defaults for the zero values of Config.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// DefaultMaxHashing bounds concurrent password hashes: each takes
	// Params.Memory (19 MiB by default), so a burst of logins cannot
	// exhaust memory.
	DefaultMaxHashing = 4
)

// Config configures a Service. A zero value in any field selects its default.
type Config struct {
	// IdleTimeout ends a session nobody used for this long (default 30 min).
	// Use is recorded at most once per IdleTimeout/30, so the timeout is
	// exact to within that (a minute by default).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends every session this long after sign-in, however
	// busy (default 12 h).
	AbsoluteTimeout time.Duration
	// Params are the argon2id costs of new hashes (default DefaultParams).
	// Hashes made with other parameters are upgraded at the next login.
	Params Params
	// MaxHashing bounds how many passwords are hashed at once (default 4).
	MaxHashing int
	// Auditor receives login, logout, operator and token records; nil
	// records nothing. Operator and token changes fail closed: when the
	// record cannot be written, the change is not made.
	Auditor firebreak.Auditor
	Logger  *slog.Logger     // default: discard
	Now     func() time.Time // default time.Now
}

func (c Config) withDefaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.MaxHashing <= 0 {
		c.MaxHashing = DefaultMaxHashing
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Service signs operators in and out, authenticates sessions and tokens,
// and manages operators and tokens, auditing each step.
type Service struct {
	ops     firebreak.OperatorService
	cfg     Config
	hasher  *Hasher
	hashing chan struct{} // a slot per concurrent hash
	unknown unknownNames
	// names serialises login attempts per name (striped), so that parallel
	// guesses cannot slip past the failure count.
	names [64]sync.Mutex
}

// NewService returns a service over ops.
func NewService(ops firebreak.OperatorService, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{ops: ops, cfg: cfg, hasher: NewHasher(cfg.Params), hashing: make(chan struct{}, cfg.MaxHashing)}
}

// Config returns the service's configuration, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// lockName serialises work on one name and returns the unlock function.
func (s *Service) lockName(name string) func() {
	h := fnv.New32a()
	h.Write([]byte(name))
	mu := &s.names[h.Sum32()%uint32(len(s.names))]
	mu.Lock()
	return mu.Unlock
}

// withHashSlot runs fn while holding one of the MaxHashing slots.
func (s *Service) withHashSlot(ctx context.Context, fn func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "Too many sign-ins at once: try again.")
	}
	defer func() { <-s.hashing }()
	fn()
	return nil
}

// audit appends a record when an auditor is configured.
func (s *Service) audit(ctx context.Context, actor, action, object string, data any) error {
	if s.cfg.Auditor == nil {
		return nil
	}
	rec := firebreak.AuditRecord{Time: s.cfg.Now().UTC(), Actor: actor, Action: action, Object: object}
	if data != nil {
		rec.Data = firebreak.AuditData(data)
	}
	_, err := s.cfg.Auditor.Append(ctx, rec)
	return err
}

// auditOrRefuse appends a record before a change and, when that fails,
// returns the EUNAVAILABLE error that refuses the change.
func (s *Service) auditOrRefuse(ctx context.Context, actor, action, object string, data any) error {
	if err := s.audit(ctx, actor, action, object, data); err != nil {
		s.cfg.Logger.Error("audit append failed; change refused", "action", action, "object", object, "err", err)
		return firebreak.Errorf(firebreak.EUNAVAILABLE, "The audit trail cannot be written, so the change was not made.")
	}
	return nil
}

// Kind says how a principal authenticated.
type Kind string

// Kinds of principal.
const (
	KindSession Kind = "session" // a browser session cookie
	KindToken   Kind = "token"   // an Authorization: Bearer token
)

// Principal is who is making a request.
type Principal struct {
	Name string         // the operator's or the token's name
	Role firebreak.Role // what it may do
	Kind Kind
	// OperatorID is set for sessions, TokenID for stored API tokens (a
	// token configured outside the store has neither).
	OperatorID int64
	TokenID    int64
	// Session is the session of a KindSession principal; its CSRFToken
	// must accompany every state-changing request.
	Session *firebreak.Session
}

// Actor is the name the timeline and audit trail record: the operator's
// name for a session, "token:NAME" for a stored API token, and Name as it is
// for a token configured outside the store.
func (p *Principal) Actor() string {
	if p.Kind == KindToken && p.TokenID != 0 {
		return "token:" + p.Name
	}
	return p.Name
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
