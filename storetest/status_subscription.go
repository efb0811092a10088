package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"firebreak"
)

func subscribe(t *testing.T, s firebreak.StatusService, kind firebreak.SubscriptionKind, target string) *firebreak.Subscription {
	t.Helper()
	sub := &firebreak.Subscription{Kind: kind, Target: target}
	if err := s.Subscribe(context.Background(), sub); err != nil {
		t.Fatalf("Subscribe(%s %s): %v", kind, target, err)
	}
	return sub
}

func subscribers(t *testing.T, s firebreak.StatusService, f firebreak.SubscriberFilter) []firebreak.Subscription {
	t.Helper()
	subs, err := s.ListSubscribers(context.Background(), f)
	if err != nil {
		t.Fatalf("ListSubscribers(%+v): %v", f, err)
	}
	return subs
}

func testSubscribe(t *testing.T, open StatusOpener) {
	s, _, c := openStatus(t, open)
	ctx := context.Background()
	sub := subscribe(t, s, firebreak.SubscribeEmail, " Ops@Example.COM ")
	if sub.ID <= 0 || len(sub.Token) < 32 || sub.Confirmed || !sub.CreatedAt.Equal(c.Now()) || sub.Target != "Ops@example.com" {
		t.Fatalf("Subscribe left %+v; want an ID, a long token, unconfirmed, created now, domain lower-cased", sub)
	}
	if got := subscribers(t, s, firebreak.SubscriberFilter{}); len(got) != 0 {
		t.Fatalf("ListSubscribers before confirmation = %+v, want none", got)
	}
	_, err := s.Confirm(ctx, sub.Token+"x")
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = s.Confirm(ctx, "")
	wantField(t, err, "token")
	got, err := s.Confirm(ctx, sub.Token)
	want := *sub
	want.Token, want.Confirmed = "", true
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("Confirm = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.Confirm(ctx, sub.Token); err != nil {
		t.Fatalf("confirming twice: %v", err)
	}
	if got := subscribers(t, s, firebreak.SubscriberFilter{}); !reflect.DeepEqual(got, []firebreak.Subscription{want}) {
		t.Fatalf("ListSubscribers = %+v, want %+v", got, want)
	}
	again := &firebreak.Subscription{Kind: firebreak.SubscribeEmail, Target: "Ops@example.com"}
	wantCode(t, s.Subscribe(ctx, again), firebreak.ECONFLICT)
	wantField(t, s.Unsubscribe(ctx, ""), "token")
	wantCode(t, s.Unsubscribe(ctx, "not-a-token"), firebreak.ENOTFOUND)
	if err := s.Unsubscribe(ctx, sub.Token); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Unsubscribe(ctx, sub.Token), firebreak.ENOTFOUND)
	if got := subscribers(t, s, firebreak.SubscriberFilter{}); len(got) != 0 {
		t.Fatalf("ListSubscribers after unsubscribing = %+v, want none", got)
	}
	subscribe(t, s, firebreak.SubscribeEmail, "ops@example.com") // free again
}

// testSubscribeAgain checks that subscribing an unconfirmed target again
// replaces its token, so that only the latest confirmation link works.
func testSubscribeAgain(t *testing.T, open StatusOpener) {
	s, _, _ := openStatus(t, open)
	ctx := context.Background()
	first := subscribe(t, s, firebreak.SubscribeWebhook, "https://hooks.example.com/status")
	second := subscribe(t, s, firebreak.SubscribeWebhook, "https://hooks.example.com/status")
	if second.ID != first.ID || second.Token == first.Token {
		t.Fatalf("subscribing again gave %+v after %+v; want the same ID with a new token", second, first)
	}
	_, err := s.Confirm(ctx, first.Token)
	wantCode(t, err, firebreak.ENOTFOUND)
	if _, err := s.Confirm(ctx, second.Token); err != nil {
		t.Fatal(err)
	}
	// The same address as email and as webhook are separate subscriptions.
	if other := subscribe(t, s, firebreak.SubscribeEmail, "status@hooks.example.com"); other.ID == first.ID {
		t.Fatal("an email subscription reused a webhook's ID")
	}
}

