package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
)

// StatusOpener returns a new, empty status store, closed when t ends, and
// the incident store on the same database; both must read the time from now,
// which the suite moves forward.
type StatusOpener func(t *testing.T, now func() time.Time) (firebreak.StatusService, firebreak.IncidentService)

// TestStatusService runs the StatusService conformance suite against the
// stores open returns; each subtest opens its own.
//
// What it pins down: updates are validated against the store's clock;
// threads group updates per incident (0 for general notices), newest first;
// a thread is current until its latest update is resolved; a promise is
// overdue once its time has passed without a newer update; subscriptions
// receive nothing until confirmed, and their tokens confirm and unsubscribe.
func TestStatusService(t *testing.T, open StatusOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open StatusOpener)
	}{
		{"Publish", testPublish},
		{"PublishInvalid", testPublishInvalid},
		{"Current", testCurrent},
		{"History", testHistory},
		{"Overdue", testOverdue},
		{"PublishConcurrent", testPublishConcurrent},
		{"Subscribe", testSubscribe},
		{"SubscribeAgain", testSubscribeAgain},
		{"SubscribeInvalid", testSubscribeInvalid},
		{"ListSubscribers", testListSubscribers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// clock is a time the suite moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openStatus opens the stores with a clock at t0 plus one hour.
func openStatus(t *testing.T, open StatusOpener) (firebreak.StatusService, firebreak.IncidentService, *clock) {
	c := &clock{now: t0.Add(time.Hour)}
	s, inc := open(t, c.Now)
	return s, inc, c
}

// update returns a valid update for incident id promising the next in 30 minutes.
func update(c *clock, id int64, phase firebreak.Phase, title string) *firebreak.StatusUpdate {
	u := &firebreak.StatusUpdate{IncidentID: id, Phase: phase, Title: title, Author: "alice",
		Body: "We are looking into failed sign-ins.\n\nSome accounts were asked to reset their password."}
	if phase != firebreak.PhaseResolved {
		u.NextUpdateBy = c.Now().Add(30 * time.Minute)
	}
	return u
}

func publish(t *testing.T, s firebreak.StatusService, u *firebreak.StatusUpdate) *firebreak.StatusUpdate {
	t.Helper()
	if err := s.Publish(context.Background(), u); err != nil {
		t.Fatalf("Publish(%q): %v", u.Title, err)
	}
	return u
}

func updateIDs(updates []firebreak.StatusUpdate) []int64 {
	out := []int64{}
	for _, u := range updates {
		out = append(out, u.ID)
	}
	return out
}

func testPublish(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	ctx := context.Background()
	inc := create(t, incs)
	u := update(c, inc.ID, firebreak.PhaseInvestigating, "Sign-in problems")
	want := *u
	publish(t, s, u)
	want.ID, want.PublishedAt = u.ID, c.Now()
	if u.ID <= 0 || !reflect.DeepEqual(*u, want) {
		t.Fatalf("Publish left %+v, want %+v", *u, want)
	}
	thread, err := s.Thread(ctx, inc.ID)
	if err != nil || !reflect.DeepEqual(thread.Updates, []firebreak.StatusUpdate{want}) {
		t.Fatalf("Thread = %+v, %v; want the published update", thread, err)
	}
	if got, err := s.Latest(ctx, inc.ID); err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("Latest = %+v, %v; want %+v", got, err, want)
	}
	entries := timeline(t, incs, inc.ID)
	last := entries[len(entries)-1]
	if last.Kind != firebreak.EntryStatusUpdate || last.Actor != "alice" || !strings.Contains(last.Message, "Sign-in problems") {
		t.Errorf("timeline ends with %+v, want a status_update entry by alice naming the title", last)
	}

	general := publish(t, s, update(c, 0, firebreak.PhaseMonitoring, "Notices about sign-ins are genuine"))
	if got, err := s.Latest(ctx, 0); err != nil || got.ID != general.ID || got.IncidentID != 0 {
		t.Fatalf("Latest(0) = %+v, %v; want the general notice %d", got, err, general.ID)
	}
	_, err = s.Thread(ctx, inc.ID+1)
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = s.Latest(ctx, inc.ID+1)
	wantCode(t, err, firebreak.ENOTFOUND)
	wantCode(t, s.Publish(ctx, update(c, inc.ID+100, firebreak.PhaseInvestigating, "x")), firebreak.ENOTFOUND)
	other := create(t, incs)
	_, err = s.Thread(ctx, other.ID)
	wantCode(t, err, firebreak.ENOTFOUND) // an incident without public updates is not public
}

func testPublishInvalid(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	ctx := context.Background()
	inc := create(t, incs)
	now := c.Now()
	tests := []struct {
		name   string
		change func(u *firebreak.StatusUpdate)
		field  string
	}{
		{"negative incident", func(u *firebreak.StatusUpdate) { u.IncidentID = -1 }, "incident_id"},
		{"unknown phase", func(u *firebreak.StatusUpdate) { u.Phase = "fixed" }, "phase"},
		{"no title", func(u *firebreak.StatusUpdate) { u.Title = "" }, "title"},
		{"long title", func(u *firebreak.StatusUpdate) { u.Title = strings.Repeat("x", 201) }, "title"},
		{"title with a line break", func(u *firebreak.StatusUpdate) { u.Title = "a\nb" }, "title"},
		{"no body", func(u *firebreak.StatusUpdate) { u.Body = "" }, "body"},
		{"long body", func(u *firebreak.StatusUpdate) { u.Body = strings.Repeat("x", 8193) }, "body"},
		{"no author", func(u *firebreak.StatusUpdate) { u.Author = "" }, "author"},
		{"no next update", func(u *firebreak.StatusUpdate) { u.NextUpdateBy = time.Time{} }, "next_update_by"},
		{"next update now", func(u *firebreak.StatusUpdate) { u.NextUpdateBy = now }, "next_update_by"},
		{"next update past", func(u *firebreak.StatusUpdate) { u.NextUpdateBy = now.Add(-time.Minute) }, "next_update_by"},
		{"next update too far", func(u *firebreak.StatusUpdate) { u.NextUpdateBy = now.Add(24*time.Hour + time.Second) }, "next_update_by"},
		{"resolved with a promise", func(u *firebreak.StatusUpdate) { u.Phase = firebreak.PhaseResolved }, "next_update_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := update(c, inc.ID, firebreak.PhaseIdentified, "Sign-in problems")
			tt.change(u)
			wantField(t, s.Publish(ctx, u), tt.field)
			if u.ID != 0 {
				t.Errorf("a refused Publish set ID %d", u.ID)
			}
		})
	}
	wantCode(t, s.Publish(ctx, nil), firebreak.EINVALID)
	page, err := s.History(ctx, firebreak.StatusFilter{})
	if err != nil || len(page.Updates) != 0 {
		t.Fatalf("History = %+v, %v; want nothing stored", page, err)
	}
	// The edges are allowed: exactly 24h ahead, and an 8 KiB body.
	u := update(c, inc.ID, firebreak.PhaseIdentified, strings.Repeat("t", 200))
	u.NextUpdateBy, u.Body = now.Add(24*time.Hour), strings.Repeat("b", 8192)
	publish(t, s, u)
}

