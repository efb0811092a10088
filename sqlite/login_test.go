package sqlite_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
)

var t0 = time.Date(2026, 3, 2, 8, 15, 4, 123_000_000, time.UTC)

// login returns a scored login with every stored field set.
func login(seq uint64, account string, at time.Time, d firebreak.Decision) *firebreak.ScoredLogin {
	return &firebreak.ScoredLogin{
		Seq: seq,
		Event: firebreak.Event{
			Time: at, Account: account, Outcome: firebreak.OutcomeSuccess,
			IP: netip.MustParseAddr("81.23.4.56"), Country: "NO", ASN: 2119,
			UserAgent: "Mozilla/5.0", DeviceID: "d-9f3a",
		},
		Assessment: firebreak.Assessment{
			Score: 0.25 * float64(d+1), Decision: d,
			Reasons: []string{fmt.Sprintf("reason for %d", seq)},
		},
	}
}

// change returns an account change: not scored, so decision allow, which
// lists of challenged or denied logins leave out.
func change(seq uint64, account string, at time.Time) *firebreak.ScoredLogin {
	return &firebreak.ScoredLogin{Seq: seq, Event: firebreak.Event{
		Time: at, Account: account, Outcome: firebreak.OutcomeSuccess,
		IP: netip.MustParseAddr("81.23.4.56"), Type: firebreak.TypeRecoveryChange,
	}}
}

func seqs(ls []*firebreak.ScoredLogin) []uint64 {
	out := []uint64{}
	for _, l := range ls {
		out = append(out, l.Seq)
	}
	return out
}

func record(t testing.TB, s *sqlite.LoginStore, ls ...*firebreak.ScoredLogin) {
	t.Helper()
	if err := s.RecordScored(context.Background(), ls); err != nil {
		t.Fatalf("RecordScored: %v", err)
	}
}

func TestRecordScoredRoundTrip(t *testing.T) {
	withLabel := login(1, "u1", t0, firebreak.Deny)
	withLabel.Event.Label = &firebreak.Label{ATO: true, Attack: true, Cohort: "stuffing"}
	withLabel.Event.IP = netip.MustParseAddr("2001:db8::1")
	withLabel.Event.Outcome = firebreak.OutcomeFailure
	noReasons := login(2, "u2", t0.Add(time.Nanosecond), firebreak.Allow)
	noReasons.Assessment.Reasons = nil
	tests := []struct {
		name string
		in   *firebreak.ScoredLogin
	}{
		{"every field and a label", withLabel},
		{"no label, no reasons", noReasons},
		{"minimal event", &firebreak.ScoredLogin{Seq: 3, Event: firebreak.Event{
			Time: t0, Account: "u3", Outcome: firebreak.OutcomeSuccess, IP: netip.MustParseAddr("10.0.0.1")}}},
		{"account change", &firebreak.ScoredLogin{Seq: 4, Event: firebreak.Event{
			Time: t0, Account: "u4", Outcome: firebreak.OutcomeSuccess, IP: netip.MustParseAddr("10.0.0.2"),
			Type: firebreak.TypeMFAEnroll}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sqlite.NewLoginStore(openDB(t))
			record(t, s, tt.in)
			got, err := s.FindScored(context.Background(), firebreak.LoginFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("FindScored returned %d logins, want 1", len(got))
			}
			want := *tt.in
			if want.Assessment.Reasons == nil {
				want.Assessment.Reasons = []string{}
			}
			if !reflect.DeepEqual(got[0], &want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], &want)
			}
		})
	}
}

