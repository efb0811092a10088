package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
	"firebreak/storetest"
)

func TestNoticeStore(t *testing.T) {
	storetest.TestNoticeService(t, func(t *testing.T, now func() time.Time) (firebreak.NoticeService, firebreak.IncidentService) {
		db := openDB(t)
		db.Now = now
		return sqlite.NewNoticeStore(db), sqlite.NewIncidentStore(db)
	})
}

// TestNoticeDedupSurvivesRestart enqueues a notice, reopens the file and
// enqueues it again: the key is kept by the schema, not in memory.
func TestNoticeDedupSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firebreak.db")
	db := openDBAt(t, path)
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing", Summary: "Many failures.", FirstSeen: fixedNow.Add(-time.Hour), LastSeen: fixedNow}
	if err := sqlite.NewIncidentStore(db).Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	n := func() []firebreak.Notice {
		return []firebreak.Notice{{IncidentID: inc.ID, Account: "u1", Template: "inapp/compromised", Locale: "en",
			Channel: firebreak.ChannelInApp, Text: "We signed you out."}}
	}
	if added, err := sqlite.NewNoticeStore(db).Enqueue(ctx, n()); err != nil || added != 1 {
		t.Fatalf("Enqueue = %d, %v", added, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewNoticeStore(openDBAt(t, path))
	if added, err := s.Enqueue(ctx, n()); err != nil || added != 0 {
		t.Fatalf("Enqueue after restart = %d, %v; want 0 added", added, err)
	}
}

func TestInAppStore(t *testing.T) {
	feed := sqlite.NewInAppStore(openDB(t))
	ctx := context.Background()
	for _, key := range []string{"n-1", "n-2", "n-1", "n-3"} { // n-1 twice: a resend
		m := firebreak.Message{Key: key, Subject: "Check your account", Text: "We locked it.",
			Meta: map[string]string{"incident_id": "7"}}
		if err := feed.Append(ctx, "acct-7", m); err != nil {
			t.Fatalf("Append(%s): %v", key, err)
		}
	}
	first, err := feed.List(ctx, "acct-7", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].Message.Key != "n-1" || first[1].Message.Key != "n-2" ||
		first[0].Message.Meta["incident_id"] != "7" || first[0].Message.To != "acct-7" || !first[0].Created.Equal(fixedNow) {
		t.Fatalf("first page = %+v", first)
	}
	rest, err := feed.List(ctx, "acct-7", first[1].ID, 10)
	if err != nil || len(rest) != 1 || rest[0].Message.Key != "n-3" {
		t.Fatalf("second page = %+v, %v; want only n-3", rest, err)
	}
	if other, err := feed.List(ctx, "acct-8", 0, 10); err != nil || len(other) != 0 {
		t.Fatalf("another account sees %+v, %v", other, err)
	}
	err = feed.Append(ctx, "acct 7", firebreak.Message{Key: "n-4", Text: "x"})
	if firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Fatalf("Append(bad account) = %v, want EINVALID", err)
	}
	err = feed.Append(ctx, "acct-7", firebreak.Message{Key: "bad key", Text: "x"})
	if firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Fatalf("Append(bad key) = %v, want EINVALID", err)
	}
	if _, err := feed.List(ctx, "acct-7", 0, 0); firebreak.ErrorCode(err) != firebreak.EINVALID {
		t.Fatalf("List(limit 0) = %v, want EINVALID", err)
	}
}

// FuzzNoticeCursor feeds arbitrary cursors to List: the store must answer
// with a page or EINVALID, never another error.
func FuzzNoticeCursor(f *testing.F) {
	db := openDB(f)
	s := sqlite.NewNoticeStore(db)
	f.Add("")
	f.Add("eyJsIjoibm90aWNlcyIsImkiOjF9") // {"l":"notices","i":1}
	f.Add("eyJsIjoibm90aWNlcyIsImkiOi0xfQ")
	f.Fuzz(func(t *testing.T, c string) {
		_, err := s.List(context.Background(), firebreak.NoticeFilter{Cursor: c})
		if err != nil && firebreak.ErrorCode(err) != firebreak.EINVALID {
			t.Fatalf("List(cursor %q) = %v, want a page or EINVALID", c, err)
		}
	})
}

// TestNoticeCountsFollowEveryChange checks the counts the triggers keep
// against the notices themselves after enqueues, claims, sends, failures and
// retries on two incidents and three channels.
func TestNoticeCountsFollowEveryChange(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	incs, s := sqlite.NewIncidentStore(db), sqlite.NewNoticeStore(db)
	var ids []int64
	for range 2 {
		inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
			Title: "Stuffing", FirstSeen: fixedNow.Add(-time.Hour), LastSeen: fixedNow}
		if err := incs.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inc.ID)
	}
	channels := []firebreak.Channel{firebreak.ChannelInApp, firebreak.ChannelSMS, firebreak.ChannelChat}
	var batch []firebreak.Notice
	for i := range 300 {
		ch := channels[i%3]
		batch = append(batch, firebreak.Notice{IncidentID: ids[i%2], Account: fmt.Sprintf("u%d", i), Template: string(ch) + "/at_risk",
			Channel: ch, Locale: "en", Text: "We asked for a second check."})
	}
	if _, err := s.Enqueue(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, batch[:50]); err != nil { // repeats add nothing
		t.Fatal(err)
	}
	for round := range 3 {
		for _, ch := range channels {
			claimed, err := s.Claim(ctx, ch, 40, time.Minute, fixedNow.Add(time.Duration(round)*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var results []firebreak.NoticeResult
			for i, n := range claimed {
				r := firebreak.NoticeResult{ID: n.ID, State: firebreak.NoticeSent}
				switch i % 3 {
				case 1:
					r.State, r.Reason = firebreak.NoticeFailed, "refused by the provider"
				case 2:
					r.State, r.Reason, r.RetryAt = firebreak.NoticeQueued, "429", fixedNow.Add(time.Duration(round)*time.Hour+time.Minute)
				}
				results = append(results, r)
			}
			if err := s.Record(ctx, results); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[int64]firebreak.NoticeCounts{0: {}, ids[0]: {}, ids[1]: {}}
	filter := firebreak.NoticeFilter{Limit: firebreak.MaxPageLimit}
	for {
		page, err := s.List(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range page.Notices {
			for _, id := range []int64{0, n.IncidentID} {
				c := want[id][n.Channel]
				switch n.State {
				case firebreak.NoticeQueued:
					c.Queued++
				case firebreak.NoticeSent:
					c.Sent++
				case firebreak.NoticeFailed:
					c.Failed++
				}
				want[id][n.Channel] = c
			}
		}
		if page.Next == "" {
			break
		}
		filter.Cursor = page.Next
	}
	for id, w := range want {
		got, err := s.Counts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Counts(%d) = %v; the notices say %v", id, got, w)
		}
	}
	if w := want[0][firebreak.ChannelSMS]; w.Sent == 0 || w.Failed == 0 || w.Queued == 0 {
		t.Errorf("the test did not reach every state: %+v", w)
	}
}
