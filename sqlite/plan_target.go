package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"firebreak"
)

// validatePlanVersion checks what one version of a plan stores.
func validatePlanVersion(p *firebreak.Plan, targets []firebreak.PlanTarget) error {
	if reason := textProblem(p.Author, firebreak.MaxShortField, true, false); reason != "" {
		return invalid(&firebreak.FieldError{Field: "author", Reason: reason})
	}
	if err := p.Spec.Validate(); err != nil {
		return invalid(prefixField("spec", err))
	}
	if !isHexHash(p.Hash) {
		return invalid(&firebreak.FieldError{Field: "hash", Reason: "must be a hex SHA-256 (64 lower-case hex digits)"})
	}
	return invalid(validateTargets(&p.Spec, targets))
}

// prefixField prefixes the field of a *firebreak.FieldError with "name.".
func prefixField(name string, err error) error {
	if fe, ok := err.(*firebreak.FieldError); ok {
		field := name
		if fe.Field != "" {
			field += "." + fe.Field
		}
		return &firebreak.FieldError{Field: field, Reason: fe.Reason}
	}
	return err
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validateTargets checks resolved targets against the spec they came from:
// in Seq order from 0, each an action of its step on the right kind of
// target, and no action twice on one target (one effect per target).
func validateTargets(spec *firebreak.PlanSpec, targets []firebreak.PlanTarget) error {
	type key struct {
		action firebreak.ActionKind
		target string
	}
	seen := make(map[key]int, len(targets))
	for i := range targets {
		t := &targets[i]
		if err := validateTarget(spec, i, t); err != nil {
			return err
		}
		k := key{t.Action, t.Target}
		if j, dup := seen[k]; dup {
			return &firebreak.FieldError{Field: targetField(i, "target"),
				Reason: fmt.Sprintf("%s on %q repeats targets[%d]; a plan acts on a target once per action", t.Action, t.Target, j)}
		}
		seen[k] = i
	}
	return nil
}

func targetField(i int, name string) string { return "targets[" + strconv.Itoa(i) + "]." + name }

// validateTarget checks targets[i] on its own.
func validateTarget(spec *firebreak.PlanSpec, i int, t *firebreak.PlanTarget) error {
	if t.Seq != int64(i) {
		return &firebreak.FieldError{Field: targetField(i, "seq"),
			Reason: fmt.Sprintf("is %d, want %d: targets go in seq order, numbered from 0", t.Seq, i)}
	}
	if t.Step < 0 || t.Step >= len(spec.Steps) {
		return &firebreak.FieldError{Field: targetField(i, "step"),
			Reason: fmt.Sprintf("must name one of the plan's %d steps (from 0)", len(spec.Steps))}
	}
	if err := firebreak.ValidateAction(targetField(i, "action"), t.Action); err != nil {
		return err
	}
	if !slices.Contains(spec.Steps[t.Step].Actions, t.Action) {
		return &firebreak.FieldError{Field: targetField(i, "action"),
			Reason: fmt.Sprintf("%s is not an action of step %d", t.Action, t.Step)}
	}
	if info, _ := t.Action.Info(); t.Source != info.OnSource {
		return &firebreak.FieldError{Field: targetField(i, "source"),
			Reason: fmt.Sprintf("must be %t for %s", info.OnSource, t.Action)}
	}
	if reason := textProblem(t.Target, firebreak.MaxAccountLen, true, false); reason != "" {
		return &firebreak.FieldError{Field: targetField(i, "target"), Reason: reason}
	}
	if t.Tier != "" && !slices.Contains(firebreak.Tiers, t.Tier) {
		return &firebreak.FieldError{Field: targetField(i, "tier"), Reason: "must be empty or a tier (compromised, at_risk, targeted)"}
	}
	if math.IsNaN(t.Confidence) || t.Confidence < 0 || t.Confidence > 1 {
		return &firebreak.FieldError{Field: targetField(i, "confidence"), Reason: "must be from 0 to 1"}
	}
	return nil
}

// textProblem says what is wrong with a text field, or "" if nothing:
// empty when required, longer than max bytes, invalid UTF-8, or holding
// control characters (line breaks and tabs are allowed in multiline text).
func textProblem(v string, max int, required, multiline bool) string {
	switch {
	case v == "" && required:
		return "required"
	case len(v) > max:
		return "longer than " + strconv.Itoa(max) + " bytes"
	case !utf8.ValidString(v):
		return "invalid UTF-8"
	}
	for _, r := range v {
		if (r < 0x20 || r == 0x7f) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return "control character not allowed"
		}
	}
	return ""
}