func TestRecordScoredIdempotentAndAtomic(t *testing.T) {
	s := sqlite.NewLoginStore(openDB(t))
	ctx := context.Background()
	record(t, s, login(1, "a", t0, firebreak.Challenge), login(2, "a", t0, firebreak.Deny))
	// Recording the same seq again (a replay after a crash) changes nothing.
	again := login(2, "a", t0, firebreak.Allow)
	record(t, s, again, login(3, "a", t0, firebreak.Deny))

	bad := []struct {
		name  string
		login *firebreak.ScoredLogin
		field string
	}{
		{"nil login", nil, "logins[1]"},
		{"zero seq", login(0, "a", t0, firebreak.Deny), "seq"},
		{"unknown outcome", func() *firebreak.ScoredLogin {
			l := login(9, "a", t0, firebreak.Deny)
			l.Event.Outcome = firebreak.OutcomeUnknown
			return l
		}(), "outcome"},
		{"NaN score", func() *firebreak.ScoredLogin {
			l := login(9, "a", t0, firebreak.Deny)
			l.Assessment.Score = math.NaN()
			return l
		}(), "score"},
		{"bad decision", func() *firebreak.ScoredLogin {
			l := login(9, "a", t0, firebreak.Deny)
			l.Assessment.Decision = 7
			return l
		}(), "decision"},
		{"unknown type", func() *firebreak.ScoredLogin {
			l := login(9, "a", t0, firebreak.Deny)
			l.Event.Type = "email_change"
			return l
		}(), "type"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := s.RecordScored(ctx, []*firebreak.ScoredLogin{login(8, "a", t0, firebreak.Deny), tt.login})
			if firebreak.ErrorCode(err) != firebreak.EINVALID || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want EINVALID naming %s", err, tt.field)
			}
		})
	}
	got, err := s.FindScored(ctx, firebreak.LoginFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{3, 2, 1}; !reflect.DeepEqual(seqs(got), want) {
		t.Fatalf("stored seqs = %v, want %v (no duplicates, nothing from rejected batches)", seqs(got), want)
	}
	if got[1].Assessment.Decision != firebreak.Deny {
		t.Fatalf("seq 2 decision = %v, want the first recording (deny)", got[1].Assessment.Decision)
	}
}

func TestFindScored(t *testing.T) {
	s := sqlite.NewLoginStore(openDB(t))
	// Seq order differs from time order on purpose: results follow time.
	record(t, s,
		login(1, "alice", t0.Add(3*time.Minute), firebreak.Allow),
		login(2, "bob", t0.Add(1*time.Minute), firebreak.Challenge),
		login(3, "alice", t0.Add(2*time.Minute), firebreak.Deny),
		login(4, "bob", t0.Add(4*time.Minute), firebreak.Deny),
		login(5, "carol", t0.Add(2*time.Minute), firebreak.Challenge),
		change(6, "alice", t0.Add(5*time.Minute)),
	)
	tests := []struct {
		name   string
		filter firebreak.LoginFilter
		want   []uint64
	}{
		{"all, newest first, ties by seq", firebreak.LoginFilter{}, []uint64{6, 4, 1, 5, 3, 2}},
		{"account, with its change", firebreak.LoginFilter{Account: "alice"}, []uint64{6, 1, 3}},
		{"unknown account", firebreak.LoginFilter{Account: "nobody"}, []uint64{}},
		{"challenge or worse", firebreak.LoginFilter{MinDecision: firebreak.Challenge}, []uint64{4, 5, 3, 2}},
		{"deny only", firebreak.LoginFilter{MinDecision: firebreak.Deny}, []uint64{4, 3}},
		{"since is inclusive", firebreak.LoginFilter{Since: t0.Add(2 * time.Minute)}, []uint64{6, 4, 1, 5, 3}},
		{"since in another zone", firebreak.LoginFilter{Since: t0.Add(3 * time.Minute).In(time.FixedZone("X", 3600))}, []uint64{6, 4, 1}},
		{"limit", firebreak.LoginFilter{Limit: 2}, []uint64{6, 4}},
		{"combined", firebreak.LoginFilter{Account: "bob", MinDecision: firebreak.Deny, Limit: 1}, []uint64{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindScored(context.Background(), tt.filter)
			if err != nil {
				t.Fatalf("FindScored: %v", err)
			}
			if !reflect.DeepEqual(seqs(got), tt.want) {
				t.Fatalf("FindScored(%+v) = %v, want %v", tt.filter, seqs(got), tt.want)
			}
		})
	}
}

func TestFindScoredLimits(t *testing.T) {
	s := sqlite.NewLoginStore(openDB(t))
	var batch []*firebreak.ScoredLogin
	for i := range 1001 {
		batch = append(batch, login(uint64(i+1), "a", t0.Add(time.Duration(i)*time.Second), firebreak.Challenge))
	}
	record(t, s, batch...)
	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{"zero means 50", 0, 50},
		{"one", 1, 1},
		{"maximum", 1000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindScored(context.Background(), firebreak.LoginFilter{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("Limit %d returned %d logins, want %d", tt.limit, len(got), tt.want)
			}
			if got[0].Seq != 1001 {
				t.Fatalf("first result seq %d, want the newest (1001)", got[0].Seq)
			}
		})
	}
}

