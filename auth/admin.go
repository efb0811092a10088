package auth

import (
	"context"
	"fmt"
	"time"

	"firebreak"
)

// OperatorUpdate changes an operator; nil fields are left as they are.
type OperatorUpdate struct {
	Role     *firebreak.Role `json:"role,omitempty"`
	Disabled *bool           `json:"disabled,omitempty"`
	Password *string         `json:"password,omitempty"`
}

// Validate checks that the update changes something, and each field it sets.
func (u OperatorUpdate) Validate() error {
	switch {
	case u.Role == nil && u.Disabled == nil && u.Password == nil:
		return firebreak.Errorf(firebreak.EINVALID, "Nothing to change: set role, disabled or password.")
	case u.Role != nil:
		if err := firebreak.ValidateRole(*u.Role); err != nil {
			return err
		}
	}
	if u.Password != nil {
		return ValidatePassword(*u.Password)
	}
	return nil
}

// HasOperators reports whether any operator exists.
func (s *Service) HasOperators(ctx context.Context) (bool, error) {
	n, err := s.ops.CountOperators(ctx)
	if err != nil {
		return false, fmt.Errorf("count operators: %w", err)
	}
	return n > 0, nil
}

// ListOperators returns every operator, in the store's order.
func (s *Service) ListOperators(ctx context.Context) ([]*firebreak.Operator, error) {
	return s.ops.ListOperators(ctx)
}

// CreateOperator creates an operator with a password, recorded as done by
// actor. Errors: EINVALID naming the field, ECONFLICT for a taken name,
// EUNAVAILABLE when the audit trail cannot be written.
func (s *Service) CreateOperator(ctx context.Context, actor, name string, role firebreak.Role, password string) (*firebreak.Operator, error) {
	if err := firebreak.ValidateOperatorName(name); err != nil {
		return nil, err
	}
	if err := firebreak.ValidateRole(role); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if _, err := s.ops.FindOperatorByName(ctx, name); err == nil {
		return nil, firebreak.Errorf(firebreak.ECONFLICT, "Operator %q already exists.", name)
	} else if firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		return nil, fmt.Errorf("create operator: %w", err)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("create operator: %w", err)
	}
	if err := s.auditOrRefuse(ctx, actor, firebreak.AuditOperatorCreated, "operator/"+name, map[string]any{"role": role}); err != nil {
		return nil, err
	}
	op := &firebreak.Operator{Name: name, Role: role, PasswordHash: hash}
	if err := s.ops.CreateOperator(ctx, op); err != nil {
		return nil, err
	}
	return op, nil
}

// hash hashes a password within the bound on concurrent hashes.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var hash string
	var err error
	if slotErr := s.withHashSlot(ctx, func() { hash, err = s.hasher.Hash(password) }); slotErr != nil {
		return "", slotErr
	}
	return hash, err
}

// UpdateOperator changes the role, the disabled flag or the password of
// the operator named name. A new password or re-enabling clears the
// failure count. The last enabled admin cannot be demoted or disabled
// (ECONFLICT), so that someone can always manage operators.
func (s *Service) UpdateOperator(ctx context.Context, actor, name string, upd OperatorUpdate) (*firebreak.Operator, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	op, err := s.ops.FindOperatorByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.keepAnAdmin(ctx, op, upd); err != nil {
		return nil, err
	}
	data := map[string]any{}
	if upd.Role != nil {
		data["role"], op.Role = *upd.Role, *upd.Role
	}
	if upd.Disabled != nil {
		data["disabled"], op.Disabled = *upd.Disabled, *upd.Disabled
	}
	if upd.Password != nil {
		data["password_changed"] = true
		if op.PasswordHash, err = s.hash(ctx, *upd.Password); err != nil {
			return nil, fmt.Errorf("update operator: %w", err)
		}
	}
	if upd.Password != nil || !op.Disabled {
		op.FailedLogins, op.LockedUntil = 0, time.Time{}
	}
	if err := s.auditOrRefuse(ctx, actor, firebreak.AuditOperatorUpdated, "operator/"+name, data); err != nil {
		return nil, err
	}
	if err := s.ops.UpdateOperator(ctx, op); err != nil {
		return nil, err
	}
	return op, nil
}

// keepAnAdmin refuses an update that would leave no enabled admin.
func (s *Service) keepAnAdmin(ctx context.Context, op *firebreak.Operator, upd OperatorUpdate) error {
	demoted := upd.Role != nil && *upd.Role != firebreak.RoleAdmin
	disabled := upd.Disabled != nil && *upd.Disabled
	if op.Role != firebreak.RoleAdmin || op.Disabled || (!demoted && !disabled) {
		return nil
	}
	ops, err := s.ops.ListOperators(ctx)
	if err != nil {
		return fmt.Errorf("update operator: %w", err)
	}
	for _, o := range ops {
		if o.ID != op.ID && o.Role == firebreak.RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return firebreak.Errorf(firebreak.ECONFLICT, "%q is the last enabled admin: make another admin first.", op.Name)
}

// ListTokens returns every API token, revoked ones included, without secrets.
func (s *Service) ListTokens(ctx context.Context) ([]*firebreak.APIToken, error) {
	return s.ops.ListTokens(ctx)
}

// CreateToken creates an API token with role, recorded as made by actor,
// and returns the token itself, which is never shown again.
func (s *Service) CreateToken(ctx context.Context, actor, name string, role firebreak.Role) (string, *firebreak.APIToken, error) {
	if err := firebreak.ValidateOperatorName(name); err != nil {
		return "", nil, err
	}
	if err := firebreak.ValidateRole(role); err != nil {
		return "", nil, err
	}
	tokens, err := s.ops.ListTokens(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	for _, t := range tokens {
		if t.Name == name && !t.Revoked {
			return "", nil, firebreak.Errorf(firebreak.ECONFLICT, "An API token named %q exists: revoke it first or pick another name.", name)
		}
	}
	secret, err := NewToken()
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	if err := s.auditOrRefuse(ctx, actor, firebreak.AuditTokenCreated, "token/"+name, map[string]any{"role": role}); err != nil {
		return "", nil, err
	}
	t := &firebreak.APIToken{Name: name, Role: role, Hash: HashSecret(secret), CreatedBy: actor}
	if err := s.ops.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// RevokeToken revokes the API token with id, recorded as done by actor.
// Revoking a revoked token changes nothing and succeeds.
func (s *Service) RevokeToken(ctx context.Context, actor string, id int64) error {
	tokens, err := s.ops.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	for _, t := range tokens {
		if t.ID != id {
			continue
		}
		if t.Revoked {
			return nil
		}
		data := map[string]any{"id": id, "role": t.Role}
		if err := s.auditOrRefuse(ctx, actor, firebreak.AuditTokenRevoked, "token/"+t.Name, data); err != nil {
			return err
		}
		return s.ops.RevokeToken(ctx, id)
	}
	return firebreak.Errorf(firebreak.ENOTFOUND, "API token %d not found.", id)
}
