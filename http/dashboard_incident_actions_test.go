package http_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
	"firebreak/sqlite"
)

// actionPages is a server with operators and sessions over a real SQLite
// incident store holding one incident (accounts c0 c1, r0 r1, g0 g1 g2):
// alice responds, vera views.
type actionPages struct {
	*authFixture
	incs     *sqlite.IncidentStore
	incident *firebreak.Incident
	sessions map[string][2]string // name → cookie, CSRF token
}

func newActionPages(t *testing.T) *actionPages {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "incidents.db"))
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &actionPages{incs: sqlite.NewIncidentStore(db), sessions: map[string][2]string{}}
	f.authFixture = newAuthFixture(t, func(c *fbhttp.Config) { c.Incidents = f.incs })
	db.Now = f.clock.Now
	f.incident = seedPageIncident(t, f.incs, planSize{compromised: 2, atRisk: 2, targeted: 3})
	for name, role := range map[string]firebreak.Role{"alice": firebreak.RoleResponder, "vera": firebreak.RoleViewer} {
		f.operator(t, name, role)
		cookie, csrf := f.session(t, name)
		f.sessions[name] = [2]string{cookie, csrf}
	}
	return f
}

// url is the incident page's URL followed by rest.
func (f *actionPages) url(rest string) string {
	return fmt.Sprintf("/incidents/%d%s", f.incident.ID, rest)
}

// post posts a form as name's session, with its CSRF token unless noCSRF.
func (f *actionPages) post(name, target string, form url.Values, noCSRF bool) *httptest.ResponseRecorder {
	if !noCSRF {
		form.Set("csrf", f.sessions[name][1])
	}
	return f.do("POST", target, []byte(form.Encode()),
		append(sessionHeaders(f.sessions[name][0], ""), "Content-Type", "application/x-www-form-urlencoded")...)
}

// page gets the incident page as name.
func (f *actionPages) page(t *testing.T, name string) string {
	t.Helper()
	return checkPage(t, f.do("GET", f.url(""), nil, sessionHeaders(f.sessions[name][0], "")...), 200)
}

// snapshot is what the forms may change: the state, the tier of every
// account, and the timeline's length.
type snapshot struct {
	state    firebreak.State
	tiers    string
	timeline int
}

func (f *actionPages) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	inc, err := f.incs.Find(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.incs.ListAccounts(ctx, f.incident.ID, firebreak.AccountFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var tiers []string
	for _, a := range page.Accounts {
		tiers = append(tiers, a.Account+"="+string(a.Tier))
	}
	slices.Sort(tiers)
	entries, err := f.incs.Timeline(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{state: inc.State, tiers: strings.Join(tiers, " "), timeline: len(entries)}
}

// lastEntries returns the newest n timeline entries, oldest first.
func (f *actionPages) lastEntries(t *testing.T, n int) []firebreak.TimelineEntry {
	t.Helper()
	entries, err := f.incs.Timeline(context.Background(), f.incident.ID)
	if err != nil || len(entries) < n {
		t.Fatalf("timeline: %d entries, %v; want at least %d", len(entries), err, n)
	}
	return entries[len(entries)-n:]
}

// refusal is a post the page must refuse, and what it must say.
type refusal struct {
	name, who, target string
	noCSRF            bool
	status            int
	want              string
}

// refused posts form for each refusal and checks the status, the message
// and that nothing in the store changed.
func (f *actionPages) refused(t *testing.T, form url.Values, refusals []refusal) {
	t.Helper()
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot(t)
			body := checkPage(t, f.post(tt.who, tt.target, form, tt.noCSRF), tt.status)
			containsAll(t, body, tt.want)
			if after := f.snapshot(t); after != before {
				t.Errorf("refused post changed %+v to %+v", before, after)
			}
		})
	}
}

