package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"firebreak"
)

// newToken returns 32 random bytes as base64url: the plain text token sent to
// a subscriber, and its SHA-256 hex digest, which is all the store keeps.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Subscribe stores an unconfirmed subscription with a new token, or gives an
// unconfirmed one for the same target a new token. A confirmed target is
// ECONFLICT.
func (s *StatusStore) Subscribe(ctx context.Context, sub *firebreak.Subscription) error {
	if sub == nil {
		return firebreak.Errorf(firebreak.EINVALID, "subscription: required")
	}
	if err := sub.Validate(); err != nil {
		return invalid(err)
	}
	token, hash := newToken()
	var stored firebreak.Subscription
	err := s.write(ctx, "subscribe", func(tx *Tx) error {
		row := tx.QueryRowContext(ctx, `
			INSERT INTO status_subscriptions (kind, target, token_hash, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, target) DO UPDATE SET token_hash = excluded.token_hash,
				created_at = excluded.created_at WHERE confirmed = 0
			RETURNING `+subscriptionColumns,
			sub.Kind, sub.Target, hash, formatTime(tx.now))
		var err error
		stored, err = scanSubscription(row)
		if errors.Is(err, sql.ErrNoRows) {
			return firebreak.Errorf(firebreak.ECONFLICT, "This %s is already subscribed.", sub.Kind)
		}
		return err
	})
	if err != nil {
		return err
	}
	*sub = stored
	sub.Token = token
	return nil
}

const subscriptionColumns = `id, kind, target, created_at, confirmed`

func scanSubscription(row interface{ Scan(...any) error }) (firebreak.Subscription, error) {
	var (
		sub     firebreak.Subscription
		created string
	)
	if err := row.Scan(&sub.ID, &sub.Kind, &sub.Target, &created, &sub.Confirmed); err != nil {
		return sub, err
	}
	if err := parseInto(&sub.CreatedAt, created, nil); err != nil {
		return sub, fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	return sub, nil
}

// Confirm marks the subscription holding token confirmed. Confirming twice
// is not an error.
func (s *StatusStore) Confirm(ctx context.Context, token string) (*firebreak.Subscription, error) {
	if token == "" {
		return nil, invalid(&firebreak.FieldError{Field: "token", Reason: "required"})
	}
	var sub firebreak.Subscription
	err := s.write(ctx, "confirm subscription", func(tx *Tx) error {
		row := tx.QueryRowContext(ctx, `UPDATE status_subscriptions SET confirmed = 1
			WHERE token_hash = ? RETURNING `+subscriptionColumns, hashToken(token))
		var err error
		sub, err = scanSubscription(row)
		if errors.Is(err, sql.ErrNoRows) {
			return tokenNotFound()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

func tokenNotFound() error {
	return firebreak.Errorf(firebreak.ENOTFOUND, "No subscription holds this token.")
}

// Unsubscribe deletes the subscription holding token.
func (s *StatusStore) Unsubscribe(ctx context.Context, token string) error {
	if token == "" {
		return invalid(&firebreak.FieldError{Field: "token", Reason: "required"})
	}
	return s.write(ctx, "unsubscribe", func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM status_subscriptions WHERE token_hash = ?`, hashToken(token))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return tokenNotFound()
		}
		return nil
	})
}

// ListSubscribers returns a page of confirmed subscriptions in ID order.
func (s *StatusStore) ListSubscribers(ctx context.Context, f firebreak.SubscriberFilter) ([]firebreak.Subscription, error) {
	if err := f.Validate(); err != nil {
		return nil, invalid(err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = firebreak.DefaultPageLimit
	}
	subs := []firebreak.Subscription{}
	err := s.read(ctx, "list subscribers", func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM status_subscriptions
			WHERE confirmed = 1 AND (? = '' OR kind = ?) AND id > ? ORDER BY id LIMIT ?`,
			f.Kind, f.Kind, f.AfterID, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sub, err := scanSubscription(rows)
			if err != nil {
				return err
			}
			subs = append(subs, sub)
		}
		return rows.Err()
	})
	return subs, err
}
