package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
	fbhttp "firebreak/http"
	"firebreak/idp"
	"firebreak/sqlite"
)

// planPages is a server with operators, a real SQLite incident and
// containment store, and a real containment service over a simulated
// identity provider. It holds one incident.
type planPages struct {
	*authFixture
	incs     *sqlite.IncidentStore
	store    *sqlite.ContainmentStore
	svc      *contain.Service
	sim      *idp.Sim
	incident *firebreak.Incident
	sessions map[string][2]string // name → cookie, CSRF token
}

// planSize sizes the fixture's incident.
type planSize struct{ compromised, atRisk, targeted int }

func newPlanPages(t testing.TB, size planSize, cfg contain.Config, sim idp.SimConfig) *planPages {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "contain.db"))
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &planPages{incs: sqlite.NewIncidentStore(db), store: sqlite.NewContainmentStore(db),
		sim: idp.NewSim(sim), sessions: map[string][2]string{}}
	// The service reads the server's fake clock, which the auth fixture
	// creates: it is looked up on each call.
	cfg.Now = func() time.Time { return f.clock.Now() }
	f.svc = contain.NewService(cfg)
	f.svc.Incidents, f.svc.Store = f.incs, f.store
	f.svc.Connectors = map[string]firebreak.Connector{"": f.sim}
	t.Cleanup(func() { f.svc.Close() })
	f.authFixture = newAuthFixture(t, func(c *fbhttp.Config) {
		c.Incidents, c.Containment = f.incs, f.svc
	})
	f.svc.Auditor, db.Now = f.audit, f.clock.Now
	f.incident = seedPageIncident(t, f.incs, size)
	for name, role := range map[string]firebreak.Role{"alice": firebreak.RoleResponder, "bob": firebreak.RoleApprover,
		"carol": firebreak.RoleApprover, "vera": firebreak.RoleViewer} {
		f.operator(t, name, role)
		cookie, csrf := f.session(t, name)
		f.sessions[name] = [2]string{cookie, csrf}
	}
	return f
}

