package firebreak

import (
	"context"
	"regexp"
	"slices"
	"time"
)

// Role is what an operator may do. Roles are ordered: each one may do
// everything the roles before it may.
type Role string

// Roles of operators and API tokens, least powerful first.
const (
	RoleViewer    Role = "viewer"    // reads incidents, plans, runs and the audit trail
	RoleResponder Role = "responder" // moves tiers and states, writes plans, runs approved plans, stops runs
	RoleApprover  Role = "approver"  // approves other people's plans
	RoleAdmin     Role = "admin"     // manages operators and API tokens
)

// Roles lists every role, least powerful first.
var Roles = []Role{RoleViewer, RoleResponder, RoleApprover, RoleAdmin}

// Rank orders roles: viewer 1 … admin 4, and 0 for an unknown role.
func (r Role) Rank() int { return slices.Index(Roles, r) + 1 }

// Allows reports whether an operator with role r may use something that
// needs role need. An unknown role allows nothing; nothing needs an unknown
// role (deny by default).
func (r Role) Allows(need Role) bool {
	return r.Rank() > 0 && need.Rank() > 0 && r.Rank() >= need.Rank()
}

// Operator is a person (or, for API tokens, an automation) who acts on
// incidents. Names are what the timeline and the audit trail record.
type Operator struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"` // argon2id, PHC string format
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	// FailedLogins and LockedUntil drive the back-off after failed logins.
	FailedLogins int       `json:"-"`
	LockedUntil  time.Time `json:"-"`
}

var operatorName = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,63}$`)

// ValidateOperatorName checks a new operator's name: 2–64 characters,
// lower-case letters, digits, ".", "_" and "-", starting with a letter, and
// not "system" (the actor of automatic steps).
func ValidateOperatorName(name string) error {
	switch {
	case !operatorName.MatchString(name):
		return &FieldError{Field: "name", Reason: "must be 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"}
	case name == SystemActor:
		return &FieldError{Field: "name", Reason: `"system" is reserved for automatic steps`}
	}
	return nil
}

// ValidateRole checks a role name.
func ValidateRole(r Role) error {
	if !slices.Contains(Roles, r) {
		return &FieldError{Field: "role", Reason: "must be one of " + names(Roles)}
	}
	return nil
}

// Session is an operator's signed-in browser session. Only a hash of the
// session id is stored; the id itself lives in the operator's cookie.
type Session struct {
	IDHash     string    // hex SHA-256 of the cookie value
	OperatorID int64     //
	CSRFToken  string    // random, sent back in forms and the X-CSRF-Token header
	CreatedAt  time.Time // the absolute timeout runs from here
	LastSeen   time.Time // the idle timeout runs from here
}

// APIToken is a bearer token for automation. Only its hash is stored; the
// token is shown once, when it is created.
type APIToken struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Hash      string    `json:"-"` // hex SHA-256 of the token
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   bool      `json:"revoked"`
}

// OperatorService stores operators, their sessions and API tokens.
//
// Error codes: EINVALID for bad input naming the field; ENOTFOUND for an
// unknown operator, session or token; ECONFLICT for a name already taken.
type OperatorService interface {
	CreateOperator(ctx context.Context, op *Operator) error
	FindOperator(ctx context.Context, id int64) (*Operator, error)
	FindOperatorByName(ctx context.Context, name string) (*Operator, error)
	ListOperators(ctx context.Context) ([]*Operator, error)
	// UpdateOperator stores Role, PasswordHash, Disabled, FailedLogins and
	// LockedUntil of op.
	UpdateOperator(ctx context.Context, op *Operator) error
	CountOperators(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns a session by the hash of its id.
	FindSession(ctx context.Context, idHash string) (*Session, error)
	TouchSession(ctx context.Context, idHash string, lastSeen time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteExpiredSessions removes sessions created before absolute or last
	// seen before idle, and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, absolute, idle time.Time) (int, error)

	CreateToken(ctx context.Context, t *APIToken) error
	// FindToken returns a token, revoked or not, by its hash.
	FindToken(ctx context.Context, hash string) (*APIToken, error)
	ListTokens(ctx context.Context) ([]*APIToken, error)
	RevokeToken(ctx context.Context, id int64) error
	TouchToken(ctx context.Context, id int64, lastUsed time.Time) error
}
