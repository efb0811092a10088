package channel_test

import (
	"context"
	"testing"

	"firebreak"
	"firebreak/channel"
)

func TestInAppFeedIsIdempotentAndPaged(t *testing.T) {
	feed := channel.NewMemoryFeed()
	s := channel.NewInApp(feed)
	ctx := context.Background()
	for _, key := range []string{"n-1", "n-2", "n-1", "n-3"} { // n-1 twice: a retry
		m := firebreak.Message{Channel: firebreak.ChannelInApp, To: "acct-7", Key: key, Subject: "Check your account", Text: "We locked it."}
		if err := s.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	first, err := feed.List(ctx, "acct-7", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].Message.Key != "n-1" || first[1].Message.Key != "n-2" {
		t.Fatalf("first page: %+v", first)
	}
	rest, _ := feed.List(ctx, "acct-7", first[1].ID, 10)
	if len(rest) != 1 || rest[0].Message.Key != "n-3" {
		t.Fatalf("second page: %+v", rest)
	}
	other, _ := feed.List(ctx, "acct-8", 0, 10)
	if len(other) != 0 {
		t.Fatalf("another account sees %d entries", len(other))
	}
	pe := outcome(t, s.Send(ctx, firebreak.Message{Channel: firebreak.ChannelInApp, To: "acct 7", Key: "n-4", Text: "x"}))
	if pe.Outcome != firebreak.CallRejected {
		t.Fatalf("bad account: got %+v, want CallRejected", pe)
	}
}
