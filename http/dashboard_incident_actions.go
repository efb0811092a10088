package http

import (
	"fmt"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"firebreak"
)

// The incident page's own forms: change the incident's state, and move one
// account to another tier. Both take a required reason for the timeline,
// are audited before the change is made (refused when the trail cannot be
// written, as the API does), and send the browser back to the page. A
// refused form shows the page again, with the error next to the form and
// what was typed still in it; an unknown incident or account is a 404 page.

// Which form of the incident page was refused.
const (
	actionState = "state"
	actionMove  = "move"
)

// incidentAction is a refused form of the incident page: what was posted
// and why it was refused, in words that name the field.
type incidentAction struct {
	Kind    string // actionState or actionMove
	Account string // the account a move was for
	To      string // the state or tier chosen
	Reason  string
	Error   string
}

// noReason refuses a form without a reason.
var noReason = firebreak.FieldError{Field: "reason", Reason: "required: say why, for the timeline"}

// stateChange is the audit record of a state change made from the page.
type stateChange struct {
	State  firebreak.State `json:"state"`
	Reason string          `json:"reason"`
}

// stateForm is the incident page's state form.
type stateForm struct {
	IncidentID int64
	CSRF       string
	State      firebreak.State // the incident's state now
	Options    []option        // the states it may move to next
	Reason     string
	Error      string
}

// Allowed names the states the incident may move to next, in words.
func (f *stateForm) Allowed() string {
	names := make([]string, len(f.Options))
	for i, o := range f.Options {
		names[i] = o.Label
	}
	return strings.Join(names, ", ")
}

// tierView is one tier section as the page shows it: with a move form on
// each account row when the operator may move accounts.
type tierView struct {
	tierSection
	IncidentID int64
	CSRF       string
	CanMove    bool
	refused    *incidentAction // a refused move of one of this section's accounts
}

// canAct reports whether the page offers its state and move forms: to
// responders signed in with a session (the forms carry its CSRF token), for
// an incident that was not merged into another.
func (d *incidentPageData) canAct() bool {
	return d.Incident != nil && d.Incident.MergedInto == 0 && d.CSRF != "" && d.Role.Allows(firebreak.RoleResponder)
}

// StateForm returns the state form, or nil when the page offers none.
func (d *incidentPageData) StateForm() *stateForm {
	if !d.canAct() {
		return nil
	}
	f := &stateForm{IncidentID: d.Incident.ID, CSRF: d.CSRF, State: d.Incident.State}
	var chosen firebreak.State
	if a := d.Action; a != nil && a.Kind == actionState {
		chosen, f.Reason, f.Error = firebreak.State(a.To), a.Reason, a.Error
	}
	f.Options = options(firebreak.AllowedTransitions[d.Incident.State], chosen, false)
	return f
}

// TierViews returns the tier sections with what their move forms need.
func (d *incidentPageData) TierViews() []tierView {
	out := make([]tierView, len(d.Tiers))
	for i, sec := range d.Tiers {
		out[i] = tierView{tierSection: sec, CanMove: d.canAct(), CSRF: d.CSRF}
		if d.Incident != nil {
			out[i].IncidentID = d.Incident.ID
		}
		if a := d.Action; a != nil && a.Kind == actionMove && sec.holds(a.Account) {
			out[i].refused = a
		}
	}
	return out
}

// MoveNotice is a refused move of an account the page does not list (it
// is further down its tier), which the page shows above the tiers.
func (d *incidentPageData) MoveNotice() string {
	a := d.Action
	if a == nil || a.Kind != actionMove || slices.ContainsFunc(d.Tiers, func(s tierSection) bool { return s.holds(a.Account) }) {
		return ""
	}
	return "Account " + a.Account + " was not moved: " + a.Error
}

// holds reports whether the section lists account.
func (sec tierSection) holds(account string) bool {
	return slices.ContainsFunc(sec.Accounts, func(a firebreak.AffectedAccount) bool { return a.Account == account })
}

