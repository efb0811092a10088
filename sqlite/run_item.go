package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// ClaimItems marks up to limit pending items of a run with Seq below
// beforeSeq as sent at time at (zero: now), adds 1 to their attempts, clears
// their reason and returns them in Seq order, lowest first. The change is
// committed, and so durable, before ClaimItems returns: a crash after the
// provider call finds the item sent, never pending.
//
// Only a running run gives out items: ECONFLICT for a paused, halted,
// killed or finished one, so that a pause or the kill switch stops dispatch
// at the store even if the executor has not noticed yet. limit is 1 to
// firebreak.MaxBatch.
func (s *ContainmentStore) ClaimItems(ctx context.Context, runID, beforeSeq int64, limit int, at time.Time) ([]firebreak.RunItem, error) {
	switch {
	case beforeSeq <= 0:
		return nil, invalid(&firebreak.FieldError{Field: "before_seq", Reason: "must be above 0"})
	case limit <= 0 || limit > firebreak.MaxBatch:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: "must be from 1 to " + strconv.Itoa(firebreak.MaxBatch)})
	}
	var items []firebreak.RunItem
	err := s.write(ctx, "claim items", func(tx *Tx) error {
		sp, err := getSpan(ctx, tx, runID)
		if err != nil {
			return err
		}
		if sp.state != firebreak.RunRunning {
			return firebreak.Errorf(firebreak.ECONFLICT, "Run %d is %s; items are claimed only while it runs.", runID, sp.state)
		}
		if at.IsZero() {
			at = tx.now
		}
		below := sp.end // every item of the run
		if beforeSeq < sp.end-sp.base {
			below = sp.base + beforeSeq
		}
		var from int64
		items, from, err = claim(ctx, tx, sp.pendingFrom, below, limit, at)
		if err != nil || from == sp.pendingFrom {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET pending = pending - ?1, sent = sent + ?1, pending_from = ?2
			WHERE id = ?3`, len(items), from, runID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// claim marks and returns the pending items with ids from from up to
// below, at most limit, and returns where the next claim may start (no
// pending item below it). Since no pending item lies below from, the scan
// starts right at the next pending item: a claim costs the same at the
// start and the end of a million-item run, and touches no index. The items
// it reads are every pending item from the first id to the last, so one
// UPDATE over that id range claims them.
func claim(ctx context.Context, tx *Tx, from, below int64, limit int, at time.Time) ([]firebreak.RunItem, int64, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT id, run_id, seq, action, target, source, attempts FROM run_items
		WHERE id >= ? AND id < ? AND state = 'pending' ORDER BY id LIMIT ?`, from, below, limit)
	if err != nil {
		return nil, from, err
	}
	defer rows.Close()
	items := make([]firebreak.RunItem, 0, limit)
	var first, last int64
	for rows.Next() {
		it := firebreak.RunItem{State: firebreak.ItemSent, SentAt: at.UTC(), UpdatedAt: tx.now}
		if err := rows.Scan(&last, &it.RunID, &it.Seq, &it.Action, &it.Target, &it.Source, &it.Attempts); err != nil {
			return nil, from, err
		}
		if len(items) == 0 {
			first = last
		}
		it.Attempts++
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, from, err
	}
	if len(items) < limit {
		// Nothing is pending between from and below any more.
		if below > from {
			from = below
		}
	} else {
		from = last + 1
	}
	if len(items) == 0 {
		return items, from, nil
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE run_items SET state = 'sent', sent_at = ?, attempts = attempts + 1, reason = '', updated_at = ?
		WHERE id >= ? AND id <= ? AND state = 'pending'`, formatTime(at), formatTime(tx.now), first, last)
	if err != nil {
		return nil, from, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, from, err
	} else if n != int64(len(items)) {
		return nil, from, fmt.Errorf("claimed %d items, read %d", n, len(items))
	}
	return items, from, nil
}

// runSpan is what the item methods need of a run: its state and the range
// of its item ids, [base, end).
type runSpan struct {
	state       firebreak.RunState
	base, end   int64
	pendingFrom int64 // no pending item has a lower id
}

// getSpan loads a run's span; ENOTFOUND for an unknown run.
func getSpan(ctx context.Context, q querier, runID int64) (runSpan, error) {
	var sp runSpan
	err := q.QueryRowContext(ctx, `SELECT state, item_base, item_end, pending_from FROM runs WHERE id = ?`,
		runID).Scan(&sp.state, &sp.base, &sp.end, &sp.pendingFrom)
	if errors.Is(err, sql.ErrNoRows) {
		return sp, firebreak.Errorf(firebreak.ENOTFOUND, "Run %d not found.", runID)
	}
	return sp, err
}

// itemRange returns the range of a run's item ids, [from, to).
func itemRange(ctx context.Context, q querier, runID int64) (from, to int64, err error) {
	sp, err := getSpan(ctx, q, runID)
	return sp.base, sp.end, err
}

// id returns the item id of seq, or false if the run has no such seq.
func (sp runSpan) id(seq int64) (int64, bool) {
	if seq < 0 || seq >= sp.end-sp.base {
		return 0, false
	}
	return sp.base + seq, true
}

// RecordItems stores the outcomes of sent items, all or none, durable on
// return. Each result moves one sent item to confirmed, failed or skipped
// (failed and skipped need a reason), or back to pending (not dispatched
// after all; its sent time is cleared). Reason is stored for every state.
// Attempts, if above the stored count, replaces it (the executor may count
// retries within one claim).
//
// A result for an item that is not sent (never claimed, already recorded,
// or unknown) is EINVALID naming results[i], and nothing is stored.
// Outcomes are recorded whatever the run's state, so that the items in
// flight when a run is paused or killed still get theirs.
func (s *ContainmentStore) RecordItems(ctx context.Context, runID int64, results []firebreak.ItemResult) error {
	if err := validateResults(results); err != nil {
		return err
	}
	return s.write(ctx, "record items", func(tx *Tx) error {
		sp, err := getSpan(ctx, tx, runID)
		if err != nil || len(results) == 0 {
			return err
		}
		ids, err := sentItems(ctx, tx, sp, runID, results)
		if err != nil {
			return err
		}
		// One UPDATE per distinct outcome (usually one: all confirmed)
		// rather than one per item: statements, not rows, cost the most.
		type outcome struct {
			state    firebreak.ItemState
			reason   string
			attempts int
		}
		groups, order := map[outcome][]any{}, []outcome{}
		from := sp.pendingFrom
		var delta firebreak.ItemCounts
		for i, r := range results {
			o := outcome{r.State, r.Reason, r.Attempts}
			if _, ok := groups[o]; !ok {
				order = append(order, o)
			}
			groups[o] = append(groups[o], ids[i])
			addCount(&delta, r.State, 1)
			if r.State == firebreak.ItemPending {
				from = min(from, ids[i].(int64))
			}
		}
		now := formatTime(tx.now)
		for _, o := range order {
			args := append([]any{string(o.state), o.reason, o.attempts, now}, groups[o]...)
			if _, err := tx.ExecContext(ctx, `
				UPDATE run_items SET state = ?1, reason = ?2, attempts = max(attempts, ?3), updated_at = ?4,
					sent_at = CASE WHEN ?1 = 'pending' THEN NULL ELSE sent_at END
				WHERE id IN (`+placeholders(len(groups[o]))+`)`, args...); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE runs SET sent = sent - ?, pending = pending + ?, confirmed = confirmed + ?,
				failed = failed + ?, skipped = skipped + ?, pending_from = ? WHERE id = ?`,
			len(results), delta.Pending, delta.Confirmed, delta.Failed, delta.Skipped, from, runID)
		return err
	})
}

