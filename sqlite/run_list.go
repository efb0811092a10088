package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"firebreak"
)

// itemCursor is a position in one run's item list: after the item with Seq,
// for one state filter. It travels as base64url JSON, which callers treat as
// opaque; a cursor of another run or filter is refused.
type itemCursor struct {
	List  string              `json:"l"` // always itemList
	Run   int64               `json:"r"`
	State firebreak.ItemState `json:"s,omitempty"`
	Seq   int64               `json:"q"`
}

const itemList = "items"

func (c itemCursor) encode() string {
	b, _ := json.Marshal(c) // strings and integers always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeItemCursor parses s as a cursor of run runID's items under filter
// state; "" is the start of the list (after seq -1).
func decodeItemCursor(s string, runID int64, state firebreak.ItemState) (itemCursor, error) {
	c := itemCursor{List: itemList, Run: runID, State: state, Seq: -1}
	if s == "" {
		return c, nil
	}
	var got itemCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err == nil && (got.List != itemList || got.Run != runID || got.State != state || got.Seq < 0) {
		err = errors.New("bad position")
	}
	if err != nil {
		return c, invalid(&firebreak.FieldError{Field: "cursor",
			Reason: "not a cursor from this list; pass the next value of the previous page"})
	}
	return got, nil
}

func validateItemFilter(f firebreak.ItemFilter) error {
	var fe *firebreak.FieldError
	switch {
	case f.State != "" && !slices.Contains(firebreak.ItemStates, f.State):
		fe = &firebreak.FieldError{Field: "state", Reason: "must be one of pending, sent, confirmed, failed, skipped"}
	case f.Limit < 0 || f.Limit > firebreak.MaxPageLimit:
		fe = &firebreak.FieldError{Field: "limit", Reason: "must be from 0 to " + strconv.Itoa(firebreak.MaxPageLimit)}
	case len(f.Cursor) > 1024:
		fe = &firebreak.FieldError{Field: "cursor", Reason: "longer than 1024 bytes"}
	}
	if fe != nil {
		return invalid(fe)
	}
	return nil
}

// ListItems returns a page of a run's items in Seq order, only those in
// filter.State if it is set. Limit 0 means firebreak.DefaultPageLimit; at
// most firebreak.MaxPageLimit. Next is empty on the last page. ENOTFOUND
// for an unknown run.
func (s *ContainmentStore) ListItems(ctx context.Context, runID int64, f firebreak.ItemFilter) (*firebreak.ItemPage, error) {
	if err := validateItemFilter(f); err != nil {
		return nil, err
	}
	after, err := decodeItemCursor(f.Cursor, runID, f.State)
	if err != nil {
		return nil, err
	}
	limit := pageLimit(f.Limit)
	page := &firebreak.ItemPage{Items: []firebreak.RunItem{}}
	err = s.read(ctx, "list items", func(tx *Tx) error {
		sp, err := getSpan(ctx, tx, runID)
		if err != nil {
			return err
		}
		// One row more than the page shows whether there is a next page.
		start := sp.base + after.Seq // the id to start after
		if f.State == firebreak.ItemPending {
			start = max(start, sp.pendingFrom-1)
		}
		rows, err := tx.QueryContext(ctx, itemsQuery(f.State), runID, start, sp.end, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanItem(rows, runID)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = itemCursor{List: itemList, Run: runID, State: f.State, Seq: page.Items[limit-1].Seq}.encode()
	}
	return page, nil
}

// itemsQuery returns the query of one page of items in state (all if
// ""), with parameters run id, the id to start after, the run's item_end
// and the limit. Failed and skipped items are read through their partial
// index (the state is written into the query, not bound, so that SQLite
// can pick it); other pages walk the run's id range in the table.
func itemsQuery(state firebreak.ItemState) string {
	where := `id > ?2 AND id < ?3`
	switch state {
	case firebreak.ItemFailed, firebreak.ItemSkipped:
		where = `run_id = ?1 AND state = '` + string(state) + `' AND id > ?2`
	case firebreak.ItemPending, firebreak.ItemSent, firebreak.ItemConfirmed:
		where += ` AND state = '` + string(state) + `'`
	}
	return `SELECT ` + itemColumns + ` FROM run_items WHERE ` + where + ` ORDER BY id LIMIT ?4`
}

const itemColumns = `seq, action, target, source, state, reason, attempts, sent_at, updated_at`

func scanItem(row interface{ Scan(...any) error }, runID int64) (firebreak.RunItem, error) {
	it := firebreak.RunItem{RunID: runID}
	var sent sql.NullString
	var updated string
	if err := row.Scan(&it.Seq, &it.Action, &it.Target, &it.Source, &it.State, &it.Reason, &it.Attempts, &sent, &updated); err != nil {
		return it, err
	}
	err := parseInto(&it.UpdatedAt, updated, nil)
	if sent.Valid {
		err = parseInto(&it.SentAt, sent.String, err)
	}
	return it, err
}