func testSubscribeInvalid(t *testing.T, open StatusOpener) {
	s, _, _ := openStatus(t, open)
	ctx := context.Background()
	tests := []struct {
		name   string
		kind   firebreak.SubscriptionKind
		target string
		field  string
	}{
		{"unknown kind", "sms", "+4790000000", "kind"},
		{"no target", firebreak.SubscribeEmail, "  ", "target"},
		{"not an address", firebreak.SubscribeEmail, "ops.example.com", "target"},
		{"display name", firebreak.SubscribeEmail, "Ops <ops@example.com>", "target"},
		{"two addresses", firebreak.SubscribeEmail, "a@example.com, b@example.com", "target"},
		{"header injection", firebreak.SubscribeEmail, "a@example.com\r\nBcc: b@example.com", "target"},
		{"no domain dot", firebreak.SubscribeEmail, "root@localhost", "target"},
		{"plain http", firebreak.SubscribeWebhook, "http://hooks.example.com/x", "target"},
		{"relative URL", firebreak.SubscribeWebhook, "/hooks", "target"},
		{"credentials", firebreak.SubscribeWebhook, "https://user:pw@hooks.example.com/x", "target"},
		{"localhost", firebreak.SubscribeWebhook, "https://localhost:8080/x", "target"},
		{"loopback", firebreak.SubscribeWebhook, "https://127.0.0.1/x", "target"},
		{"private", firebreak.SubscribeWebhook, "https://10.1.2.3/x", "target"},
		{"link-local", firebreak.SubscribeWebhook, "https://[fe80::1]/x", "target"},
		{"metadata", firebreak.SubscribeWebhook, "https://169.254.169.254/latest", "target"},
		{"too long", firebreak.SubscribeWebhook, "https://hooks.example.com/" + string(make([]byte, 2048)), "target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := &firebreak.Subscription{Kind: tt.kind, Target: tt.target}
			wantField(t, s.Subscribe(ctx, sub), tt.field)
			if sub.ID != 0 || sub.Token != "" {
				t.Errorf("a refused Subscribe set %+v", sub)
			}
		})
	}
	wantCode(t, s.Subscribe(ctx, nil), firebreak.EINVALID)
}

func testListSubscribers(t *testing.T, open StatusOpener) {
	s, _, _ := openStatus(t, open)
	ctx := context.Background()
	var emails, hooks []int64
	for i := range 5 {
		e := subscribe(t, s, firebreak.SubscribeEmail, fmt.Sprintf("u%d@example.com", i))
		h := subscribe(t, s, firebreak.SubscribeWebhook, fmt.Sprintf("https://hooks.example.com/%d", i))
		if i == 2 {
			continue // stays unconfirmed
		}
		for _, sub := range []*firebreak.Subscription{e, h} {
			if _, err := s.Confirm(ctx, sub.Token); err != nil {
				t.Fatal(err)
			}
		}
		emails, hooks = append(emails, e.ID), append(hooks, h.ID)
	}
	var got []int64
	f := firebreak.SubscriberFilter{Kind: firebreak.SubscribeEmail, Limit: 3}
	for range 3 {
		page := subscribers(t, s, f)
		if len(page) == 0 {
			break
		}
		for _, sub := range page {
			got = append(got, sub.ID)
			f.AfterID = sub.ID
		}
	}
	if !reflect.DeepEqual(got, emails) {
		t.Fatalf("confirmed email subscribers = %v, want %v (ID order, paged)", got, emails)
	}
	all := subscribers(t, s, firebreak.SubscriberFilter{})
	if len(all) != len(emails)+len(hooks) {
		t.Fatalf("ListSubscribers() = %d subscriptions, want %d", len(all), len(emails)+len(hooks))
	}
	for _, f := range []firebreak.SubscriberFilter{{Kind: "sms"}, {AfterID: -1}, {Limit: firebreak.MaxPageLimit + 1}} {
		_, err := s.ListSubscribers(ctx, f)
		wantCode(t, err, firebreak.EINVALID)
	}
}
