package statuspage

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"firebreak"
)

// feedSize is how many of the newest updates the Atom feed holds.
const feedSize = 50

// Atom 1.0 (RFC 4287) documents, as much of them as the feed uses.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Category  atomCat    `xml:"category"`
	Content   atomText   `xml:"content"`
}

type atomCat struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// handleFeed serves the newest updates as Atom. Entry ids are the update's
// permanent URL, so they stay the same across renders and restarts.
func (h *Handler) handleFeed(w http.ResponseWriter, r *http.Request) {
	pg, err := h.cache.get("feed", h.cfg.Now(), func() (*rendered, error) {
		page, err := h.cfg.Status.History(r.Context(), firebreak.StatusFilter{Limit: feedSize})
		if err != nil {
			return nil, err
		}
		return h.renderFeed(page.Updates)
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pg.write(w, r, http.StatusOK, h.publicCache())
}

func (h *Handler) renderFeed(updates []firebreak.StatusUpdate) (*rendered, error) {
	feed := atomFeed{ID: h.absURL("/feed.atom"), Title: h.cfg.Title, Author: atomPerson{Name: h.cfg.Title},
		Updated: atomTime(h.started),
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: h.absURL("/feed.atom")},
			{Rel: "alternate", Type: "text/html", Href: h.absURL("/")}}}
	if len(updates) > 0 {
		feed.Updated = atomTime(updates[0].PublishedAt)
	}
	for _, u := range updates {
		link := h.absURL(threadPath(u.IncidentID))
		feed.Entries = append(feed.Entries, atomEntry{
			ID:    link + "#update-" + strconv.FormatInt(u.ID, 10),
			Title: phaseLabel(u.Phase) + ": " + u.Title, Updated: atomTime(u.PublishedAt),
			Published: atomTime(u.PublishedAt), Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: link}},
			Category: atomCat{Term: string(u.Phase)}, Content: atomText{Type: "text", Body: feedBody(u)}})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		return nil, err
	}
	return newRendered(buf.Bytes(), "application/atom+xml; charset=utf-8"), nil
}

// feedBody is an update's body with the promise of the next update.
func feedBody(u firebreak.StatusUpdate) string {
	if u.NextUpdateBy.IsZero() {
		return u.Body
	}
	return u.Body + "\n\nNext update by " + u.NextUpdateBy.UTC().Format("2006-01-02 15:04 UTC") + "."
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