// section returns the part of body from the first from to the next to.
func section(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	if i < 0 {
		t.Fatalf("page lacks %q", from)
	}
	j := strings.Index(body[i:], to)
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

func TestIncidentStateForm(t *testing.T) {
	f := newActionPages(t)
	t.Run("offers only the allowed next states", func(t *testing.T) {
		form := section(t, f.page(t, "alice"), `id="state"`, "</section>")
		containsAll(t, form, `action="`+f.url("/state")+`"`, `name="csrf" value="`+f.sessions["alice"][1]+`"`,
			`<option value="triaged">triaged</option><option value="resolved">resolved</option></select>`,
			"allowed next: triaged, resolved", `name="reason"`, "required")
	})
	t.Run("viewers see no form", func(t *testing.T) {
		if body := f.page(t, "vera"); strings.Contains(body, `id="state"`) || strings.Contains(body, "move-form") {
			t.Errorf("a viewer is offered the state or move forms")
		}
	})
	t.Run("changes the state with the reason on the timeline", func(t *testing.T) {
		reason := "Confirmed stuffing from AS 64500 " + hostile
		w := f.post("alice", f.url("/state"), url.Values{"state": {"triaged"}, "reason": {reason}}, false)
		if w.Code != 303 || w.Header().Get("Location") != f.url("#timeline-h") {
			t.Fatalf("POST = %d, Location %q; body %.500s", w.Code, w.Header().Get("Location"), w.Body)
		}
		if got := f.snapshot(t).state; got != firebreak.StateTriaged {
			t.Errorf("state = %s, want triaged", got)
		}
		// One entry, written with the change: the change and its reason.
		got := f.lastEntries(t, 1)[0]
		if got.Kind != firebreak.EntryStateChanged || got.Actor != "alice" || got.Data["to"] != "triaged" ||
			got.Data["reason"] != reason || !strings.Contains(got.Message, reason) {
			t.Errorf("entry = %+v, want state_changed to triaged by alice with the reason", got)
		}
		if acts := f.audit.actions(); !slices.Contains(acts, "alice incident.updated incident/1") {
			t.Errorf("audit = %q, want the state change by alice", acts)
		}
		body := f.page(t, "vera")
		containsAll(t, section(t, body, `id="timeline-h"`, "</section>"), "State detected → triaged. Reason: Confirmed stuffing from AS 64500 "+escapedHostile)
		if strings.Contains(body, hostile) {
			t.Errorf("the reason is not escaped")
		}
		containsAll(t, section(t, f.page(t, "alice"), `id="state"`, "</section>"),
			`<option value="contained">contained</option><option value="resolved">resolved</option></select>`)
	})
}

func TestIncidentStateFormRefused(t *testing.T) {
	f := newActionPages(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"missing reason", url.Values{"state": {"triaged"}, "reason": {"  "}}, 400, "field reason: required"},
		{"missing state", url.Values{"reason": {"checked"}}, 400, "field state: required"},
		{"unknown state", url.Values{"state": {"closed"}, "reason": {"checked"}}, 400,
			"field state: must be one of detected, triaged, contained, recovered, resolved"},
		{"both at once", url.Values{"state": {"closed"}}, 400, "field state: must be one of detected, triaged, contained, recovered, resolved; field reason: required"},
		{"control character in the reason", url.Values{"state": {"triaged"}, "reason": {"a\x00b"}}, 400, "field reason: control character not allowed"},
		{"disallowed state", url.Values{"state": {"contained"}, "reason": {"locked them all"}}, 409,
			"field state: cannot move from detected to contained; allowed from detected: triaged, resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, audited := f.snapshot(t), len(f.audit.actions())
			body := checkPage(t, f.post("alice", f.url("/state"), tt.form, false), tt.status)
			form := section(t, body, `id="state"`, "</section>")
			containsAll(t, form, "State not changed: "+tt.want, `<option value="triaged"`, `<option value="resolved"`)
			if strings.Contains(form, `<option value="contained"`) {
				t.Errorf("the refused form offers a state not allowed")
			}
			if r := tt.form.Get("reason"); strings.TrimSpace(r) != "" && !strings.Contains(r, "\x00") && !strings.Contains(form, ">"+r+"</textarea>") {
				t.Errorf("the form lost the reason typed")
			}
			containsAll(t, body, "Affected accounts", `id="timeline-h"`) // the whole page again
			if after := f.snapshot(t); after != before {
				t.Errorf("refused form changed %+v to %+v", before, after)
			}
			if n := len(f.audit.actions()); n != audited {
				t.Errorf("refused form wrote %d audit records", n-audited)
			}
		})
	}
	t.Run("disallowed state keeps the state chosen", func(t *testing.T) {
		// A stale page: another operator resolved the incident meanwhile.
		w := f.post("alice", f.url("/state"), url.Values{"state": {"resolved"}, "reason": {"false positive"}}, false)
		if w.Code != 303 {
			t.Fatalf("resolve = %d", w.Code)
		}
		body := checkPage(t, f.post("alice", f.url("/state"), url.Values{"state": {"contained"}, "reason": {"stale page"}}, false), 409)
		containsAll(t, section(t, body, `id="state"`, "</section>"),
			"field state: cannot move from resolved to contained; allowed from resolved: triaged", `<option value="triaged">triaged</option></select>`)
	})
	f.refused(t, url.Values{"state": {"triaged"}, "reason": {"reopen"}}, []refusal{
		{"unknown incident", "alice", "/incidents/99/state", false, 404, "Incident 99 not found."},
		{"bad incident id", "alice", "/incidents/x/state", false, 400, "id: must be a positive integer"},
		{"viewer", "vera", f.url("/state"), false, 403, "This needs the responder role; vera has the viewer role."},
		{"missing CSRF", "alice", f.url("/state"), true, 403, "The CSRF token is missing or wrong"},
	})
	t.Run("audit trail down", func(t *testing.T) {
		f.audit.fail(errors.New("disk full"))
		defer f.audit.fail(nil)
		before := f.snapshot(t)
		body := checkPage(t, f.post("alice", f.url("/state"), url.Values{"state": {"triaged"}, "reason": {"reopen"}}, false), 503)
		containsAll(t, body, "State not changed: The audit trail cannot be written, so the change was not made.")
		if after := f.snapshot(t); after != before {
			t.Errorf("unaudited change %+v to %+v", before, after)
		}
	})
}