func TestFindScoredInvalidFilter(t *testing.T) {
	s := sqlite.NewLoginStore(openDB(t))
	tests := []struct {
		name   string
		filter firebreak.LoginFilter
		field  string
	}{
		{"limit over 1000", firebreak.LoginFilter{Limit: 1001}, "limit"},
		{"negative limit", firebreak.LoginFilter{Limit: -1}, "limit"},
		{"unknown decision", firebreak.LoginFilter{MinDecision: 9}, "min_decision"},
		{"account too long", firebreak.LoginFilter{Account: strings.Repeat("a", firebreak.MaxAccountLen+1)}, "account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.FindScored(context.Background(), tt.filter)
			if firebreak.ErrorCode(err) != firebreak.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if msg := firebreak.ErrorMessage(err); !strings.HasPrefix(msg, tt.field+":") {
				t.Fatalf("message %q does not name the field %s", msg, tt.field)
			}
		})
	}
}

func TestRecordedAtUsesClock(t *testing.T) {
	db := openDB(t)
	record(t, sqlite.NewLoginStore(db), login(1, "a", t0, firebreak.Deny))
	var got string
	if err := sqlite.ReadPool(db).QueryRow(`SELECT recorded_at FROM logins WHERE seq = 1`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "2026-03-02T09:00:00.000000000Z"; got != want {
		t.Fatalf("recorded_at = %s, want the injected clock %s", got, want)
	}
}

// BenchmarkRecordScored inserts batches of 100 logins, each batch one
// transaction committed with synchronous=FULL.
func BenchmarkRecordScored(b *testing.B) {
	s := sqlite.NewLoginStore(openDB(b))
	ctx := context.Background()
	batch := make([]*firebreak.ScoredLogin, 100)
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			seq++
			batch[i] = login(seq, fmt.Sprintf("u%07d", seq%100_000), t0.Add(time.Duration(seq)*time.Millisecond), firebreak.Challenge)
		}
		if err := s.RecordScored(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkFindScored reads the newest 50 logins of one account among 100,000.
func BenchmarkFindScored(b *testing.B) {
	s := sqlite.NewLoginStore(openDB(b))
	batch := make([]*firebreak.ScoredLogin, 0, 1000)
	for i := range 100_000 {
		batch = append(batch, login(uint64(i+1), fmt.Sprintf("u%04d", i%1000), t0.Add(time.Duration(i)*time.Second), firebreak.Challenge))
		if len(batch) == cap(batch) {
			record(b, s, batch...)
			batch = batch[:0]
		}
	}
	for b.Loop() {
		got, err := s.FindScored(context.Background(), firebreak.LoginFilter{Account: "u0042"})
		if err != nil || len(got) != 50 {
			b.Fatalf("got %d, err %v", len(got), err)
		}
	}
}

// TestConcurrentWritesAndReads checks that the single writer queues writers
// instead of failing with SQLITE_BUSY while readers run alongside.
func TestConcurrentWritesAndReads(t *testing.T) {
	s := sqlite.NewLoginStore(openDB(t))
	ctx := context.Background()
	const writers, batches, per = 4, 10, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				batch := make([]*firebreak.ScoredLogin, per)
				for k := range batch {
					seq := uint64(w*batches*per + i*per + k + 1)
					batch[k] = login(seq, "a", t0.Add(time.Duration(seq)), firebreak.Deny)
				}
				if err := s.RecordScored(ctx, batch); err != nil {
					t.Errorf("RecordScored: %v", err)
					return
				}
			}
		})
		wg.Go(func() {
			for range batches {
				if _, err := s.FindScored(ctx, firebreak.LoginFilter{Limit: 100}); err != nil {
					t.Errorf("FindScored: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.FindScored(ctx, firebreak.LoginFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * batches * per; len(got) != want {
		t.Fatalf("stored %d logins, want %d", len(got), want)
	}
}
