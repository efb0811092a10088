package http

import (
	"context"
	"fmt"
	"math"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// Page sizes of the containment pages.
const (
	// planTargetSample is how many targets the plan page lists.
	planTargetSample = 50
	// runItemPage is how many failed or skipped items the run page lists
	// per page.
	runItemPage = 50
)

// containSection is the Containment section of the incident page: the
// incident's plans and the form that writes a new one.
type containSection struct {
	Unavailable string // why there is no containment on this server; empty when there is
	Closed      string // why the incident takes no new plan (resolved, merged); empty when it does
	Plans       []planRow
	Form        *planForm
}

// planRow is one plan in the incident's list.
type planRow struct {
	Plan     *firebreak.Plan
	Approval approvalState
	Latest   *runView // the newest run; nil before the first
}

// approvalState says whether a plan version may run as far as approval
// goes, in words.
type approvalState struct {
	OK    bool   // needs no approval, or holds a valid one
	Label string // "not needed", "approved by bob", "awaiting approval"
	Why   string // why it may not run yet, when not OK
}

// incidentContainData is what incident.html renders: the incident page
// with its Containment section.
type incidentContainData struct {
	*incidentPageData
	Contain *containSection
	Status  *statusSection
}

// CanPlan reports whether the page offers the plan form: to responders,
// on a server with containment, for an incident that is still open.
func (d *incidentContainData) CanPlan() bool {
	return d.Contain.Form != nil && d.Contain.Closed == "" && d.Role.Allows(firebreak.RoleResponder)
}

func (s *Server) handleIncidentContainPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	id, err := parseIncidentID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.renderIncident(w, r, nethttp.StatusOK, id, nil)
}

