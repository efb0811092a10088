package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
	"firebreak/sqlite"
	"firebreak/statuspage"
)

// TestStatusUpdatesAPI publishes through the operator API and reads the
// update back from the API and from the public page, which needs no token.
func TestStatusUpdatesAPI(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := sqlite.NewStatusStore(db)
	page, err := statuspage.New(statuspage.Config{Status: store, BaseURL: "https://example.com/status"})
	if err != nil {
		t.Fatal(err)
	}
	published := 0
	f := newFixture(t, func(c *fbhttp.Config) {
		c.Status, c.StatusPage, c.Now = store, page, time.Now
		c.OnStatusPublished = func(firebreak.StatusUpdate) { published++; page.Invalidate() }
	})

	next := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	body := `{"phase":"investigating","title":"Unusual sign-ins <b>","body":"We are looking into it.","next_update_by":"` + next + `"}`
	w := f.do("POST", "/api/v1/status-updates", []byte(body), "Content-Type", "application/json")
	if w.Code != http.StatusCreated {
		t.Fatalf("publish = %d %s", w.Code, w.Body)
	}
	var u firebreak.StatusUpdate
	if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil || u.ID == 0 || u.Author != fbhttp.APIActor {
		t.Fatalf("published %+v (err %v): want an id and the actor as author", u, err)
	}
	if published != 1 {
		t.Errorf("OnStatusPublished ran %d times, want 1", published)
	}

	// Bad input names the field, and nothing is published.
	for _, tc := range []struct{ body, field string }{
		{`{"phase":"investigating","title":"x","body":"y"}`, "next_update_by"},
		{`{"phase":"panicking","title":"x","body":"y","next_update_by":"` + next + `"}`, "phase"},
		{`{"phase":"investigating","title":"","body":"y","next_update_by":"` + next + `"}`, "title"},
	} {
		w := f.do("POST", "/api/v1/status-updates", []byte(tc.body), "Content-Type", "application/json")
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, w.Code, w.Body, tc.field)
		}
	}

	w = f.do("GET", "/api/v1/status-updates", nil)
	var hist firebreak.StatusPage
	if err := json.Unmarshal(w.Body.Bytes(), &hist); err != nil || len(hist.Updates) != 1 {
		t.Fatalf("history = %d %s: want the one update", w.Code, w.Body)
	}
	w = f.do("GET", "/api/v1/status-updates/overdue", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"overdue":[]`) {
		t.Errorf("overdue = %d %s: want none yet", w.Code, w.Body)
	}

	// The public page shows it, escaped, to anyone.
	w = serve(f.server.Handler(), "GET", "/status/", nil, "Authorization", "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Unusual sign-ins &lt;b&gt;") {
		t.Fatalf("GET /status/ = %d, want the update escaped:\n%s", w.Code, w.Body)
	}
	if w := serve(f.server.Handler(), "GET", "/status", nil, "Authorization", ""); w.Code != http.StatusMovedPermanently {
		t.Errorf("GET /status = %d, want a redirect to /status/", w.Code)
	}
	if w := serve(f.server.Handler(), "GET", "/status/feed.atom", nil, "Authorization", ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<feed") {
		t.Errorf("GET /status/feed.atom = %d", w.Code)
	}
}

// TestOverdueBanner checks that every dashboard page reminds operators of a
// status update promised and not published in time.
func TestOverdueBanner(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := sqlite.NewStatusStore(db)
	now := time.Now()
	clock := func() time.Time { return now }
	f := newFixture(t, func(c *fbhttp.Config) { c.Status, c.Now = store, clock })
	u := firebreak.StatusUpdate{Phase: firebreak.Phase("investigating"), Title: "Unusual sign-ins", Body: "Looking into it.",
		Author: "alice", NextUpdateBy: now.Add(30 * time.Minute)}
	if err := store.Publish(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if w := f.do("GET", "/", nil); strings.Contains(w.Body.String(), `id="overdue"`) {
		t.Fatal("banner shown before the promised time")
	}
	now = now.Add(time.Hour)
	w := f.do("GET", "/", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="overdue"`) || !strings.Contains(w.Body.String(), "Unusual sign-ins") {
		t.Fatalf("GET / an hour later = %d, want the overdue banner:\n%s", w.Code, w.Body)
	}
}

// TestPublishStatusFromIncidentPage posts the incident page's form and
// finds the update in the store and on the public page; a form without the
// next update's time is refused with the reason shown on the page.
func TestPublishStatusFromIncidentPage(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	incs, store := sqlite.NewIncidentStore(db), sqlite.NewStatusStore(db)
	now := time.Now().UTC()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing", FirstSeen: now, LastSeen: now}
	if err := incs.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *fbhttp.Config) { c.Status, c.Incidents, c.Now = store, incs, time.Now })
	form := "phase=investigating&title=Unusual+sign-ins&body=We+reset+affected+accounts.&next_minutes=45"
	target := "/incidents/" + strconv.FormatInt(inc.ID, 10) + "/status"
	w := f.do("POST", target, []byte(form), "Content-Type", "application/x-www-form-urlencoded")
	if w.Code != http.StatusSeeOther || strings.Contains(w.Header().Get("Location"), "status_error") {
		t.Fatalf("publish = %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	th, err := store.Thread(ctx, inc.ID)
	if err != nil || len(th.Updates) != 1 || th.Updates[0].Author != fbhttp.APIActor {
		t.Fatalf("thread %+v (err %v): want one update by the actor", th, err)
	}
	if d := th.Updates[0].NextUpdateBy.Sub(now); d < 44*time.Minute || d > 46*time.Minute {
		t.Errorf("next update in %s, want 45 minutes", d)
	}
	w = f.do("POST", target, []byte("phase=monitoring&title=x&body=y"), "Content-Type", "application/x-www-form-urlencoded")
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.Contains(loc, "status_error") {
		t.Fatalf("publish without next_minutes = %d, Location %q: want the reason back on the page", w.Code, loc)
	}
	if th, _ := store.Thread(ctx, inc.ID); len(th.Updates) != 1 {
		t.Errorf("%d updates after a refused form, want 1", len(th.Updates))
	}
}
