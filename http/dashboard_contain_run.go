package http

import (
	"context"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"

	"firebreak"
)

// runView is a run with what its progress bars show.
type runView struct {
	*firebreak.Run
	Bars []stateBar
}

// stateBar is one bar of a run's progress: the items in one state.
type stateBar struct {
	State firebreak.ItemState
	Label string
	Count int64
}

func newRunView(r *firebreak.Run) *runView {
	c := r.Counts
	return &runView{Run: r, Bars: []stateBar{
		{firebreak.ItemConfirmed, "confirmed", c.Confirmed},
		{firebreak.ItemFailed, "failed", c.Failed},
		{firebreak.ItemSkipped, "skipped", c.Skipped},
		{firebreak.ItemSent, "in flight", c.Sent},
		{firebreak.ItemPending, "pending", c.Pending},
	}}
}

// Max is the bars' maximum: the run's items, at least 1 so that a run
// without items draws an empty bar rather than an invalid one.
func (v *runView) Max() int64 { return max(v.Total, 1) }

// Done is how many items reached a final state.
func (v *runView) Done() int64 { return v.Counts.Done() }

// Percent is the share of items done, for the bars' text.
func (v *runView) Percent() string {
	if v.Total == 0 {
		return "100%"
	}
	return strconv.FormatInt(100*v.Done()/v.Total, 10) + "%"
}

// StageNum is the stage being dispatched, counted from 1.
func (v *runView) StageNum() int { return v.Stage + 1 }

// StageCount is how many stages the run has.
func (v *runView) StageCount() int { return max(len(v.Spec.Stages), 1) }

// Every is how often a page refreshes the run's progress: every second
// while it runs, every five while it waits (another operator may resume
// it), and never once it is over.
func (v *runView) Every() string {
	switch {
	case v.State.Over():
		return ""
	case v.State == firebreak.RunRunning:
		return "1s"
	}
	return "5s"
}

// PollURL is the URL of the run's progress partial in one view ("bar" or
// "full"). It names the state the page shows: when the run has moved on,
// the partial asks the browser to reload the whole page instead.
func (v *runView) PollURL(view string) string {
	q := url.Values{"was": {string(v.State)}, "view": {view}}
	return "/partials/runs/" + strconv.FormatInt(v.ID, 10) + "?" + q.Encode()
}

// runPageData is what run.html renders.
type runPageData struct {
	layout
	Run     *runView
	Plan    *firebreak.Plan // the plan version the run applies
	Failed  itemList
	Skipped itemList
	Notice  string // a refusal to show, such as why a rollback was refused
}

// itemList is one page of a run's items in one state.
type itemList struct {
	State firebreak.ItemState
	Items []firebreak.RunItem
	More  string // link to the next page, if any
	First string // link back to the first page, on later pages
}

// IsResponder reports whether the signed-in principal may control runs.
func (d *runPageData) IsResponder() bool { return d.Role.Allows(firebreak.RoleResponder) }

// CanPause reports whether the run is running, and so can be paused.
func (d *runPageData) CanPause() bool { return d.Run.State == firebreak.RunRunning }

// CanResume reports whether the run waits for a resume: paused or halted.
func (d *runPageData) CanResume() bool {
	return d.Run.State == firebreak.RunPaused || d.Run.State == firebreak.RunHalted
}

// CanKill reports whether the run can still move, and so can be killed.
func (d *runPageData) CanKill() bool { return !d.Run.State.Over() }

// CanRollback reports whether the run can be rolled back now: an apply run
// that is not running and has confirmed actions.
func (d *runPageData) CanRollback() bool {
	return d.Run.Kind == firebreak.RunApply && d.Run.State != firebreak.RunRunning && d.Run.Counts.Confirmed > 0
}

