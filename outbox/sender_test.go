package outbox_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/outbox"
	"firebreak/sqlite"
)

// TestSenderDelivers sends chat and in-app notices through a real
// dispatcher to a gateway on loopback and the SQLite feed: each arrives
// once under its key "n-<id>" and ends sent.
func TestSenderDelivers(t *testing.T) {
	db, store := openStore(t, dbPath(t))
	inc := createIncident(t, db)
	chat := chatNotices(inc, 300)
	inapp := chatNotices(inc, 20)
	for i := range inapp {
		inapp[i].Channel, inapp[i].Template = firebreak.ChannelInApp, "inapp/compromised"
	}
	all := append(chat, inapp...)
	enqueueAll(t, store, all)
	chat, inapp = all[:300], all[300:]
	rcv, srv := newReceiver(t)
	feed := sqlite.NewInAppStore(db)
	startSender(t, store, srv.URL, feed, outbox.Config{Batch: 50, InFlight: 64, Poll: 20 * time.Millisecond})

	counts := waitSettled(t, store, inc, 30*time.Second)
	if got := counts[firebreak.ChannelChat]; got.Sent != 300 || got.Failed != 0 {
		t.Fatalf("chat counts = %+v, want 300 sent", got)
	}
	if got := counts[firebreak.ChannelInApp]; got.Sent != 20 {
		t.Fatalf("inapp counts = %+v, want 20 sent", got)
	}
	raw, distinct := rcv.counts()
	if raw != 300 || distinct != 300 {
		t.Fatalf("gateway saw %d deliveries of %d keys, want 300 of 300", raw, distinct)
	}
	n, err := store.Find(context.Background(), chat[7].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, to := rcv.delivered(outbox.Key(n.ID)); to != "u7" || n.Attempts != 1 || n.SentAt.IsZero() {
		t.Fatalf("notice %+v: recipient %q, want u7, one attempt, a sent time", n, to)
	}
	entries, err := feed.List(context.Background(), "u3", 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Message.Key != outbox.Key(inapp[3].ID) {
		t.Fatalf("u3's feed = %+v, %v; want the one notice", entries, err)
	}
}

// TestSenderRechecks fails notices that are no longer due instead of
// sending them, and retries those whose re-check errs.
func TestSenderRechecks(t *testing.T) {
	db, store := openStore(t, dbPath(t))
	inc := createIncident(t, db)
	notices := chatNotices(inc, 40)
	enqueueAll(t, store, notices)
	rcv, srv := newReceiver(t)
	checks := map[string]int{}
	stillDue := func(_ context.Context, n firebreak.Notice) (bool, string, error) {
		checks[n.Account]++ // one claim loop per channel: no lock needed
		switch {
		case n.Account == "u5" && checks[n.Account] == 1:
			return false, "", context.DeadlineExceeded // a passing outage of the state lookup
		case strings.HasSuffix(n.Account, "0"):
			return false, "restriction lifted", nil
		}
		return true, "", nil
	}
	startSender(t, store, srv.URL, nil, outbox.Config{StillDue: stillDue, Poll: 20 * time.Millisecond,
		Retry: 50 * time.Millisecond})

	counts := waitSettled(t, store, inc, 30*time.Second)
	if got := counts[firebreak.ChannelChat]; got.Sent != 36 || got.Failed != 4 {
		t.Fatalf("counts = %+v, want 36 sent and 4 failed (u0, u10, u20, u30)", got)
	}
	lifted, _ := store.Find(context.Background(), notices[10].ID)
	if lifted.State != firebreak.NoticeFailed || lifted.Reason != "not sent: restriction lifted" {
		t.Fatalf("u10 = %s %q, want failed: not sent: restriction lifted", lifted.State, lifted.Reason)
	}
	if times, _ := rcv.delivered(outbox.Key(notices[10].ID)); times != 0 {
		t.Fatal("the gateway received a notice that was no longer due")
	}
	retried, _ := store.Find(context.Background(), notices[5].ID)
	if retried.State != firebreak.NoticeSent || retried.Attempts != 2 {
		t.Fatalf("u5 = %+v, want sent on the second claim", retried)
	}
}

// TestSenderRecordsFailures records a gateway's refusal and an unknown
// recipient as failed with the reason, and retries a 429 until it passes.
func TestSenderRecordsFailures(t *testing.T) {
	db, store := openStore(t, dbPath(t))
	inc := createIncident(t, db)
	notices := chatNotices(inc, 30)
	enqueueAll(t, store, notices)
	rcv, srv := newReceiver(t)
	busy := 3 // u2 is refused with 429 three times
	var busyMu sync.Mutex
	rcv.set(func(_, to string) int {
		switch {
		case to == "u1":
			return http.StatusUnprocessableEntity
		case to == "u2":
			busyMu.Lock()
			defer busyMu.Unlock()
			if busy > 0 {
				busy--
				return http.StatusTooManyRequests
			}
		}
		return http.StatusOK
	}, nil)
	recipient := func(_ context.Context, n firebreak.Notice) (string, error) {
		if n.Account == "u3" {
			return "", firebreak.Errorf(firebreak.ENOTFOUND, "Account u3 has no chat id.")
		}
		return n.Account, nil
	}
	startSender(t, store, srv.URL, nil, outbox.Config{Recipient: recipient, Poll: 20 * time.Millisecond})

	counts := waitSettled(t, store, inc, 30*time.Second)
	if got := counts[firebreak.ChannelChat]; got.Sent != 28 || got.Failed != 2 {
		t.Fatalf("counts = %+v, want 28 sent, 2 failed", got)
	}
	refused, _ := store.Find(context.Background(), notices[1].ID)
	if refused.State != firebreak.NoticeFailed || !strings.Contains(refused.Reason, "refused by the test") {
		t.Fatalf("u1 = %s %q, want failed with the gateway's reason", refused.State, refused.Reason)
	}
	unknown, _ := store.Find(context.Background(), notices[3].ID)
	if unknown.State != firebreak.NoticeFailed || unknown.Reason != "no recipient: Account u3 has no chat id." {
		t.Fatalf("u3 = %s %q, want failed: no recipient", unknown.State, unknown.Reason)
	}
	if got, _ := store.Find(context.Background(), notices[2].ID); got.State != firebreak.NoticeSent {
		t.Fatalf("u2 after three 429s = %s, want sent", got.State)
	}
}

// TestSenderResumesExpiredLeases: notices a dead sender claimed are sent
// once their lease has expired, not before.
func TestSenderResumesExpiredLeases(t *testing.T) {
	db, store := openStore(t, dbPath(t))
	inc := createIncident(t, db)
	notices := chatNotices(inc, 10)
	enqueueAll(t, store, notices)
	lease := 700 * time.Millisecond
	claimedAt := time.Now()
	if got, err := store.Claim(context.Background(), firebreak.ChannelChat, 4, lease, claimedAt); err != nil || len(got) != 4 {
		t.Fatalf("Claim = %d, %v", len(got), err)
	}
	rcv, srv := newReceiver(t)
	startSender(t, store, srv.URL, nil, outbox.Config{Lease: lease, Poll: 20 * time.Millisecond})
	waitSettled(t, store, inc, 30*time.Second)
	if raw, distinct := rcv.counts(); raw != 10 || distinct != 10 {
		t.Fatalf("gateway saw %d deliveries of %d keys, want 10", raw, distinct)
	}
	n, _ := store.Find(context.Background(), notices[0].ID)
	if n.Attempts != 2 || n.SentAt.Before(claimedAt.Add(lease)) {
		t.Fatalf("resumed notice %+v: want attempt 2, sent after the lease ended at %v", n, claimedAt.Add(lease))
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, store := openStore(t, dbPath(t))
	tests := []struct {
		name  string
		cfg   outbox.Config
		field string
	}{
		{"no store", outbox.Config{Channels: []firebreak.Channel{firebreak.ChannelSMS}}, "store"},
		{"no channel", outbox.Config{Store: store}, "channels"},
		{"unknown channel", outbox.Config{Store: store, Channels: []firebreak.Channel{"fax"}}, "channels[0]"},
		{"twice", outbox.Config{Store: store, Channels: []firebreak.Channel{"sms", "sms"}}, "channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := outbox.New(tt.cfg)
			if firebreak.ErrorCode(err) != firebreak.EINVALID || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("New = %v, want EINVALID naming %s", err, tt.field)
			}
		})
	}
}
