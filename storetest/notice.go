package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"firebreak"
)

// NoticeOpener returns a new, empty notice store, closed when t ends, and
// the incident store on the same database; both read the time from now.
type NoticeOpener func(t *testing.T, now func() time.Time) (firebreak.NoticeService, firebreak.IncidentService)

// TestNoticeService runs the NoticeService conformance suite against the
// stores open returns; each subtest opens its own.
//
// What it pins down: one notice per (incident, account, template) however
// often and however concurrently it is enqueued; claims lease notices of one
// channel until the lease expires; outcomes are recorded once (a second
// final outcome is ECONFLICT); a notice put back waits for its RetryAt;
// lists page by ID with filters; counts are by channel and state.
func TestNoticeService(t *testing.T, open NoticeOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open NoticeOpener)
	}{
		{"Enqueue", testNoticeEnqueue},
		{"EnqueueInvalid", testNoticeEnqueueInvalid},
		{"EnqueueConcurrent", testNoticeEnqueueConcurrent},
		{"ClaimLease", testNoticeClaimLease},
		{"Record", testNoticeRecord},
		{"RecordInvalid", testNoticeRecordInvalid},
		{"ListAndCounts", testNoticeListAndCounts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func openNotices(t *testing.T, open NoticeOpener) (firebreak.NoticeService, int64, *clock) {
	c := &clock{now: t0.Add(time.Hour)}
	s, inc := open(t, c.Now)
	return s, create(t, inc).ID, c
}

// notice returns a valid notice for account on ch.
func notice(incident int64, account string, ch firebreak.Channel) firebreak.Notice {
	n := firebreak.Notice{IncidentID: incident, Account: account, Template: string(ch) + "/compromised",
		Channel: ch, Locale: "en", Text: "We signed you out of every session. Next update by 12:00 UTC."}
	if ch == firebreak.ChannelEmail {
		n.Subject, n.HTML = "Your account was signed out", "<p>We signed you out.</p>"
	}
	return n
}

func enqueue(t *testing.T, s firebreak.NoticeService, notices ...firebreak.Notice) []firebreak.Notice {
	t.Helper()
	if _, err := s.Enqueue(context.Background(), notices); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return notices
}

func noticeIDs(notices []firebreak.Notice) []int64 {
	out := []int64{}
	for _, n := range notices {
		out = append(out, n.ID)
	}
	return out
}

func testNoticeEnqueue(t *testing.T, open NoticeOpener) {
	s, inc, c := openNotices(t, open)
	ctx := context.Background()
	batch := []firebreak.Notice{notice(inc, "u1", firebreak.ChannelEmail), notice(inc, "u2", firebreak.ChannelSMS),
		notice(inc, "u1", firebreak.ChannelEmail)} // the same key twice in one batch
	added, err := s.Enqueue(ctx, batch)
	if err != nil || added != 2 {
		t.Fatalf("Enqueue = %d, %v; want 2 added", added, err)
	}
	if batch[0].ID == 0 || batch[1].ID == 0 || batch[2].ID != 0 {
		t.Fatalf("IDs = %v, want two set and the duplicate 0", noticeIDs(batch))
	}
	got, err := s.Find(ctx, batch[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := batch[0]
	if !reflect.DeepEqual(*got, want) || got.State != firebreak.NoticeQueued || !got.CreatedAt.Equal(c.Now()) {
		t.Fatalf("Find = %+v\nwant %+v, queued at %v", *got, want, c.Now())
	}
	// Again later, with other text: the stored notice stays as it was.
	c.Add(time.Minute)
	again := notice(inc, "u1", firebreak.ChannelEmail)
	again.Text = "Other words"
	if added, err := s.Enqueue(ctx, []firebreak.Notice{again}); err != nil || added != 0 || again.ID != 0 {
		t.Fatalf("Enqueue of a stored key = %d, %v, ID %d; want 0 added", added, err, again.ID)
	}
	if got, _ := s.Find(ctx, batch[0].ID); got.Text != batch[0].Text {
		t.Fatalf("the stored notice changed: %q", got.Text)
	}
	// Another template for the same account is another notice.
	other := notice(inc, "u1", firebreak.ChannelEmail)
	other.Template = "email/at_risk"
	if added, _ := s.Enqueue(ctx, []firebreak.Notice{other}); added != 1 {
		t.Fatalf("a second template for u1 was not added")
	}
	if _, err := s.Find(ctx, 1<<40); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		t.Fatalf("Find(unknown) = %v, want ENOTFOUND", err)
	}
}

func testNoticeEnqueueInvalid(t *testing.T, open NoticeOpener) {
	s, inc, _ := openNotices(t, open)
	ctx := context.Background()
	bad := notice(inc, "u2", firebreak.ChannelSMS)
	bad.Channel = "pigeon"
	_, err := s.Enqueue(ctx, []firebreak.Notice{notice(inc, "u1", firebreak.ChannelSMS), bad})
	wantField(t, err, "notices[1].channel")
	unknown := notice(inc+1000, "u1", firebreak.ChannelSMS)
	_, err = s.Enqueue(ctx, []firebreak.Notice{notice(inc, "u1", firebreak.ChannelSMS), unknown})
	wantCode(t, err, firebreak.ENOTFOUND, "incident")
	// A refused batch stores nothing.
	if counts, err := s.Counts(ctx, 0); err != nil || len(counts) != 0 {
		t.Fatalf("Counts after refused batches = %v, %v; want none", counts, err)
	}
}

// testNoticeEnqueueConcurrent enqueues the same keys from several
// goroutines: each key is stored once and added by exactly one call.
func testNoticeEnqueueConcurrent(t *testing.T, open NoticeOpener) {
	s, inc, _ := openNotices(t, open)
	const workers, accounts = 4, 50
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []firebreak.Notice
			for i := range accounts {
				batch = append(batch, notice(inc, fmt.Sprintf("u%d", i), firebreak.ChannelInApp))
			}
			added, err := s.Enqueue(context.Background(), batch)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += added
			mu.Unlock()
		}()
	}
	wg.Wait()
	counts, err := s.Counts(context.Background(), inc)
	if err != nil {
		t.Fatal(err)
	}
	if total != accounts || counts[firebreak.ChannelInApp].Queued != accounts {
		t.Fatalf("added %d, stored %+v; want %d each", total, counts, accounts)
	}
}

func claim(t *testing.T, s firebreak.NoticeService, ch firebreak.Channel, limit int, lease time.Duration, at time.Time) []firebreak.Notice {
	t.Helper()
	got, err := s.Claim(context.Background(), ch, limit, lease, at)
	if err != nil {
		t.Fatalf("Claim(%s): %v", ch, err)
	}
	return got
}

func testNoticeClaimLease(t *testing.T, open NoticeOpener) {
	s, inc, c := openNotices(t, open)
	queued := enqueue(t, s, notice(inc, "u1", firebreak.ChannelSMS), notice(inc, "u2", firebreak.ChannelSMS),
		notice(inc, "u3", firebreak.ChannelSMS), notice(inc, "u1", firebreak.ChannelEmail))
	at, lease := c.Now(), time.Minute
	first := claim(t, s, firebreak.ChannelSMS, 2, lease, at)
	if got, want := noticeIDs(first), noticeIDs(queued[:2]); !reflect.DeepEqual(got, want) {
		t.Fatalf("first claim = %v, want the oldest two %v", got, want)
	}
	for _, n := range first {
		if n.Attempts != 1 || !n.NextAttempt.Equal(at.Add(lease)) || n.Channel != firebreak.ChannelSMS {
			t.Fatalf("claimed %+v, want attempts 1 and the lease until %v", n, at.Add(lease))
		}
	}
	if got := claim(t, s, firebreak.ChannelSMS, 10, lease, at); !reflect.DeepEqual(noticeIDs(got), noticeIDs(queued[2:3])) {
		t.Fatalf("second claim = %v, want only the unleased SMS %d", noticeIDs(got), queued[2].ID)
	}
	if got := claim(t, s, firebreak.ChannelSMS, 10, lease, at.Add(lease-time.Second)); len(got) != 0 {
		t.Fatalf("claim before the leases expire = %v, want none", noticeIDs(got))
	}
	// The sender died: after the lease the notices are claimed again.
	again := claim(t, s, firebreak.ChannelSMS, 10, lease, at.Add(lease))
	if len(again) != 3 || again[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v, want all three SMS, attempt 2", again)
	}
	if got := claim(t, s, firebreak.ChannelEmail, 10, lease, at); len(got) != 1 || got[0].ID != queued[3].ID {
		t.Fatalf("email claim = %v, want %d", noticeIDs(got), queued[3].ID)
	}
	_, err := s.Claim(context.Background(), "pigeon", 1, lease, at)
	wantField(t, err, "channel")
	_, err = s.Claim(context.Background(), firebreak.ChannelSMS, 0, lease, at)
	wantField(t, err, "limit")
	_, err = s.Claim(context.Background(), firebreak.ChannelSMS, 1, 0, at)
	wantField(t, err, "lease")
}

func testNoticeRecord(t *testing.T, open NoticeOpener) {
	s, inc, c := openNotices(t, open)
	ctx := context.Background()
	q := enqueue(t, s, notice(inc, "u1", firebreak.ChannelChat), notice(inc, "u2", firebreak.ChannelChat),
		notice(inc, "u3", firebreak.ChannelChat))
	at := c.Now()
	claim(t, s, firebreak.ChannelChat, 10, time.Minute, at)
	retry := at.Add(10 * time.Minute)
	err := s.Record(ctx, []firebreak.NoticeResult{
		{ID: q[0].ID, State: firebreak.NoticeSent, At: at.Add(time.Second)},
		{ID: q[1].ID, State: firebreak.NoticeFailed, Reason: "incident resolved before sending", At: at.Add(time.Second)},
		{ID: q[2].ID, State: firebreak.NoticeQueued, Reason: "429 Too Many Requests", RetryAt: retry},
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	sent, _ := s.Find(ctx, q[0].ID)
	failed, _ := s.Find(ctx, q[1].ID)
	back, _ := s.Find(ctx, q[2].ID)
	if sent.State != firebreak.NoticeSent || !sent.SentAt.Equal(at.Add(time.Second)) {
		t.Errorf("sent = %+v", sent)
	}
	if failed.State != firebreak.NoticeFailed || failed.Reason != "incident resolved before sending" || !failed.SentAt.IsZero() {
		t.Errorf("failed = %+v", failed)
	}
	if back.State != firebreak.NoticeQueued || !back.NextAttempt.Equal(retry) || back.Reason != "429 Too Many Requests" {
		t.Errorf("queued again = %+v, want next attempt %v", back, retry)
	}
	// The retried notice waits for RetryAt, then is claimed again.
	if got := claim(t, s, firebreak.ChannelChat, 10, time.Minute, retry.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("claimed %v before RetryAt", noticeIDs(got))
	}
	if got := claim(t, s, firebreak.ChannelChat, 10, time.Minute, retry); len(got) != 1 || got[0].ID != q[2].ID {
		t.Fatalf("claim at RetryAt = %v, want %d", noticeIDs(got), q[2].ID)
	}
	// A final outcome is final: the batch is refused whole.
	err = s.Record(ctx, []firebreak.NoticeResult{{ID: q[2].ID, State: firebreak.NoticeSent},
		{ID: q[0].ID, State: firebreak.NoticeFailed, Reason: "late"}})
	wantCode(t, err, firebreak.ECONFLICT, "already sent")
	if got, _ := s.Find(ctx, q[2].ID); got.State != firebreak.NoticeQueued {
		t.Fatalf("a refused batch stored %+v", got)
	}
	wantCode(t, s.Record(ctx, []firebreak.NoticeResult{{ID: 1 << 40, State: firebreak.NoticeSent}}), firebreak.ENOTFOUND)
}

func testNoticeRecordInvalid(t *testing.T, open NoticeOpener) {
	s, _, _ := openNotices(t, open)
	tests := []struct {
		name   string
		result firebreak.NoticeResult
		field  string
	}{
		{"no id", firebreak.NoticeResult{State: firebreak.NoticeSent}, "results[0].id"},
		{"bad state", firebreak.NoticeResult{ID: 1, State: "lost"}, "results[0].state"},
		{"failed without reason", firebreak.NoticeResult{ID: 1, State: firebreak.NoticeFailed}, "results[0].reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, s.Record(context.Background(), []firebreak.NoticeResult{tt.result}), tt.field)
		})
	}
}

func testNoticeListAndCounts(t *testing.T, open NoticeOpener) {
	s, inc, c := openNotices(t, open)
	ctx := context.Background()
	var batch []firebreak.Notice
	for i := range 5 {
		batch = append(batch, notice(inc, fmt.Sprintf("u%d", i), firebreak.ChannelSMS),
			notice(inc, fmt.Sprintf("u%d", i), firebreak.ChannelEmail))
	}
	enqueue(t, s, batch...)
	claimed := claim(t, s, firebreak.ChannelSMS, 2, time.Minute, c.Now())
	if err := s.Record(ctx, []firebreak.NoticeResult{{ID: claimed[0].ID, State: firebreak.NoticeSent},
		{ID: claimed[1].ID, State: firebreak.NoticeFailed, Reason: "recipient refused"}}); err != nil {
		t.Fatal(err)
	}
	// Page through the email notices two at a time.
	var got []int64
	f := firebreak.NoticeFilter{IncidentID: inc, Channel: firebreak.ChannelEmail, Limit: 2}
	for {
		page, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, noticeIDs(page.Notices)...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	var want []int64
	for _, n := range batch {
		if n.Channel == firebreak.ChannelEmail {
			want = append(want, n.ID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("email pages = %v, want %v", got, want)
	}
	page, err := s.List(ctx, firebreak.NoticeFilter{State: firebreak.NoticeFailed})
	if err != nil || len(page.Notices) != 1 || page.Notices[0].Reason != "recipient refused" {
		t.Fatalf("failed list = %+v, %v", page, err)
	}
	// A cursor of another filter, and garbage, are refused.
	_, err = s.List(ctx, firebreak.NoticeFilter{State: firebreak.NoticeSent, Cursor: f.Cursor})
	wantField(t, err, "cursor")
	_, err = s.List(ctx, firebreak.NoticeFilter{Cursor: "not-a-cursor"})
	wantField(t, err, "cursor")
	_, err = s.List(ctx, firebreak.NoticeFilter{Limit: firebreak.MaxPageLimit + 1})
	wantField(t, err, "limit")

	counts, err := s.Counts(ctx, inc)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := firebreak.NoticeCounts{
		firebreak.ChannelSMS:   {Queued: 3, Sent: 1, Failed: 1},
		firebreak.ChannelEmail: {Queued: 5},
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Fatalf("Counts = %+v, want %+v", counts, wantCounts)
	}
	if all, err := s.Counts(ctx, 0); err != nil || !reflect.DeepEqual(all, wantCounts) {
		t.Fatalf("Counts(all) = %+v, %v", all, err)
	}
	if other, err := s.Counts(ctx, inc+1000); err != nil || len(other) != 0 {
		t.Fatalf("Counts(unknown incident) = %+v, %v; want empty", other, err)
	}
}