// RollbackStages are the choices of a partial rollback: stages 0 up to
// each stage the run has reached.
func (d *runPageData) RollbackStages() []stageView {
	var out []stageView
	for i := 0; i <= d.Run.Stage && i < len(d.Run.Spec.Stages)-1; i++ {
		out = append(out, stageView{Index: i, Share: share(d.Run.Spec.Stages[i]),
			Reaches: firebreak.StageEnd(d.Run.Spec.Stages, i, d.Run.Total)})
	}
	return out
}

func (s *Server) handleRunPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageContainment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := r.URL.Query()
	var errs fieldErrors
	for _, name := range []string{"failed", "skipped"} {
		if len(q.Get(name)) > maxCursorLen {
			errs = append(errs, firebreak.FieldError{Field: name, Reason: "longer than " + strconv.Itoa(maxCursorLen) + " bytes"})
		}
	}
	if len(errs) > 0 {
		s.pageError(w, r, errs)
		return
	}
	data, err := s.loadRunPage(r.Context(), svc, id, q)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "run.html", data)
}

// loadRunPage reads a run, the plan version it applies, and a page of its
// failed and of its skipped items (the cursors in q: failed, skipped).
func (s *Server) loadRunPage(ctx context.Context, svc Containment, id int64, q url.Values) (*runPageData, error) {
	reads := svc.Reads()
	run, err := reads.FindRun(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &runPageData{Run: newRunView(run), Failed: itemList{State: firebreak.ItemFailed}, Skipped: itemList{State: firebreak.ItemSkipped}}
	if d.Plan, err = reads.FindPlan(ctx, run.PlanID, run.Version); err != nil {
		return nil, err
	}
	for _, list := range []*itemList{&d.Failed, &d.Skipped} {
		if err := loadItems(ctx, reads, id, list, q); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadItems reads one page of a run's items in list.State, from the cursor
// q holds under the state's name; the other list keeps its own cursor.
func loadItems(ctx context.Context, reads firebreak.ContainmentService, runID int64, list *itemList, q url.Values) error {
	name := string(list.State)
	cursor := q.Get(name)
	page, err := reads.ListItems(ctx, runID, firebreak.ItemFilter{State: list.State, Cursor: cursor, Limit: runItemPage})
	if err != nil {
		return err
	}
	list.Items = page.Items
	base := "/runs/" + strconv.FormatInt(runID, 10)
	link := func(c string) string {
		v := url.Values{}
		for _, k := range []string{"failed", "skipped"} {
			if k != name && q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		if c != "" {
			v.Set(name, c)
		}
		if len(v) == 0 {
			return base + "#" + name + "-h"
		}
		return base + "?" + v.Encode() + "#" + name + "-h"
	}
	if page.Next != "" {
		list.More = link(page.Next)
	}
	if cursor != "" {
		list.First = link("")
	}
	return nil
}

// handleRunPartial renders a run's progress for a page to swap in: the
// compact bar (view=bar) of the plan and incident pages, or the bars per
// state (view=full) of the run page. When the run's state is no longer the
// one the run page shows (was), it also tells htmx to reload that page,
// whose controls and lists depend on the state. The pages with a bar are
// not reloaded: they hold forms an operator may be filling in.
func (s *Server) handleRunPartial(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	var errs fieldErrors
	id, err := pathID(r, "id")
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	q := r.URL.Query()
	was, view := firebreak.RunState(q.Get("was")), q.Get("view")
	if was != "" && !slices.Contains(runStates, was) {
		errs = append(errs, oneOf("was", runStates))
	}
	if view != "bar" && view != "full" {
		errs = append(errs, oneOf("view", []string{"bar", "full"}))
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	run, err := svc.Reads().FindRun(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if view == "bar" {
		s.render(w, r, "run-bar", newRunView(run))
		return
	}
	if was != "" && run.State != was {
		w.Header().Set("HX-Refresh", "true")
	}
	s.render(w, r, "run-progress", newRunView(run))
}

// runStates lists every run state, for checking the partial's parameter.
var runStates = []firebreak.RunState{firebreak.RunRunning, firebreak.RunPaused,
	firebreak.RunHalted, firebreak.RunKilled, firebreak.RunFinished}