// renderIncident renders the incident page with status, and with form in
// the Containment section (nil: a fresh form with the defaults).
func (s *Server) renderIncident(w nethttp.ResponseWriter, r *nethttp.Request, status int, id int64, form *planForm) {
	svc := s.pageIncidents(w, r)
	if svc == nil {
		return
	}
	tp, err := parseTierPage(r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data, err := s.loadIncidentPage(r.Context(), svc, id, tp)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	sec, err := s.loadContainSection(r.Context(), data.Incident, form)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if sec.Form != nil {
		sec.Form.CSRF = layoutFor(r).CSRF
	}
	s.renderStatus(w, r, status, "incident.html", &incidentContainData{incidentPageData: data, Contain: sec,
		Status: s.loadStatusSection(r, data.Incident)})
}

// loadContainSection reads the incident's plans, each with its approval
// state and newest run.
func (s *Server) loadContainSection(ctx context.Context, inc *firebreak.Incident, form *planForm) (*containSection, error) {
	svc := s.cfg.Containment
	if svc == nil {
		return &containSection{Unavailable: "Containment is not available: this server runs without a containment service."}, nil
	}
	if form == nil {
		form = newPlanForm(inc)
	}
	sec := &containSection{Form: form}
	switch {
	case inc.MergedInto != 0:
		sec.Closed = fmt.Sprintf("Incident %d was merged into incident %d: plan containment there.", inc.ID, inc.MergedInto)
	case inc.State == firebreak.StateResolved:
		sec.Closed = fmt.Sprintf("Incident %d is resolved: reopen it to plan containment.", inc.ID)
	}
	plans, err := svc.Reads().ListPlans(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		row := planRow{Plan: p, Approval: s.approvalState(ctx, svc, p)}
		runs, err := svc.Reads().ListRuns(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if len(runs) > 0 {
			row.Latest = newRunView(runs[0])
		}
		sec.Plans = append(sec.Plans, row)
	}
	return sec, nil
}

// approvalState asks the service whether p may run and says so in words.
func (s *Server) approvalState(ctx context.Context, svc Containment, p *firebreak.Plan) approvalState {
	if !p.Preview.NeedsApproval {
		return approvalState{OK: true, Label: "not needed"}
	}
	if err := svc.Runnable(ctx, p); err != nil {
		return approvalState{Label: "awaiting approval", Why: firebreak.ErrorMessage(err)}
	}
	st := approvalState{OK: true, Label: "approved"}
	list, err := svc.Reads().Approvals(ctx, p.ID)
	if err != nil {
		return st
	}
	for i := len(list) - 1; i >= 0; i-- {
		if a := list[i]; a.Version == p.Version && a.Hash == p.Hash && a.Approver != p.Author {
			st.Label = "approved by " + a.Approver
			break
		}
	}
	return st
}

// planPageData is what plan.html renders.
type planPageData struct {
	layout
	Plan      *firebreak.Plan
	Latest    int    // the plan's latest version; Plan may be an older one
	HashShort string // the first 12 hex digits of the hash
	Steps     []stepView
	Preview   []actionView
	Stages    []stageView
	Approval  approvalState
	Approvals []approvalView
	Targets   []firebreak.PlanTarget
	MoreURL   string // the JSON API's list of every target
	Runs      []*runView
	Active    *firebreak.Run // a run that can still move, which blocks a new one
	// Notice is a refusal to show, such as the server's reason for
	// refusing an approval.
	Notice string
}

// IsLatest reports whether the page shows the plan's latest version, the
// only one that can be approved or run.
func (d *planPageData) IsLatest() bool { return d.Plan.Version == d.Latest }

// IsAuthor reports whether the signed-in operator wrote this version.
func (d *planPageData) IsAuthor() bool { return d.Operator != "" && d.Operator == d.Plan.Author }

// CanApprove reports whether the page offers the approve form: to
// approvers, for the latest version that needs approval and holds no valid
// one yet, never to its author. The server enforces the rules that matter
// (the author, the version) when the form is posted.
func (d *planPageData) CanApprove() bool {
	return d.IsLatest() && d.Plan.Preview.NeedsApproval && !d.Approval.OK && !d.IsAuthor() && d.Role.Allows(firebreak.RoleApprover)
}

// TargetCount is how many actions the plan version holds: what its last
// stage reaches.
func (d *planPageData) TargetCount() int64 {
	if n := len(d.Plan.Preview.StageSizes); n > 0 {
		return d.Plan.Preview.StageSizes[n-1]
	}
	return 0
}

// CanRun reports whether the Run button is enabled, and RunBlocked why not.
func (d *planPageData) CanRun() bool { return d.RunBlocked() == "" }

// RunBlocked says why the plan cannot run now; empty when it can.
func (d *planPageData) RunBlocked() string {
	switch {
	case !d.IsLatest():
		return "Only the latest version (v" + strconv.Itoa(d.Latest) + ") can run."
	case d.Active != nil:
		return "Run " + strconv.FormatInt(d.Active.ID, 10) + " is " + string(d.Active.State) + "; kill or finish it before starting another."
	case !d.Approval.OK:
		return d.Approval.Why
	}
	return ""
}

// IsResponder reports whether the signed-in principal may write and run plans.
func (d *planPageData) IsResponder() bool { return d.Role.Allows(firebreak.RoleResponder) }

// stepView is one step of a plan in words.
type stepView struct {
	Select   string
	Actions  []firebreak.ActionKind
	Duration string
}

// actionView is one row of the preview.
type actionView struct {
	firebreak.ActionPreview
	OnSource bool
}

// stageView is one stage of a plan: its share and the targets it reaches.
type stageView struct {
	Index   int    // from 0, as the service counts stages
	Share   string // "10%"
	Reaches int64  // cumulative targets
}

// Num is the stage counted from 1, as the pages show it.
func (v stageView) Num() int { return v.Index + 1 }

// approvalView is one approval as the plan page lists it.
type approvalView struct {
	firebreak.Approval
	Current bool // for the version and hash on the page
	Expired bool
}

func (s *Server) handlePlanPage(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.pageContainment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			s.pageError(w, r, fieldErrors{{Field: "version", Reason: "must be a positive integer"}})
			return
		}
	}
	data, err := s.loadPlanPage(r.Context(), svc, id, version)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "plan.html", data)
}