func TestIncidentMoveForm(t *testing.T) {
	f := newActionPages(t)
	t.Run("each row offers the other tiers", func(t *testing.T) {
		body := f.page(t, "alice")
		row := section(t, body, `action="`+f.url("/accounts/c0/move")+`"`, "</form>")
		containsAll(t, row, `name="csrf" value="`+f.sessions["alice"][1]+`"`,
			`aria-label="Move c0 to"><option value="at_risk">at risk</option><option value="targeted">targeted</option></select>`,
			`name="reason" required`)
		containsAll(t, section(t, body, `action="`+f.url("/accounts/g2/move")+`"`, "</form>"),
			`<option value="compromised">compromised</option><option value="at_risk">at risk</option></select>`)
	})
	t.Run("moves the account with the reason on the timeline", func(t *testing.T) {
		w := f.post("alice", f.url("/accounts/c0/move"), url.Values{"tier": {"targeted"}, "reason": {"Appeal upheld: travelling"}}, false)
		if w.Code != 303 || w.Header().Get("Location") != f.url("#tier-targeted-h") {
			t.Fatalf("POST = %d, Location %q; body %.500s", w.Code, w.Header().Get("Location"), w.Body)
		}
		if got := f.snapshot(t).tiers; !strings.Contains(got, "c0=targeted") {
			t.Errorf("tiers = %s, want c0 targeted", got)
		}
		e := f.lastEntries(t, 1)[0]
		if e.Kind != firebreak.EntryTierMoved || e.Actor != "alice" || e.Data["reason"] != "Appeal upheld: travelling" {
			t.Errorf("entry = %+v, want tier_moved by alice with the reason", e)
		}
		if acts := f.audit.actions(); !slices.Contains(acts, "alice incident.tier_moved incident/1") {
			t.Errorf("audit = %q, want the move by alice", acts)
		}
		body := f.page(t, "vera")
		containsAll(t, section(t, body, `id="timeline-h"`, "</section>"), "Moved account c0 from compromised to targeted: Appeal upheld: travelling")
		containsAll(t, section(t, body, `id="tier-targeted-h"`, "</section>"), `href="/accounts/c0"`, "(moved by alice)")
	})
	t.Run("an account name is escaped in the form's URL", func(t *testing.T) {
		if err := f.incs.UpsertAccounts(context.Background(), f.incident.ID, []firebreak.AffectedAccount{{Account: "a/b c", Tier: firebreak.TierTargeted,
			Confidence: 0.5, Evidence: "test", FirstSeen: now, LastSeen: now}}); err != nil {
			t.Fatal(err)
		}
		target := f.url("/accounts/a%2Fb%20c/move")
		containsAll(t, f.page(t, "alice"), `action="`+target+`"`)
		if w := f.post("alice", target, url.Values{"tier": {"at_risk"}, "reason": {"reused password"}}, false); w.Code != 303 {
			t.Fatalf("POST = %d; body %.300s", w.Code, w.Body)
		}
		if got := f.snapshot(t).tiers; !strings.Contains(got, "a/b c=at_risk") {
			t.Errorf("tiers = %s, want a/b c at risk", got)
		}
	})
}