// MoveURL is where the move form of account posts.
func (v tierView) MoveURL(account string) string {
	return incidentURL(v.IncidentID) + "/accounts/" + url.PathEscape(account) + "/move"
}

// MoveOptions are the tiers account may move to: every tier but this one,
// the one chosen in a refused move selected.
func (v tierView) MoveOptions(account string) []option {
	var chosen firebreak.Tier
	if a := v.Refused(account); a != nil {
		chosen = firebreak.Tier(a.To)
	}
	others := slices.DeleteFunc(slices.Clone(firebreak.Tiers), func(t firebreak.Tier) bool { return t == v.Tier })
	return options(others, chosen, false)
}

// Refused returns the refused move of account, or nil.
func (v tierView) Refused(account string) *incidentAction {
	if v.refused != nil && v.refused.Account == account {
		return v.refused
	}
	return nil
}

// handleStateForm changes the incident's state from the incident page:
// state (one AllowedTransitions offers) and reason, which the store writes
// on the timeline with the change, in one transaction.
func (s *Server) handleStateForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	inc, ok := s.actionIncident(w, r)
	if !ok {
		return
	}
	to, reason := firebreak.State(r.PostForm.Get("state")), strings.TrimSpace(r.PostForm.Get("reason"))
	act := &incidentAction{Kind: actionState, To: string(to), Reason: reason}
	if err := checkStateForm(inc, to, reason); err != nil {
		s.refuseAction(w, r, inc.ID, act, err)
		return
	}
	if err := s.audit(r, firebreak.AuditIncidentUpdated, "incident/"+strconv.FormatInt(inc.ID, 10), stateChange{State: to, Reason: reason}); err != nil {
		s.refuseAction(w, r, inc.ID, act, err)
		return
	}
	if _, err := s.cfg.Incidents.Update(r.Context(), inc.ID, firebreak.IncidentUpdate{State: &to, Reason: reason}, s.actor(r)); err != nil {
		s.refuseAction(w, r, inc.ID, act, err)
		return
	}
	sendTo(w, r, incidentURL(inc.ID)+"#timeline-h")
}

// checkStateForm checks a posted state change against the incident as the
// page showed it, naming the fields: an unknown or missing state and a
// missing reason are bad input (every one reported at once); a move the
// table does not allow is a conflict that names the allowed states. The
// store checks the transition again when it writes.
func checkStateForm(inc *firebreak.Incident, to firebreak.State, reason string) error {
	var errs fieldErrors
	switch {
	case to == "":
		errs = append(errs, firebreak.FieldError{Field: "state", Reason: "required: choose the state to move to"})
	case !slices.Contains(firebreak.States, to):
		errs = append(errs, oneOf("state", firebreak.States))
	}
	if fe := formReason(reason); fe != nil {
		errs = append(errs, *fe)
	}
	if len(errs) > 0 {
		return errs
	}
	if firebreak.CanTransition(inc.State, to) != nil {
		allowed := firebreak.AllowedTransitions[inc.State]
		names := make([]string, len(allowed))
		for i, st := range allowed {
			names[i] = string(st)
		}
		fe := firebreak.FieldError{Field: "state", Reason: fmt.Sprintf("cannot move from %s to %s; allowed from %s: %s",
			inc.State, to, inc.State, strings.Join(names, ", "))}
		return &firebreak.Error{Code: firebreak.ECONFLICT, Message: fe.Error()}
	}
	return nil
}

// formReason checks the reason of a form: required, and the rules of
// free text on the timeline (checkReason).
func formReason(reason string) *firebreak.FieldError {
	if reason == "" {
		return &noReason
	}
	return checkReason(reason)
}