// pageContainment returns the containment service, or renders a 503 page
// and returns nil when the server runs without one.
func (s *Server) pageContainment(w nethttp.ResponseWriter, r *nethttp.Request) Containment {
	if s.cfg.Containment == nil {
		s.pageError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Containment is not available: this server runs without a containment service."))
	}
	return s.cfg.Containment
}

// loadPlanPage reads a plan version (0: the latest) with its approvals, a
// sample of its targets and its runs.
func (s *Server) loadPlanPage(ctx context.Context, svc Containment, id int64, version int) (*planPageData, error) {
	reads := svc.Reads()
	latest, err := reads.FindPlan(ctx, id, 0)
	if err != nil {
		return nil, err
	}
	p := latest
	if version != 0 && version != latest.Version {
		if p, err = reads.FindPlan(ctx, id, version); err != nil {
			return nil, err
		}
	}
	d := &planPageData{Plan: p, Latest: latest.Version, HashShort: shortHash(p.Hash), Steps: stepViews(p.Spec),
		MoreURL: "/api/v1/plans/" + strconv.FormatInt(id, 10) + "/targets?version=" + strconv.Itoa(p.Version)}
	for _, a := range p.Preview.Actions {
		info, _ := a.Action.Info()
		d.Preview = append(d.Preview, actionView{ActionPreview: a, OnSource: info.OnSource})
	}
	for i, n := range p.Preview.StageSizes {
		if i < len(p.Spec.Stages) {
			d.Stages = append(d.Stages, stageView{Index: i, Share: share(p.Spec.Stages[i]), Reaches: n})
		}
	}
	if p == latest {
		d.Approval = s.approvalState(ctx, svc, p)
	}
	approvals, err := reads.Approvals(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	for i := len(approvals) - 1; i >= 0; i-- { // newest first
		a := approvals[i]
		d.Approvals = append(d.Approvals, approvalView{Approval: a, Current: a.Version == p.Version && a.Hash == p.Hash, Expired: !now.Before(a.ExpiresAt)})
	}
	if d.Targets, err = reads.PlanTargets(ctx, id, p.Version, -1, planTargetSample); err != nil {
		return nil, err
	}
	runs, err := reads.ListRuns(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, newRunView(run))
		if !run.State.Over() && d.Active == nil {
			d.Active = run
		}
	}
	return d, nil
}

// stepViews says what each step of a spec selects, in words.
func stepViews(spec firebreak.PlanSpec) []stepView {
	var out []stepView
	for _, st := range spec.Steps {
		v := stepView{Actions: st.Actions}
		switch sel := st.Select; {
		case sel.Sources:
			v.Select = "the incident's addresses and prefixes"
		case sel.Tier != "" && sel.MinConfidence > 0:
			v.Select = label(string(sel.Tier)) + " accounts at least " + share(sel.MinConfidence) + " sure"
		case sel.Tier != "":
			v.Select = label(string(sel.Tier)) + " accounts"
		default:
			v.Select = strconv.Itoa(len(sel.Accounts)) + " named accounts"
		}
		if st.Duration.Duration > 0 {
			v.Duration = formatDuration(st.Duration.Duration)
		}
		out = append(out, v)
	}
	return out
}

// shortHash is the first 12 hex digits of a hash, as the timeline shows it.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// share formats a share as a percentage without needless decimals: 0.01
// is "1%", 0.125 is "12.5%".
func share(v float64) string {
	return strconv.FormatFloat(math.Round(v*10000)/100, 'f', -1, 64) + "%"
}

// formatDuration writes a duration as an operator would type it: "24h",
// "90m", "1h30m".
func formatDuration(d time.Duration) string {
	s := d.String() // "24h0m0s", "1h30m0s", "90s"
	if rest, ok := strings.CutSuffix(s, "m0s"); ok {
		s = rest + "m"
	}
	if rest, ok := strings.CutSuffix(s, "h0m"); ok {
		s = rest + "h"
	}
	return s
}