// sentItems returns the item ids of results, in order, after checking in
// one query that every one is sent; if not, it names the first that is not.
func sentItems(ctx context.Context, tx *Tx, sp runSpan, runID int64, results []firebreak.ItemResult) ([]any, error) {
	ids := make([]any, len(results))
	for i, r := range results {
		id, ok := sp.id(r.Seq)
		if !ok {
			return nil, notSent(ctx, tx, runID, i, r.Seq, 0)
		}
		ids[i] = id
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM run_items WHERE id IN (`+placeholders(len(ids))+`) AND state = 'sent'`,
		ids...).Scan(&n); err != nil {
		return nil, err
	}
	if n == len(ids) {
		return ids, nil
	}
	for i, r := range results {
		var state firebreak.ItemState
		if err := tx.QueryRowContext(ctx, `SELECT state FROM run_items WHERE id = ?`, ids[i]).Scan(&state); err != nil {
			return nil, err
		}
		if state != firebreak.ItemSent {
			return nil, notSent(ctx, tx, runID, i, r.Seq, ids[i].(int64))
		}
	}
	return nil, fmt.Errorf("%d of %d items are sent, but each one is", n, len(ids))
}

// placeholders returns n comma-separated "?".
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// notSent explains why results[i] matched no sent item (id 0: out of range).
func notSent(ctx context.Context, tx *Tx, runID int64, i int, seq, id int64) error {
	field := "results[" + strconv.Itoa(i) + "]"
	var state firebreak.ItemState
	err := tx.QueryRowContext(ctx, `SELECT state FROM run_items WHERE id = ? AND run_id = ?`, id, runID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid(&firebreak.FieldError{Field: field, Reason: fmt.Sprintf("run %d has no item %d", runID, seq)})
	} else if err != nil {
		return err
	}
	return invalid(&firebreak.FieldError{Field: field,
		Reason: fmt.Sprintf("item %d is %s, not sent; only a claimed item takes an outcome", seq, state)})
}

// validateResults checks each result on its own and that no item appears
// twice.
func validateResults(results []firebreak.ItemResult) error {
	if len(results) > firebreak.MaxBatch {
		return invalid(&firebreak.FieldError{Field: "results", Reason: "more than " + strconv.Itoa(firebreak.MaxBatch) + " results"})
	}
	seen := make(map[int64]int, len(results))
	for i, r := range results {
		field := func(name string) string { return "results[" + strconv.Itoa(i) + "]." + name }
		var fe *firebreak.FieldError
		switch reason := textProblem(r.Reason, firebreak.MaxTextLen, false, true); {
		case r.State != firebreak.ItemConfirmed && r.State != firebreak.ItemFailed &&
			r.State != firebreak.ItemSkipped && r.State != firebreak.ItemPending:
			fe = &firebreak.FieldError{Field: field("state"), Reason: "must be confirmed, failed, skipped or pending"}
		case reason != "":
			fe = &firebreak.FieldError{Field: field("reason"), Reason: reason}
		case r.Reason == "" && (r.State == firebreak.ItemFailed || r.State == firebreak.ItemSkipped):
			fe = &firebreak.FieldError{Field: field("reason"), Reason: "required for a " + string(r.State) + " item"}
		case r.Attempts < 0:
			fe = &firebreak.FieldError{Field: field("attempts"), Reason: "must not be negative"}
		}
		if j, dup := seen[r.Seq]; dup && fe == nil {
			fe = &firebreak.FieldError{Field: field("seq"), Reason: fmt.Sprintf("item %d repeats results[%d]", r.Seq, j)}
		}
		if fe != nil {
			return invalid(fe)
		}
		seen[r.Seq] = i
	}
	return nil
}

// addCount adds n to the count of state s.
func addCount(c *firebreak.ItemCounts, s firebreak.ItemState, n int64) {
	switch s {
	case firebreak.ItemPending:
		c.Pending += n
	case firebreak.ItemSent:
		c.Sent += n
	case firebreak.ItemConfirmed:
		c.Confirmed += n
	case firebreak.ItemFailed:
		c.Failed += n
	case firebreak.ItemSkipped:
		c.Skipped += n
	}
}
