package statuspage_test

import (
	"encoding/xml"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"firebreak"
)

// feed is the shape of an Atom 1.0 document that the test reads back.
type feed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  string   `xml:"author>name"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Link      struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

func readFeed(t *testing.T, e *env) (feed, response) {
	t.Helper()
	r := e.get(t, "/feed.atom")
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var f feed
	if err := xml.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatalf("feed is not Atom XML: %v\n%s", err, r.body)
	}
	return f, r
}

func TestFeed(t *testing.T) {
	e := newEnv(t)
	empty, _ := readFeed(t, e)
	if empty.ID != baseURL+"/feed.atom" || empty.Title != "Example status" || empty.Author == "" || empty.Updated == "" || len(empty.Entries) != 0 {
		t.Fatalf("empty feed = %+v", empty)
	}
	id := e.incident(t)
	first := e.publish(t, id, firebreak.PhaseInvestigating, "Sign-in <problems> & \"resets\"", "Line one.\n\nLine <two> & more.")
	e.clock.Add(5 * time.Minute)
	second := e.publish(t, 0, firebreak.PhaseResolved, "General notice", "Done.")
	f, r := readFeed(t, e)
	if len(f.Entries) != 2 {
		t.Fatalf("feed has %d entries, want 2", len(f.Entries))
	}
	if f.Updated != second.PublishedAt.Format(time.RFC3339) {
		t.Errorf("feed updated = %s, want the newest update's time %s", f.Updated, second.PublishedAt.Format(time.RFC3339))
	}
	newest, oldest := f.Entries[0], f.Entries[1]
	if want := baseURL + "/notices#update-" + itoa(second.ID); newest.ID != want || newest.Link.Href != baseURL+"/notices" {
		t.Errorf("newest entry id %q link %q, want %q", newest.ID, newest.Link.Href, want)
	}
	if oldest.Title != "Investigating: Sign-in <problems> & \"resets\"" || oldest.Content.Type != "text" ||
		!strings.HasPrefix(oldest.Content.Body, "Line one.\n\nLine <two> & more.\n\nNext update by ") {
		t.Errorf("oldest entry = %+v; want the title and body round-tripped through XML escaping", oldest)
	}
	if oldest.Published != first.PublishedAt.Format(time.RFC3339) || oldest.Updated != oldest.Published {
		t.Errorf("oldest entry published %s updated %s, want %s", oldest.Published, oldest.Updated, first.PublishedAt.Format(time.RFC3339))
	}
	if !strings.Contains(r.body, "&lt;problems&gt;") {
		t.Error("raw feed does not escape < in the title")
	}

	// Ids and the document itself are stable: the same after the cache
	// expires, so a conditional request gets 304.
	e.clock.Add(time.Minute)
	e.h.Invalidate()
	again, r2 := readFeed(t, e)
	if !reflect.DeepEqual(again, f) || r2.header.Get("ETag") != r.header.Get("ETag") {
		t.Fatal("the feed changed without a new update")
	}
	wantStatus(t, e.get(t, "/feed.atom", "If-None-Match", `W/"x", `+r.header.Get("ETag")), http.StatusNotModified)
}