func testCurrent(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	ctx := context.Background()
	if cur, err := s.Current(ctx); err != nil || len(cur) != 0 {
		t.Fatalf("Current on an empty store = %+v, %v; want none", cur, err)
	}
	a, b := create(t, incs), create(t, incs)
	a1 := publish(t, s, update(c, a.ID, firebreak.PhaseInvestigating, "A"))
	c.Add(time.Minute)
	b1 := publish(t, s, update(c, b.ID, firebreak.PhaseInvestigating, "B"))
	c.Add(time.Minute)
	a2 := publish(t, s, update(c, a.ID, firebreak.PhaseIdentified, "A"))
	cur := current(t, s)
	want := []firebreak.StatusThread{{IncidentID: a.ID, Updates: []firebreak.StatusUpdate{*a2, *a1}},
		{IncidentID: b.ID, Updates: []firebreak.StatusUpdate{*b1}}}
	if !reflect.DeepEqual(cur, want) {
		t.Fatalf("Current = %+v\nwant %+v (most recently updated first, updates newest first)", cur, want)
	}
	publish(t, s, update(c, a.ID, firebreak.PhaseResolved, "A"))
	if cur := current(t, s); len(cur) != 1 || cur[0].IncidentID != b.ID {
		t.Fatalf("Current after resolving A = %+v, want B only", cur)
	}
	reopened := publish(t, s, update(c, a.ID, firebreak.PhaseInvestigating, "A again"))
	cur = current(t, s)
	if len(cur) != 2 || cur[0].IncidentID != a.ID || cur[0].Latest().ID != reopened.ID || len(cur[0].Updates) != 4 {
		t.Fatalf("Current after reopening A = %+v, want A first with its 4 updates", cur)
	}
}