func TestIncidentMoveFormRefused(t *testing.T) {
	f := newActionPages(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"missing reason", url.Values{"tier": {"targeted"}}, 400, "field reason: required"},
		{"missing tier", url.Values{"reason": {"appeal"}}, 400, "field tier: required"},
		{"unknown tier", url.Values{"tier": {"clean"}, "reason": {"appeal"}}, 400, "field tier: must be one of compromised, at_risk, targeted"},
		{"both at once", url.Values{"tier": {"clean"}, "reason": {" "}}, 400, "field tier: must be one of compromised, at_risk, targeted; field reason: required"},
		{"its own tier", url.Values{"tier": {"at_risk"}, "reason": {"appeal"}}, 409, `Account &#34;r1&#34; is already at_risk in incident 1.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, audited := f.snapshot(t), len(f.audit.actions())
			body := checkPage(t, f.post("alice", f.url("/accounts/r1/move"), tt.form, false), tt.status)
			// The error sits in r1's row, which keeps what was typed.
			row := section(t, body, `action="`+f.url("/accounts/r1/move")+`"`, "</form>")
			containsAll(t, row, "Not moved: "+tt.want)
			if r := strings.TrimSpace(tt.form.Get("reason")); r != "" && !strings.Contains(row, `value="`+r+`"`) {
				t.Errorf("the row lost the reason typed")
			}
			if tier := tt.form.Get("tier"); tier == "targeted" && !strings.Contains(row, `<option value="targeted" selected>`) {
				t.Errorf("the row lost the tier chosen")
			}
			if strings.Count(body, "Not moved:") != 1 || strings.Contains(body, `id="move-error"`) {
				t.Errorf("the error is not in one row only")
			}
			if after := f.snapshot(t); after != before {
				t.Errorf("refused form changed %+v to %+v", before, after)
			}
			if tt.status == 400 && len(f.audit.actions()) != audited {
				t.Errorf("bad input was audited")
			}
		})
	}
	t.Run("an account the page does not list", func(t *testing.T) {
		body := checkPage(t, f.post("alice", f.url("/accounts/nobody/move"), url.Values{"tier": {"targeted"}}, false), 400)
		containsAll(t, body, `id="move-error"`, "Account nobody was not moved: field reason: required")
	})
	f.refused(t, url.Values{"tier": {"targeted"}, "reason": {"appeal"}}, []refusal{
		{"unknown account", "alice", f.url("/accounts/nobody/move"), false, 404, `Account &#34;nobody&#34; is not in incident 1.`},
		{"unknown incident", "alice", "/incidents/99/accounts/c0/move", false, 404, "Incident 99 not found."},
		{"viewer", "vera", f.url("/accounts/c0/move"), false, 403, "This needs the responder role; vera has the viewer role."},
		{"missing CSRF", "alice", f.url("/accounts/c0/move"), true, 403, "The CSRF token is missing or wrong"},
	})
	t.Run("audit trail down", func(t *testing.T) {
		f.audit.fail(errors.New("disk full"))
		defer f.audit.fail(nil)
		before := f.snapshot(t)
		body := checkPage(t, f.post("alice", f.url("/accounts/c0/move"), url.Values{"tier": {"targeted"}, "reason": {"appeal"}}, false), 503)
		containsAll(t, section(t, body, `action="`+f.url("/accounts/c0/move")+`"`, "</form>"),
			"Not moved: The audit trail cannot be written, so the change was not made.")
		if after := f.snapshot(t); after != before {
			t.Errorf("unaudited change %+v to %+v", before, after)
		}
	})
}

