package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"firebreak"
)

// Limits of a LoginFilter.
const (
	DefaultLoginLimit = 50
	MaxLoginLimit     = 1000
)

var _ firebreak.LoginService = (*LoginStore)(nil)

// LoginStore keeps scored high-risk logins, and account changes (decision
// 0007), in SQLite.
type LoginStore struct {
	db *DB
}

// NewLoginStore returns a LoginStore on an open DB.
func NewLoginStore(db *DB) *LoginStore { return &LoginStore{db: db} }

const insertLogin = `
	INSERT INTO logins (seq, time, account, outcome, ip, country, asn, user_agent,
		device_id, score, decision, reasons, label, recorded_at, type)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (seq) DO NOTHING`

// RecordScored stores logins in one transaction: all of them or none. A
// login whose seq is already stored is skipped, so recording again after a
// journal replay is harmless. A nil login or a zero seq is EINVALID.
func (s *LoginStore) RecordScored(ctx context.Context, logins []*firebreak.ScoredLogin) error {
	if len(logins) == 0 {
		return nil
	}
	for i, l := range logins {
		if err := validateLogin(i, l); err != nil {
			return err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record scored logins: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertLogin)
	if err != nil {
		return fmt.Errorf("record scored logins: %w", err)
	}
	defer stmt.Close()
	for _, l := range logins {
		args, err := loginArgs(l, tx)
		if err == nil {
			_, err = stmt.ExecContext(ctx, args...)
		}
		if err != nil {
			return fmt.Errorf("record scored login %d: %w", l.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record scored logins: %w", err)
	}
	return nil
}

func validateLogin(i int, l *firebreak.ScoredLogin) error {
	switch {
	case l == nil:
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d]: nil", i)
	case l.Seq == 0 || l.Seq > math.MaxInt64:
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d].seq: must be in [1, 2^63)", i)
	case l.Event.Outcome != firebreak.OutcomeSuccess && l.Event.Outcome != firebreak.OutcomeFailure:
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d].outcome: must be success or failure", i)
	case !(l.Assessment.Score >= 0 && l.Assessment.Score <= 1):
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d].score: must be in [0, 1]", i)
	case l.Assessment.Decision > firebreak.Deny:
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d].decision: unknown decision %d", i, l.Assessment.Decision)
	case l.Event.Type != "" && !slices.Contains(firebreak.EventTypes, l.Event.Type):
		return firebreak.Errorf(firebreak.EINVALID, "logins[%d].type: must be one of %s", i, strings.Join(firebreak.EventTypes, ", "))
	}
	return nil
}

func loginArgs(l *firebreak.ScoredLogin, tx *Tx) ([]any, error) {
	e, a := &l.Event, &l.Assessment
	reasons, err := json.Marshal(nonNil(a.Reasons))
	if err != nil {
		return nil, err
	}
	var label sql.NullString
	if e.Label != nil {
		b, err := json.Marshal(e.Label)
		if err != nil {
			return nil, err
		}
		label = sql.NullString{String: string(b), Valid: true}
	}
	var ip string
	if e.IP.IsValid() {
		ip = e.IP.String()
	}
	return []any{int64(l.Seq), formatTime(e.Time), e.Account, e.Outcome.String(), ip,
		e.Country, int64(e.ASN), e.UserAgent, e.DeviceID, a.Score, a.Decision.String(),
		string(reasons), label, formatTime(tx.now), changeType(e)}, nil
}

// changeType is the stored type: "" for a login, however it was spelled.
func changeType(e *firebreak.Event) string {
	if e.IsLogin() {
		return ""
	}
	return e.Type
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FindScored returns the stored logins matching filter, newest first (by
// event time, then seq). A bad filter is EINVALID naming the field.
func (s *LoginStore) FindScored(ctx context.Context, filter firebreak.LoginFilter) ([]*firebreak.ScoredLogin, error) {
	query, args, err := findQuery(filter)
	if err != nil {
		return nil, err
	}
	if s.db.read == nil {
		return nil, errors.New("find scored logins: database not open")
	}
	rows, err := s.db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find scored logins: %w", err)
	}
	defer rows.Close()
	var out []*firebreak.ScoredLogin
	for rows.Next() {
		l, err := scanLogin(rows)
		if err != nil {
			return nil, fmt.Errorf("find scored logins: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find scored logins: %w", err)
	}
	return out, nil
}

// findQuery validates filter and builds the query for it.
func findQuery(f firebreak.LoginFilter) (string, []any, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxLoginLimit:
		return "", nil, firebreak.Errorf(firebreak.EINVALID, "limit: must be between 0 and %d, got %d", MaxLoginLimit, f.Limit)
	case f.MinDecision > firebreak.Deny:
		return "", nil, firebreak.Errorf(firebreak.EINVALID, "min_decision: unknown decision %d", f.MinDecision)
	case len(f.Account) > firebreak.MaxAccountLen:
		return "", nil, firebreak.Errorf(firebreak.EINVALID, "account: longer than %d bytes", firebreak.MaxAccountLen)
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.Account != "" {
		where, args = append(where, "account = ?"), append(args, f.Account)
	}
	if f.MinDecision > firebreak.Allow {
		var in []string
		for d := f.MinDecision; d <= firebreak.Deny; d++ {
			in, args = append(in, "?"), append(args, d.String())
		}
		where = append(where, "decision IN ("+strings.Join(in, ", ")+")")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, formatTime(f.Since))
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLoginLimit
	}
	args = append(args, limit)
	return `
		SELECT seq, time, account, outcome, ip, country, asn, user_agent, device_id,
			score, decision, reasons, label, type
		FROM logins
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY time DESC, seq DESC
		LIMIT ?`, args, nil
}

func scanLogin(rows *sql.Rows) (*firebreak.ScoredLogin, error) {
	var (
		l                              firebreak.ScoredLogin
		seq, asn                       int64
		when, outcome, ip, decision, r string
		label                          sql.NullString
	)
	e := &l.Event
	if err := rows.Scan(&seq, &when, &e.Account, &outcome, &ip, &e.Country, &asn,
		&e.UserAgent, &e.DeviceID, &l.Assessment.Score, &decision, &r, &label, &e.Type); err != nil {
		return nil, err
	}
	l.Seq, e.ASN = uint64(seq), uint32(asn)
	var err error
	if e.Time, err = parseTime(when); err != nil {
		return nil, err
	}
	e.Outcome, _ = firebreak.ParseOutcome(outcome)
	if ip != "" {
		if e.IP, err = netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("login %d: stored ip: %w", seq, err)
		}
	}
	if l.Assessment.Decision, err = parseDecision(decision); err != nil {
		return nil, fmt.Errorf("login %d: %w", seq, err)
	}
	if err := json.Unmarshal([]byte(r), &l.Assessment.Reasons); err != nil {
		return nil, fmt.Errorf("login %d: stored reasons: %w", seq, err)
	}
	if label.Valid {
		e.Label = new(firebreak.Label)
		if err := json.Unmarshal([]byte(label.String), e.Label); err != nil {
			return nil, fmt.Errorf("login %d: stored label: %w", seq, err)
		}
	}
	return &l, nil
}

func parseDecision(s string) (firebreak.Decision, error) {
	for d := firebreak.Allow; d <= firebreak.Deny; d++ {
		if d.String() == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown stored decision %q", s)
}