// handleMoveForm moves one account to another tier from its row on the
// incident page: tier and reason, which MoveAccount writes on the timeline.
func (s *Server) handleMoveForm(w nethttp.ResponseWriter, r *nethttp.Request) {
	inc, ok := s.actionIncident(w, r)
	if !ok {
		return
	}
	move := firebreak.TierMove{Account: r.PathValue("account"), To: firebreak.Tier(r.PostForm.Get("tier")),
		Reason: strings.TrimSpace(r.PostForm.Get("reason")), Actor: s.actor(r)}
	act := &incidentAction{Kind: actionMove, Account: move.Account, To: string(move.To), Reason: move.Reason}
	err := checkMoveForm(&move)
	if err == nil {
		err = s.audit(r, firebreak.AuditTierMoved, "incident/"+strconv.FormatInt(inc.ID, 10), move)
	}
	var acct *firebreak.AffectedAccount
	if err == nil {
		acct, err = s.cfg.Incidents.MoveAccount(r.Context(), inc.ID, move)
		if err == nil && acct == nil {
			err = firebreak.Errorf(firebreak.ENOTFOUND, "Account %q is not in incident %d.", move.Account, inc.ID)
		}
	}
	if err != nil {
		s.refuseAction(w, r, inc.ID, act, err)
		return
	}
	sendTo(w, r, incidentURL(inc.ID)+"#tier-"+string(acct.Tier)+"-h")
}

// checkMoveForm checks a posted tier move, naming the fields: a missing
// or unknown tier and a missing reason are reported at once.
func checkMoveForm(move *firebreak.TierMove) error {
	var errs fieldErrors
	switch {
	case move.To == "":
		errs = append(errs, firebreak.FieldError{Field: "tier", Reason: "required: choose the tier to move to"})
	case !isTier(move.To):
		errs = append(errs, oneOf("tier", firebreak.Tiers))
	}
	if fe := formReason(move.Reason); fe != nil {
		errs = append(errs, *fe)
	}
	if len(errs) > 0 {
		return errs
	}
	return validateMove(move) // the account
}

// actionIncident reads the posted form and the incident it is about; it
// renders an error page and returns false when either cannot be had, or
// when the incident was merged into another and takes no changes.
func (s *Server) actionIncident(w nethttp.ResponseWriter, r *nethttp.Request) (*firebreak.Incident, bool) {
	svc := s.pageIncidents(w, r)
	if svc == nil {
		return nil, false
	}
	id, err := parseIncidentID(r)
	if err == nil {
		err = readForm(w, r)
	}
	var inc *firebreak.Incident
	if err == nil {
		inc, err = svc.Find(r.Context(), id)
	}
	switch {
	case err == nil && inc == nil:
		err = firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", id)
	case err == nil && inc.MergedInto != 0:
		// The page offers no form to show the refusal next to.
		err = firebreak.Errorf(firebreak.ECONFLICT, "Incident %d was merged into incident %d; work on that one.", id, inc.MergedInto)
	}
	if err != nil {
		s.pageError(w, r, err)
		return nil, false
	}
	return inc, true
}

// refuseAction answers a refused form: an error page for an unknown
// incident or account, else the incident page again with the refusal next
// to the form and the status its code maps to.
func (s *Server) refuseAction(w nethttp.ResponseWriter, r *nethttp.Request, id int64, act *incidentAction, err error) {
	code, msg, fields := s.describe(w, r, err)
	if code == firebreak.ENOTFOUND {
		s.pageError(w, r, err)
		return
	}
	act.Error = noticeText(msg, fields)
	s.renderIncidentAction(w, r, ErrorStatusCode(code), id, act)
}

// renderIncidentAction renders the incident page, as renderIncident does,
// with a refused form of its own on it. renderIncident offers no way to
// hand the page more than a plan form, hence the few repeated lines.
func (s *Server) renderIncidentAction(w nethttp.ResponseWriter, r *nethttp.Request, status int, id int64, act *incidentAction) {
	data, err := s.loadIncidentPage(r.Context(), s.cfg.Incidents, id, tierPage{})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data.Action = act
	sec, err := s.loadContainSection(r.Context(), data.Incident, nil)
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