func TestIncidentFormsMerged(t *testing.T) {
	f := newActionPages(t)
	other := seedPageIncident(t, f.incs, planSize{compromised: 1})
	if _, err := f.incs.Merge(context.Background(), other.ID, f.incident.ID, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	body := f.page(t, "alice")
	if strings.Contains(body, `id="state"`) {
		t.Errorf("a merged incident offers the state form")
	}
	if strings.Contains(body, "move-form") {
		t.Errorf("a merged incident offers move forms")
	}
	for _, target := range []string{f.url("/state"), f.url("/accounts/c0/move")} {
		before, audited := f.snapshot(t), len(f.audit.actions())
		body := checkPage(t, f.post("alice", target, url.Values{"state": {"triaged"}, "tier": {"targeted"}, "reason": {"reopen"}}, false), 409)
		containsAll(t, body, fmt.Sprintf("Incident %d was merged into incident %d; work on that one.", f.incident.ID, other.ID))
		if after := f.snapshot(t); after != before || len(f.audit.actions()) != audited {
			t.Errorf("POST %s to a merged incident changed %+v to %+v, or was audited", target, before, after)
		}
	}
}

// TestIncidentStateFormSendsReason checks that the form hands the reason to
// the store with the change, one write: nothing is left half-applied.
func TestIncidentStateFormSendsReason(t *testing.T) {
	f := newAuthFixture(t)
	f.incidents.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	var updated []firebreak.IncidentUpdate
	f.incidents.UpdateFn = func(_ context.Context, id int64, upd firebreak.IncidentUpdate, actor string) (*firebreak.Incident, error) {
		updated = append(updated, upd)
		return incident(id), nil
	}
	f.incidents.AddEntryFn = func(context.Context, int64, firebreak.TimelineEntry) (*firebreak.TimelineEntry, error) {
		t.Error("the form wrote a separate timeline entry")
		return nil, nil
	}
	f.operator(t, "alice", firebreak.RoleResponder)
	cookie, csrf := f.session(t, "alice")
	form := url.Values{"state": {"triaged"}, "reason": {"confirmed"}, "csrf": {csrf}}
	w := f.do("POST", "/incidents/3/state", []byte(form.Encode()),
		append(sessionHeaders(cookie, ""), "Content-Type", "application/x-www-form-urlencoded")...)
	if w.Code != 303 || len(updated) != 1 || updated[0].Reason != "confirmed" || updated[0].State == nil || *updated[0].State != firebreak.StateTriaged {
		t.Errorf("POST = %d, updates %+v; want one update to triaged carrying the reason", w.Code, updated)
	}
}
