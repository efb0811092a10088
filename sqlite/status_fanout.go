package sqlite

import (
	"context"

	"firebreak"
)

// UpdatesAfter returns up to limit status updates with an ID above afterID,
// oldest first: the subscriber fan-out walks them in this order after its
// cursor. IDs grow in commit order (one writer), so an update never appears
// below one already returned. limit is at most MaxPageLimit; 0 means
// DefaultPageLimit.
func (s *StatusStore) UpdatesAfter(ctx context.Context, afterID int64, limit int) ([]firebreak.StatusUpdate, error) {
	switch {
	case afterID < 0:
		return nil, invalid(&firebreak.FieldError{Field: "after_id", Reason: "must not be negative"})
	case limit < 0 || limit > firebreak.MaxPageLimit:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: "must be from 0 to 1000"})
	case limit == 0:
		limit = firebreak.DefaultPageLimit
	}
	var updates []firebreak.StatusUpdate
	err := s.read(ctx, "list status updates after a cursor", func(tx *Tx) error {
		var err error
		updates, err = queryStatus(ctx, tx, `SELECT `+statusColumns+` FROM status_updates u
			WHERE u.id > ? ORDER BY u.id LIMIT ?`, afterID, limit)
		return err
	})
	return updates, err
}