// targetBatch is how many targets one INSERT statement writes: 9 bound
// values each, well below SQLite's limit of 32766 per statement.
const targetBatch = 256

// insertPlanTargets writes a version's targets with multi-row INSERTs, a
// prepared one for full batches and one more for the rest.
func insertPlanTargets(ctx context.Context, tx *Tx, id int64, version int, base int64, targets []firebreak.PlanTarget) error {
	var full *sql.Stmt
	if len(targets) >= targetBatch {
		stmt, err := tx.PrepareContext(ctx, targetInsert(targetBatch))
		if err != nil {
			return err
		}
		defer stmt.Close()
		full = stmt
	}
	args := make([]any, 0, 2+9*targetBatch)
	for len(targets) > 0 {
		n := min(len(targets), targetBatch)
		args = append(args[:0], id, version)
		for _, t := range targets[:n] {
			args = append(args, base+t.Seq, t.Seq, t.Step, string(t.Action), t.Target, t.Source, string(t.Tier), t.Confidence, t.LikelyClean)
		}
		var err error
		if n == targetBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, targetInsert(n), args...)
		}
		if err != nil {
			return err
		}
		targets = targets[n:]
	}
	return nil
}

// targetInsert returns an INSERT of n targets; ?1 and ?2 are the plan id
// and version.
func targetInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO plan_targets (plan_id, version, id, seq, step, action, target, source, tier, confidence, likely_clean) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?1,?2,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// PlanTargets returns up to limit targets of version v of a plan (0: the
// latest) with Seq above afterSeq, in Seq order. Seqs start at 0, so the
// first page is afterSeq -1; the next starts after the last Seq returned.
// limit 0 means firebreak.DefaultPageLimit; at most firebreak.MaxPageLimit.
func (s *ContainmentStore) PlanTargets(ctx context.Context, id int64, v int, afterSeq int64, limit int) ([]firebreak.PlanTarget, error) {
	switch {
	case v < 0:
		return nil, invalid(&firebreak.FieldError{Field: "version", Reason: "must be 0 (the latest) or a version number"})
	case afterSeq < -1:
		return nil, invalid(&firebreak.FieldError{Field: "after_seq", Reason: "must be -1 (the first page) or a seq"})
	case limit < 0 || limit > firebreak.MaxPageLimit:
		return nil, invalid(&firebreak.FieldError{Field: "limit", Reason: "must be from 0 to " + strconv.Itoa(firebreak.MaxPageLimit)})
	}
	targets := []firebreak.PlanTarget{}
	err := s.read(ctx, "plan targets", func(tx *Tx) error {
		p, err := getPlan(ctx, tx, id, v)
		if err != nil {
			return err
		}
		base, n, err := targetRange(ctx, tx, id, p.Version)
		if err != nil || afterSeq+1 >= n {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT seq, step, action, target, source, tier, confidence, likely_clean FROM plan_targets
			WHERE id > ? AND id < ? ORDER BY id LIMIT ?`, base+afterSeq, base+n, pageLimit(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t firebreak.PlanTarget
			if err := rows.Scan(&t.Seq, &t.Step, &t.Action, &t.Target, &t.Source, &t.Tier, &t.Confidence, &t.LikelyClean); err != nil {
				return err
			}
			targets = append(targets, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return targets, nil
}

// targetRange returns the first id of a plan version's targets and how many
// it has.
func targetRange(ctx context.Context, q querier, id int64, version int) (base, n int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT target_base, targets FROM plan_versions WHERE plan_id = ? AND version = ?`,
		id, version).Scan(&base, &n)
	return base, n, err
}
