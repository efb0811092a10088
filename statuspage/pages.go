package statuspage

import (
	"net/http"
	"strconv"
	"time"

	"firebreak"
)

// threadView is one thread as the pages show it.
type threadView struct {
	IncidentID   int64
	Title        string // the latest update's
	Phase        firebreak.Phase
	NextUpdateBy time.Time // zero when resolved
	Overdue      bool      // the promised update is late
	Updates      []firebreak.StatusUpdate
}

func newThreadView(t firebreak.StatusThread, now time.Time) threadView {
	latest := t.Latest()
	return threadView{IncidentID: t.IncidentID, Title: latest.Title, Phase: latest.Phase,
		NextUpdateBy: latest.NextUpdateBy, Updates: t.Updates,
		Overdue: latest.Phase != firebreak.PhaseResolved && now.After(latest.NextUpdateBy)}
}

type indexData struct {
	Frame   frame
	Threads []threadView
}

// handleIndex shows the current threads, or that all systems are normal.
// The page is cached; a publish followed by Invalidate shows at once.
func (h *Handler) handleIndex(w http.ResponseWriter, r *http.Request) {
	now := h.cfg.Now()
	pg, err := h.cache.get("index", now, func() (*rendered, error) {
		threads, err := h.cfg.Status.Current(r.Context())
		if err != nil {
			return nil, err
		}
		data := indexData{Frame: h.frame("Current status", now)}
		for _, t := range threads {
			data.Threads = append(data.Threads, newThreadView(t, now))
		}
		return h.render("index.html", data)
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pg.write(w, r, http.StatusOK, h.publicCache())
}

type historyData struct {
	Frame   frame
	Updates []firebreak.StatusUpdate
	Next    string // link to the next page; empty on the last
}

// handleHistory shows every update, newest first, a page at a time. Only
// the first page is cached: cursors are unbounded input.
func (h *Handler) handleHistory(w http.ResponseWriter, r *http.Request) {
	now, cursor := h.cfg.Now(), r.URL.Query().Get("cursor")
	render := func() (*rendered, error) {
		page, err := h.cfg.Status.History(r.Context(), firebreak.StatusFilter{Cursor: cursor, Limit: h.cfg.HistoryPageSize})
		if err != nil {
			return nil, err
		}
		data := historyData{Frame: h.frame("History", now), Updates: page.Updates}
		if page.Next != "" {
			data.Next = h.path + "/history?cursor=" + page.Next
		}
		return h.render("history.html", data)
	}
	var pg *rendered
	var err error
	if cursor == "" {
		pg, err = h.cache.get("history", now, render)
	} else {
		pg, err = render()
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pg.write(w, r, http.StatusOK, h.publicCache())
}

type threadData struct {
	Frame  frame
	Thread threadView
}

// handleIncident shows one incident's updates. An incident without public
// updates is 404, exactly as an unknown one.
func (h *Handler) handleIncident(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.writeError(w, r, firebreak.Errorf(firebreak.ENOTFOUND, "There is no such incident."))
		return
	}
	h.serveThread(w, r, id)
}

// handleNotices shows the general notices (thread 0).
func (h *Handler) handleNotices(w http.ResponseWriter, r *http.Request) { h.serveThread(w, r, 0) }

func (h *Handler) serveThread(w http.ResponseWriter, r *http.Request, id int64) {
	now := h.cfg.Now()
	t, err := h.cfg.Status.Thread(r.Context(), id)
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		err = firebreak.Errorf(firebreak.ENOTFOUND, "There is no such incident.")
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	view := newThreadView(*t, now)
	pg, err := h.render("thread.html", threadData{Frame: h.frame(view.Title, now), Thread: view})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	pg.write(w, r, http.StatusOK, h.publicCache())
}