// seedPageIncident stores an incident with accounts c0..., r0..., g0...
// (compromised, at risk, targeted), a prefix and an ASN.
func seedPageIncident(t testing.TB, store *sqlite.IncidentStore, size planSize) *firebreak.Incident {
	t.Helper()
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: now.Add(-time.Hour), LastSeen: now,
		Sources: []firebreak.IncidentSource{
			{Kind: firebreak.SourcePrefix, Value: "203.0.113.0/24", Attempts: 100, Failures: 90, Accounts: 80},
			{Kind: firebreak.SourceASN, Value: "64500", Attempts: 100, Failures: 90, Accounts: 80},
		}}
	if err := store.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	var accounts []firebreak.AffectedAccount
	for _, tier := range []struct {
		prefix string
		n      int
		tier   firebreak.Tier
		conf   float64
	}{{"c", size.compromised, firebreak.TierCompromised, 0.95}, {"r", size.atRisk, firebreak.TierAtRisk, 0.7}, {"g", size.targeted, firebreak.TierTargeted, 0.5}} {
		for i := range tier.n {
			accounts = append(accounts, firebreak.AffectedAccount{Account: fmt.Sprintf("%s%d", tier.prefix, i), Tier: tier.tier,
				Confidence: tier.conf, Evidence: "test", FirstSeen: now, LastSeen: now})
		}
	}
	for len(accounts) > 0 {
		n := min(len(accounts), firebreak.MaxBatch)
		if err := store.UpsertAccounts(ctx, inc.ID, accounts[:n]); err != nil {
			t.Fatal(err)
		}
		accounts = accounts[n:]
	}
	got, err := store.Find(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// as sends a request as the named operator's session, with its CSRF token
// in the form (posts) and, for htmx, the HX-Request header.
func (f *planPages) as(name, method, target string, form url.Values, htmx bool) *httptest.ResponseRecorder {
	s := f.sessions[name]
	headers := sessionHeaders(s[0], "")
	var body []byte
	if method == "POST" {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", s[1])
		body = []byte(form.Encode())
		headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		headers = append(headers, "HX-Request", "true", "X-CSRF-Token", s[1])
	}
	return f.do(method, target, body, headers...)
}

// page gets a page as name and checks that it is one.
func (f *planPages) page(t *testing.T, name, target string, status int) string {
	t.Helper()
	return checkPage(t, f.as(name, "GET", target, nil, false), status)
}

// plan writes the usual plan as author: reset and sign out the
// compromised, step up the at-risk.
func (f *planPages) plan(t testing.TB, author string, edit ...func(*firebreak.PlanSpec)) *firebreak.Plan {
	t.Helper()
	spec := firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	for _, e := range edit {
		e(&spec)
	}
	p, err := f.svc.CreatePlan(context.Background(), f.incident.ID, spec, author)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wait waits until a run stops being dispatched and returns it.
func (f *planPages) wait(t *testing.T, id int64) *firebreak.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.svc.Wait(ctx, id); err != nil {
		t.Fatal(err)
	}
	r, err := f.store.FindRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bindForm is the form that names an exact plan version.
func bindForm(p *firebreak.Plan) url.Values {
	return url.Values{"version": {fmt.Sprint(p.Version)}, "hash": {p.Hash}}
}

func TestIncidentContainment(t *testing.T) {
	f := newPlanPages(t, planSize{compromised: 3, atRisk: 4}, contain.Config{}, idp.SimConfig{})
	incURL := fmt.Sprintf("/incidents/%d", f.incident.ID)
	t.Run("fresh form with the defaults", func(t *testing.T) {
		body := f.page(t, "alice", incURL, 200)
		containsAll(t, body, "Containment", "No containment plan yet.", `id="plan-form"`,
			`action="`+incURL+`/plans"`, `name="csrf" value="`+f.sessions["alice"][1]+`"`,
			`name="compromised" value="force_password_reset" checked`, `name="compromised" value="revoke_sessions" checked`,
			`name="at_risk" value="require_step_up" checked`, `name="stages" value="canary" checked`,
			"1 addresses and prefixes") // the prefix; an ASN cannot be blocked
		for _, unwanted := range []string{`name="compromised" value="require_step_up" checked`, `name="targeted" value="require_step_up" checked`,
			`name="targeted" value="force_password_reset" checked`, `name="sources" value="block_source" checked`} {
			if strings.Contains(body, unwanted) {
				t.Errorf("fresh form has %s", unwanted)
			}
		}
	})
	t.Run("viewers see plans, not the form", func(t *testing.T) {
		if body := f.page(t, "vera", incURL, 200); strings.Contains(body, `id="plan-form"`) {
			t.Errorf("a viewer is offered the plan form")
		}
	})
	t.Run("posting the defaults writes a plan", func(t *testing.T) {
		w := f.as("alice", "POST", incURL+"/plans", url.Values{
			"compromised": {"force_password_reset", "revoke_sessions"}, "at_risk": {"require_step_up"},
			"duration.compromised": {"24h"}, "stages": {"canary"}, "rate_limit": {"50"}, "note": {"first pass"},
		}, false)
		if w.Code != 303 || w.Header().Get("Location") != "/plans/1" {
			t.Fatalf("POST = %d, Location %q; body %.500s", w.Code, w.Header().Get("Location"), w.Body)
		}
		p, err := f.store.FindPlan(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Author != "alice" || p.Preview.Accounts != 7 || p.Spec.RateLimit != 50 || p.Spec.Note != "first pass" || len(p.Spec.Steps) != 2 {
			t.Errorf("plan = author %s, %d accounts, rate %v, note %q, %d steps", p.Author, p.Preview.Accounts, p.Spec.RateLimit, p.Spec.Note, len(p.Spec.Steps))
		}
		body := f.page(t, "vera", incURL, 200)
		containsAll(t, body, `href="/plans/1"`, "v1", "alice", ">7<", "awaiting approval", "not run")
	})
	t.Run("htmx post is sent to the plan page", func(t *testing.T) {
		w := f.as("alice", "POST", incURL+"/plans", url.Values{"at_risk": {"require_step_up"}, "stages": {"all"}}, true)
		if w.Code != 200 || w.Header().Get("HX-Redirect") != "/plans/2" {
			t.Fatalf("POST = %d, HX-Redirect %q; body %.300s", w.Code, w.Header().Get("HX-Redirect"), w.Body)
		}
		p, err := f.store.FindPlan(context.Background(), 2, 0)
		if err != nil || len(p.Spec.Stages) != 1 || p.Preview.NeedsApproval {
			t.Errorf("plan 2 = %+v, %v; want one stage and no approval needed", p, err)
		}
	})
}

func TestPlanFormErrors(t *testing.T) {
	f := newPlanPages(t, planSize{compromised: 3, atRisk: 4}, contain.Config{}, idp.SimConfig{})
	incURL := fmt.Sprintf("/incidents/%d", f.incident.ID)
	tests := []struct {
		name  string
		form  url.Values
		code  int
		wants []string
	}{
		{"selection matches nothing", url.Values{"compromised": {"force_password_reset"}, "targeted": {"require_step_up"}, "stages": {"canary"}}, 400,
			[]string{fmt.Sprintf("steps[1].select: matches nothing in incident %d", f.incident.ID)}},
		{"no action ticked", url.Values{"stages": {"canary"}}, 400, []string{"steps: a plan needs at least one step"}},
		{"form's own errors", url.Values{"compromised": {"temporary_lock", "block_source"}, "duration.compromised": {"soon"}, "stages": {"custom"},
			"custom_stages": {"ten, all"}, "rate_limit": {"fast"}}, 400,
			[]string{`duration: must be a duration such as &#34;90m&#34; or &#34;24h&#34;`, `&#34;block_source&#34; is not an action for accounts`,
				"custom stages: write cumulative percentages", "rate_limit: must be a number"}},
		{"stages the service refuses", url.Values{"at_risk": {"require_step_up"}, "stages": {"custom"}, "custom_stages": {"50, 10, 100"}}, 400,
			[]string{"stages[1]: stages must increase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.as("alice", "POST", incURL+"/plans", tt.form, false)
			body := checkPage(t, w, tt.code)
			containsAll(t, body, append([]string{"The plan was not written", `id="plan-form"`, "Affected accounts"}, tt.wants...)...)
			// What was posted is shown again.
			for _, a := range tt.form["compromised"] {
				if a != "block_source" && !strings.Contains(body, `name="compromised" value="`+a+`" checked`) {
					t.Errorf("the form lost the ticked %s", a)
				}
			}
			t.Run("htmx", func(t *testing.T) {
				w := f.as("alice", "POST", incURL+"/plans", tt.form, true)
				if w.Code != tt.code || w.Header().Get("Firebreak-Fragment") == "" {
					t.Fatalf("status %d, fragment header %q", w.Code, w.Header().Get("Firebreak-Fragment"))
				}
				body := w.Body.String()
				if !strings.HasPrefix(body, `<form id="plan-form"`) || strings.Contains(body, "<html") {
					t.Errorf("htmx answer is not the form alone: %.200s", body)
				}
				containsAll(t, body, tt.wants...)
			})
		})
	}
	t.Run("the error sits in the row it is about", func(t *testing.T) {
		body := f.as("alice", "POST", incURL+"/plans", tests[0].form, true).Body.String()
		targeted := body[strings.Index(body, "<strong>targeted</strong>"):]
		if i := strings.Index(targeted, "steps[1].select"); i < 0 || i > strings.Index(targeted, "<strong>sources</strong>") {
			t.Errorf("the error is not in the targeted row")
		}
	})
	if plans, _ := f.store.ListPlans(context.Background(), f.incident.ID); len(plans) != 0 {
		t.Errorf("refused forms wrote %d plans", len(plans))
	}
}

func TestPlanPageApproveAndRun(t *testing.T) {
	f := newPlanPages(t, planSize{compromised: 3, atRisk: 4, targeted: 2}, contain.Config{}, idp.SimConfig{})
	p := f.plan(t, "alice", func(s *firebreak.PlanSpec) { s.Note = hostile })
	planURL := fmt.Sprintf("/plans/%d", p.ID)

	t.Run("what the plan page shows", func(t *testing.T) {
		body := f.page(t, "vera", planURL, 200)
		containsAll(t, body, "Plan 1", "v1", `id="plan-author">alice<`, p.Hash[:12], "2026-03-02 09:00:00",
			"Needs a second person's approval because revoke_sessions cannot be undone",
			"force password reset", "revoke sessions", "require step up", "lifts the step-up requirement", "cannot be undone: signed-out sessions stay signed out",
			`id="preview-accounts">7<`, "the first 1%: 1 of 10 actions", "the first 100%: 10 of 10 actions", "No approvals yet.", "awaiting approval",
			`href="/api/v1/plans/1/targets?version=1"`, `href="/accounts/c0"`, "compromised", "95.00%", "Not run yet.", escapedHostile)
		if strings.Contains(body, hostile) {
			t.Errorf("the note is not escaped")
		}
		if strings.Contains(body, `id="approve-form"`) || strings.Contains(body, `id="run-form"`) {
			t.Errorf("a viewer is offered the approve or run form")
		}
	})
	t.Run("the author sees no approve form, and cannot run yet", func(t *testing.T) {
		body := f.page(t, "alice", planURL, 200)
		containsAll(t, body, `id="approve-author"`, `id="run-form"`, "disabled", "needs a second person&#39;s approval")
		if strings.Contains(body, `id="approve-form"`) {
			t.Errorf("the author is offered the approve form")
		}
	})
	t.Run("an approver who is the author is refused", func(t *testing.T) {
		own := f.plan(t, "carol")
		body := f.page(t, "carol", fmt.Sprintf("/plans/%d", own.ID), 200)
		if strings.Contains(body, `id="approve-form"`) {
			t.Errorf("the author is offered the approve form")
		}
		w := f.as("carol", "POST", fmt.Sprintf("/plans/%d/approve", own.ID), bindForm(own), false)
		containsAll(t, checkPage(t, w, 403), "carol wrote plan 2 v1 and cannot approve it")
		w = f.as("carol", "POST", fmt.Sprintf("/plans/%d/approve", own.ID), bindForm(own), true)
		if w.Code != 403 || w.Header().Get("Firebreak-Fragment") != "notice" || !strings.HasPrefix(w.Body.String(), `<p class="notice"`) {
			t.Errorf("htmx refusal = %d %q %.200s", w.Code, w.Header().Get("Firebreak-Fragment"), w.Body)
		}
	})
	t.Run("an approval of another hash is refused", func(t *testing.T) {
		form := bindForm(p)
		form.Set("hash", strings.Repeat("0", 64))
		w := f.as("bob", "POST", planURL+"/approve", form, false)
		containsAll(t, checkPage(t, w, 409), "The hash does not match plan 1 v1")
	})
	t.Run("another approver approves what the page showed", func(t *testing.T) {
		body := f.page(t, "bob", planURL, 200)
		containsAll(t, body, `id="approve-form"`, `name="version" value="1"`, `name="hash" value="`+p.Hash+`"`)
		form := bindForm(p)
		form.Set("comment", hostile)
		w := f.as("bob", "POST", planURL+"/approve", form, false)
		if w.Code != 303 || w.Header().Get("Location") != planURL {
			t.Fatalf("approve = %d %q; body %.300s", w.Code, w.Header().Get("Location"), w.Body)
		}
		body = f.page(t, "alice", planURL, 200)
		containsAll(t, body, "approved by bob", "2026-03-02 10:00:00", escapedHostile) // expires after an hour
		if body := f.page(t, "carol", planURL, 200); strings.Contains(body, `id="approve-form"`) {
			t.Errorf("an approved plan still offers the approve form")
		}
		if strings.Contains(body, "disabled aria-describedby") {
			t.Errorf("the Run button is still disabled after the approval")
		}
	})
	t.Run("the responder runs it and watches it finish", func(t *testing.T) {
		w := f.as("alice", "POST", planURL+"/run", bindForm(p), true)
		if w.Code != 200 || w.Header().Get("HX-Redirect") != "/runs/1" {
			t.Fatalf("run = %d %q; body %.300s", w.Code, w.Header().Get("HX-Redirect"), w.Body)
		}
		r := f.wait(t, 1)
		if r.State != firebreak.RunFinished || r.Counts.Confirmed != 10 {
			t.Fatalf("run = %s, %+v", r.State, r.Counts)
		}
		body := f.page(t, "vera", "/runs/1", 200)
		containsAll(t, body, "Run 1", "(apply)", "plan 1 v1", "finished", "100%", "10 of 10 actions", "stage 3 of 3",
			`data-state="confirmed">10<`, `data-state="pending">0<`, "No failed actions.", "No skipped actions.")
		if strings.Contains(body, "hx-trigger") {
			t.Errorf("a finished run's page still polls")
		}
		if strings.Contains(body, `action="/runs/1/pause"`) {
			t.Errorf("a viewer is offered the controls")
		}
		containsAll(t, f.page(t, "alice", planURL, 200), `href="/runs/1"`, "10 of 10", "finished")
	})
	t.Run("a second run is refused while none is active", func(t *testing.T) {
		// The plan ran once; a second run is allowed by the service, which
		// the page leaves enabled.
		body := f.page(t, "alice", planURL, 200)
		if strings.Contains(body, "kill or finish it") {
			t.Errorf("the page says a finished run blocks a new one")
		}
	})
}

func TestPlanPageVersions(t *testing.T) {
	f := newPlanPages(t, planSize{compromised: 3, atRisk: 4}, contain.Config{}, idp.SimConfig{})
	v1 := f.plan(t, "alice")
	ctx := context.Background()
	if _, err := f.svc.Approve(ctx, v1.ID, v1.Version, v1.Hash, "bob", ""); err != nil {
		t.Fatal(err)
	}
	spec := v1.Spec
	spec.Steps = spec.Steps[:1]
	v2, err := f.svc.RevisePlan(ctx, v1.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the latest version", func(t *testing.T) {
		body := f.page(t, "carol", "/plans/1", 200)
		containsAll(t, body, "v2", v2.Hash[:12], "(another version: does not count for this one)", "awaiting approval",
			`id="approve-form"`, `name="version" value="2"`, `name="hash" value="`+v2.Hash+`"`)
	})
	t.Run("an older version", func(t *testing.T) {
		body := f.page(t, "carol", "/plans/1?version=1", 200)
		containsAll(t, body, "an older version: the latest is", `href="/plans/1">v2</a>`, v1.Hash[:12], "Only the latest version (v2) can run.")
		if strings.Contains(body, `id="approve-form"`) {
			t.Errorf("an older version offers the approve form")
		}
	})
	t.Run("an approval of the version shown before the revision is refused", func(t *testing.T) {
		w := f.as("carol", "POST", "/plans/1/approve", bindForm(v1), false)
		containsAll(t, checkPage(t, w, 409), "Plan 1 is at version 2, not 1")
	})
}

func TestRunPageControls(t *testing.T) {
	// Accounts r0 and r1 are unknown to the provider: their step-up is
	// skipped with the provider's reason.
	f := newPlanPages(t, planSize{compromised: 2, atRisk: 6}, contain.Config{ApprovalAbove: 1000},
		idp.SimConfig{Known: func(a string) bool { return a != "r0" && a != "r1" }})
	p := f.plan(t, "alice", func(s *firebreak.PlanSpec) {
		s.Steps[0].Actions = []firebreak.ActionKind{firebreak.ActionForceReset}
		s.Stages, s.ManualStages = []float64{0.5, 1}, true
	})
	if p.Preview.NeedsApproval {
		t.Fatal("plan needs approval")
	}
	w := f.as("alice", "POST", fmt.Sprintf("/plans/%d/run", p.ID), bindForm(p), false)
	if w.Code != 303 || w.Header().Get("Location") != "/runs/1" {
		t.Fatalf("run = %d %q; body %.300s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if r := f.wait(t, 1); r.State != firebreak.RunPaused {
		t.Fatalf("after the first manual stage the run is %s, want paused", r.State)
	}
	t.Run("paused at a manual stage", func(t *testing.T) {
		body := f.page(t, "alice", "/runs/1", 200)
		containsAll(t, body, "paused", "stage 2 of 2", `action="/runs/1/resume"`, `action="/runs/1/kill"`, "hx-confirm=", `action="/runs/1/rollback"`,
			`hx-get="/partials/runs/1?view=full&amp;was=paused"`, `hx-trigger="every 5s"`)
		if strings.Contains(body, `action="/runs/1/pause"`) {
			t.Errorf("a paused run offers Pause")
		}
	})
	t.Run("the run page's partial asks for a reload once the state moves on", func(t *testing.T) {
		w := f.as("vera", "GET", "/partials/runs/1?was=running&view=full", nil, true)
		if w.Code != 200 || w.Header().Get("HX-Refresh") != "true" || !strings.Contains(w.Body.String(), `id="run-progress"`) {
			t.Errorf("partial = %d, HX-Refresh %q, %.200s", w.Code, w.Header().Get("HX-Refresh"), w.Body)
		}
		w = f.as("vera", "GET", "/partials/runs/1?was=paused&view=full", nil, true)
		if w.Code != 200 || w.Header().Get("HX-Refresh") != "" || !strings.Contains(w.Body.String(), `hx-trigger="every 5s"`) {
			t.Errorf("partial = %d, HX-Refresh %q, %.200s", w.Code, w.Header().Get("HX-Refresh"), w.Body)
		}
	})
	t.Run("the bar never reloads its page", func(t *testing.T) {
		w := f.as("vera", "GET", "/partials/runs/1?was=running&view=bar", nil, true)
		body := w.Body.String()
		if w.Code != 200 || w.Header().Get("HX-Refresh") != "" || !strings.Contains(body, `class="run-bar"`) || !strings.Contains(body, "state-paused") {
			t.Errorf("partial = %d, HX-Refresh %q, %.200s", w.Code, w.Header().Get("HX-Refresh"), body)
		}
	})
	t.Run("resume runs the last stage", func(t *testing.T) {
		w := f.as("alice", "POST", "/runs/1/resume", nil, false)
		if w.Code != 303 || w.Header().Get("Location") != "/runs/1" {
			t.Fatalf("resume = %d %q; body %.300s", w.Code, w.Header().Get("Location"), w.Body)
		}
		if r := f.wait(t, 1); r.State != firebreak.RunFinished {
			t.Fatalf("run is %s, want finished", r.State)
		}
		body := f.page(t, "alice", "/runs/1", 200)
		containsAll(t, body, "finished", `data-state="skipped">2<`, `data-state="confirmed">6<`, "unknown account", `href="/accounts/r0"`)
		if strings.Contains(body, `action="/runs/1/kill"`) || strings.Contains(body, `action="/runs/1/resume"`) {
			t.Errorf("a finished run offers kill or resume")
		}
	})
	t.Run("kill of a finished run is refused in words", func(t *testing.T) {
		w := f.as("alice", "POST", "/runs/1/kill", nil, true)
		if w.Code != 409 || !strings.Contains(w.Body.String(), "Run 1 is finished already") {
			t.Errorf("kill = %d %.300s", w.Code, w.Body)
		}
	})
	t.Run("rollback up to the first stage", func(t *testing.T) {
		body := f.page(t, "alice", "/runs/1", 200)
		containsAll(t, body, `<option value="all">`, `<option value="0">stages 1 to 1`)
		w := f.as("alice", "POST", "/runs/1/rollback", url.Values{"stage": {"0"}}, false)
		if w.Code != 303 || w.Header().Get("Location") != "/runs/2" {
			t.Fatalf("rollback = %d %q; body %.300s", w.Code, w.Header().Get("Location"), w.Body)
		}
		r := f.wait(t, 2)
		if r.Kind != firebreak.RunRollback || r.State != firebreak.RunFinished || r.Total == 0 || r.Total >= 6 {
			t.Errorf("rollback run = %s %s, %d items; want a finished rollback of part of the run", r.Kind, r.State, r.Total)
		}
		containsAll(t, f.page(t, "alice", "/runs/2", 200), "(rollback)", `href="/runs/1"`, "finished")
	})
	t.Run("bad rollback stage", func(t *testing.T) {
		w := f.as("alice", "POST", "/runs/1/rollback", url.Values{"stage": {"-2"}}, false)
		containsAll(t, checkPage(t, w, 400), "stage: must be")
	})
}

func TestRunPageFailedItems(t *testing.T) {
	// Every call fails before acting: items fail after the retries, and the
	// run halts on the error rate.
	f := newPlanPages(t, planSize{atRisk: 30}, contain.Config{MaxAttempts: 2},
		idp.SimConfig{Faults: idp.Faults{ErrorRate: 1}})
	p := f.plan(t, "alice", func(s *firebreak.PlanSpec) { s.Steps = s.Steps[1:]; s.Stages = []float64{1} })
	r, err := f.svc.StartRun(context.Background(), p.ID, p.Version, p.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if r = f.wait(t, r.ID); r.State != firebreak.RunHalted || r.Counts.Failed == 0 {
		t.Fatalf("run is %s with %d failed, want halted with failures", r.State, r.Counts.Failed)
	}
	page, err := f.store.ListItems(context.Background(), r.ID, firebreak.ItemFilter{State: firebreak.ItemFailed, Limit: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("failed items: %v, %v", page, err)
	}
	body := f.page(t, "alice", "/runs/1", 200)
	containsAll(t, body, "halted", "above the halt rate", `action="/runs/1/resume"`, `action="/runs/1/kill"`,
		fmt.Sprintf(`data-state="failed">%d<`, r.Counts.Failed), page.Items[0].Reason, `href="/accounts/`+page.Items[0].Target+`"`)
	if strings.Contains(body, `action="/runs/1/pause"`) {
		t.Errorf("a halted run offers Pause")
	}
}

func TestRunPageItemPages(t *testing.T) {
	// No account is known to the provider: all 60 step-ups are skipped.
	f := newPlanPages(t, planSize{atRisk: 60}, contain.Config{}, idp.SimConfig{Known: func(string) bool { return false }})
	p := f.plan(t, "alice", func(s *firebreak.PlanSpec) { s.Steps = s.Steps[1:] })
	r, err := f.svc.StartRun(context.Background(), p.ID, p.Version, p.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if r = f.wait(t, r.ID); r.State != firebreak.RunFinished || r.Counts.Skipped != 60 {
		t.Fatalf("run is %s with %+v, want finished with 60 skipped", r.State, r.Counts)
	}
	body := f.page(t, "vera", "/runs/1", 200)
	if got := strings.Count(body, "<td>unknown account</td>"); got != 50 {
		t.Errorf("first page lists %d skipped actions, want 50", got)
	}
	i := strings.Index(body, `rel="next">More skipped actions`)
	if i < 0 {
		t.Fatal("no link to more skipped actions")
	}
	href := body[strings.LastIndex(body[:i], `href="`)+len(`href="`) : i-2]
	next, _, _ := strings.Cut(strings.ReplaceAll(href, "&amp;", "&"), "#") // a browser sends no fragment
	body = f.page(t, "vera", next, 200)
	if got := strings.Count(body, "<td>unknown account</td>"); got != 10 {
		t.Errorf("second page lists %d skipped actions, want 10", got)
	}
	containsAll(t, body, "Back to the first skipped actions", "No failed actions.")
	if strings.Contains(body, "More skipped actions") {
		t.Errorf("the last page links to more")
	}
}

func TestContainmentPagesRefuse(t *testing.T) {
	f := newPlanPages(t, planSize{compromised: 2, atRisk: 2}, contain.Config{}, idp.SimConfig{})
	p := f.plan(t, "alice")
	t.Run("unknown ids are 404", func(t *testing.T) {
		containsAll(t, f.page(t, "vera", "/plans/99", 404), "Plan 99 not found.")
		containsAll(t, f.page(t, "vera", "/runs/99", 404), "Run 99 not found.")
		containsAll(t, f.page(t, "vera", "/plans/1?version=7", 404), "has no version 7")
		if w := f.as("vera", "GET", "/partials/runs/99?view=bar", nil, true); w.Code != 404 {
			t.Errorf("partial of an unknown run = %d, want 404", w.Code)
		}
		w := f.as("bob", "POST", "/plans/99/approve", bindForm(p), false)
		containsAll(t, checkPage(t, w, 404), "Plan 99 not found.")
	})
	t.Run("bad parameters are 400", func(t *testing.T) {
		f.page(t, "vera", "/plans/abc", 400)
		f.page(t, "vera", "/runs/0", 400)
		if w := f.as("vera", "GET", "/partials/runs/1?view=pie&was=gone", nil, true); w.Code != 400 {
			t.Errorf("partial with bad parameters = %d, want 400", w.Code)
		}
		w := f.as("bob", "POST", "/plans/1/approve", url.Values{"version": {"x"}}, false)
		containsAll(t, checkPage(t, w, 400), "version: required", "hash: required")
	})
	t.Run("posts without the CSRF token are refused", func(t *testing.T) {
		s := f.sessions["alice"]
		for _, path := range []string{fmt.Sprintf("/incidents/%d/plans", f.incident.ID), "/plans/1/run", "/runs/1/kill"} {
			w := f.do("POST", path, []byte("stages=canary&compromised=force_password_reset"),
				append(sessionHeaders(s[0], ""), "Content-Type", "application/x-www-form-urlencoded")...)
			if w.Code != 403 || !strings.Contains(w.Body.String(), "CSRF") {
				t.Errorf("POST %s without CSRF = %d %.200s", path, w.Code, w.Body)
			}
		}
	})
	t.Run("a viewer cannot post", func(t *testing.T) {
		for _, path := range []string{fmt.Sprintf("/incidents/%d/plans", f.incident.ID), "/plans/1/approve", "/plans/1/run", "/runs/1/pause"} {
			w := f.as("vera", "POST", path, bindForm(p), false)
			if w.Code != 403 || !strings.Contains(w.Body.String(), "vera has the viewer role") {
				t.Errorf("POST %s as viewer = %d %.200s", path, w.Code, w.Body)
			}
		}
		w := f.as("alice", "POST", "/plans/1/approve", bindForm(p), false)
		containsAll(t, checkPage(t, w, 403), "This needs the approver role")
	})
	if plans, _ := f.store.ListPlans(context.Background(), 0); len(plans) != 1 {
		t.Errorf("refused posts left %d plans, want 1", len(plans))
	}
	if runs, _ := f.store.ListRuns(context.Background(), 0); len(runs) != 0 {
		t.Errorf("refused posts started %d runs", len(runs))
	}
}

func TestContainmentPagesWithoutService(t *testing.T) {
	f, svc := newIncidentFixture(t)
	svc.FindFn = func(_ context.Context, id int64) (*firebreak.Incident, error) { return incident(id), nil }
	containsAll(t, checkPage(t, f.do("GET", "/incidents/3", nil), 200), "Containment is not available")
	for _, path := range []string{"/plans/1", "/runs/1"} {
		containsAll(t, checkPage(t, f.do("GET", path, nil), 503), "runs without a containment service")
	}
}

// BenchmarkContainPages measures the plan page, the run page and the run's
// progress partial for a small and a large run: the pages read a run's
// counts from its row and a page of items, so they cost the same at any
// size.
func BenchmarkContainPages(b *testing.B) {
	for _, accounts := range []int{100, 20_000} {
		f := newPlanPages(b, planSize{compromised: accounts / 2, atRisk: accounts / 2}, contain.Config{ApprovalAbove: 1 << 30}, idp.SimConfig{})
		p := f.plan(b, "alice", func(s *firebreak.PlanSpec) { s.Steps[0].Actions = s.Steps[0].Actions[:1] })
		r := &firebreak.Run{PlanID: p.ID, IncidentID: p.IncidentID, Version: p.Version, Hash: p.Hash, Kind: firebreak.RunApply,
			Spec: p.Spec, State: firebreak.RunRunning, StartedBy: "alice", StartedAt: now, UpdatedAt: now}
		if err := f.store.CreateRun(context.Background(), r, 0); err != nil { // stored, not dispatched
			b.Fatal(err)
		}
		for _, page := range []struct{ name, target string }{
			{"plan", fmt.Sprintf("/plans/%d", p.ID)},
			{"run", fmt.Sprintf("/runs/%d", r.ID)},
			{"partial", fmt.Sprintf("/partials/runs/%d?view=full&was=running", r.ID)},
		} {
			target := page.target
			b.Run(fmt.Sprintf("%s/items=%d", page.name, r.Total), func(b *testing.B) {
				for b.Loop() {
					if w := f.as("vera", "GET", target, nil, false); w.Code != 200 {
						b.Fatalf("GET %s = %d", target, w.Code)
					}
				}
			})
		}
	}
}