func current(t *testing.T, s firebreak.StatusService) []firebreak.StatusThread {
	t.Helper()
	cur, err := s.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

func testHistory(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	ctx := context.Background()
	inc := create(t, incs)
	var want []int64
	for i := range 5 {
		u := publish(t, s, update(c, inc.ID*int64(i%2), firebreak.PhaseInvestigating, fmt.Sprint("update ", i)))
		want = append([]int64{u.ID}, want...)
	}
	var got []int64
	f := firebreak.StatusFilter{Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("History never ends")
		}
		page, err := s.History(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, updateIDs(page.Updates)...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("History ids = %v, want %v (newest first, each once)", got, want)
	}
	page, err := s.History(ctx, firebreak.StatusFilter{Limit: 5})
	if err != nil || page.Next != "" || len(page.Updates) != 5 {
		t.Fatalf("History(limit 5) = %d updates, next %q, %v; want 5 and no next page", len(page.Updates), page.Next, err)
	}
	for _, f := range []firebreak.StatusFilter{{Cursor: "nonsense"}, {Cursor: "e30"}, {Limit: -1}, {Limit: firebreak.MaxPageLimit + 1}} {
		_, err := s.History(ctx, f)
		wantCode(t, err, firebreak.EINVALID)
	}
	incPage := list(t, incs, firebreak.IncidentFilter{Limit: 1})
	if _, err := s.History(ctx, firebreak.StatusFilter{Cursor: incPage.Next}); incPage.Next != "" && err == nil {
		t.Error("History accepted an incident list cursor")
	}
}

func testOverdue(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	ctx := context.Background()
	a, b, r := create(t, incs), create(t, incs), create(t, incs)
	start := c.Now()
	ua := update(c, a.ID, firebreak.PhaseInvestigating, "A")
	ua.NextUpdateBy = start.Add(10 * time.Minute)
	publish(t, s, ua)
	ub := update(c, b.ID, firebreak.PhaseIdentified, "B")
	ub.NextUpdateBy = start.Add(30 * time.Minute)
	publish(t, s, ub)
	publish(t, s, update(c, r.ID, firebreak.PhaseInvestigating, "R"))
	publish(t, s, update(c, r.ID, firebreak.PhaseResolved, "R"))

	tests := []struct {
		at   time.Duration
		want []int64
	}{
		{5 * time.Minute, []int64{}},
		{10 * time.Minute, []int64{}}, // due now, not yet late
		{10*time.Minute + time.Nanosecond, []int64{ua.ID}},
		{time.Hour, []int64{ua.ID, ub.ID}}, // oldest promise first
	}
	for _, tt := range tests {
		got, err := s.Overdue(ctx, start.Add(tt.at))
		if err != nil {
			t.Fatal(err)
		}
		if ids := updateIDs(got); !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("Overdue(start+%v) = %v, want %v", tt.at, ids, tt.want)
		}
	}
	c.Add(20 * time.Minute) // A is late; a new update keeps the promise
	publish(t, s, update(c, a.ID, firebreak.PhaseMonitoring, "A"))
	got, err := s.Overdue(ctx, start.Add(40*time.Minute))
	if err != nil || !reflect.DeepEqual(updateIDs(got), []int64{ub.ID}) {
		t.Fatalf("Overdue after A's new update = %v, %v; want B only", updateIDs(got), err)
	}
}

func testPublishConcurrent(t *testing.T, open StatusOpener) {
	s, incs, c := openStatus(t, open)
	inc := create(t, incs)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			errs <- s.Publish(context.Background(), update(c, inc.ID, firebreak.PhaseInvestigating, fmt.Sprint("u", i)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	thread, err := s.Thread(context.Background(), inc.ID)
	if err != nil || len(thread.Updates) != 16 {
		t.Fatalf("Thread = %+v, %v; want 16 updates", thread, err)
	}
	latest, err := s.Latest(context.Background(), inc.ID)
	if err != nil || latest.ID != thread.Updates[0].ID {
		t.Fatalf("Latest = %+v, %v; want the newest update %d", latest, err, thread.Updates[0].ID)
	}
}
