package http_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
	"firebreak/audit"
	"firebreak/auth"
	"firebreak/contain"
	fbhttp "firebreak/http"
	"firebreak/idp"
	"firebreak/sqlite"
)

// containFixture is the API over a real containment service: a SQLite
// file, an audit trail in a temporary directory and a simulated identity
// provider. The incident holds 4 compromised accounts (c0…), 6 at risk
// (r0…, of which r0 and r3 have a low confidence) and 3 targeted (g0…).
type containFixture struct {
	*fixture
	incs     *sqlite.IncidentStore
	store    *sqlite.ContainmentStore
	svc      *contain.Service
	log      *audit.Log
	sim      *idp.Sim
	auth     *auth.Service
	incident *firebreak.Incident
	// alice is a responder's API token (she writes the plans), bob an
	// approver's.
	alice, bob string
}

func newContainFixture(t testing.TB) *containFixture {
	t.Helper()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db"))
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log, err := audit.Open(t.TempDir(), audit.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })

	f := &containFixture{incs: sqlite.NewIncidentStore(db), store: sqlite.NewContainmentStore(db), log: log,
		sim: idp.NewSim(idp.SimConfig{})}
	f.svc = contain.NewService(contain.Config{})
	f.svc.Incidents, f.svc.Store, f.svc.Auditor = f.incs, f.store, log
	f.svc.Connectors = map[string]firebreak.Connector{"": f.sim}
	t.Cleanup(func() { f.svc.Close() })

	operators := sqlite.NewOperatorStore(db)
	f.auth = auth.NewService(operators, auth.Config{Params: auth.TestParams, Now: func() time.Time { return now }})
	f.fixture = newFixture(t, func(c *fbhttp.Config) {
		c.Incidents, c.Containment, c.AuditLog, c.Auditor = f.incs, f.svc, log, log
		c.Operators, c.Auth = operators, auth.Config{Params: auth.TestParams}
	})
	f.alice = f.token(t, "alice", firebreak.RoleResponder)
	f.bob = f.token(t, "bob", firebreak.RoleApprover)
	f.incident = storeIncident(t, f.incs, 4, 6, 3)
	return f
}

// token creates an API token with role.
func (f *containFixture) token(t testing.TB, name string, role firebreak.Role) string {
	t.Helper()
	secret, _, err := f.auth.CreateToken(context.Background(), "test", name, role)
	if err != nil {
		t.Fatalf("create token %s: %v", name, err)
	}
	return secret
}

// storeIncident stores an incident with accounts c0…, r0…, g0… in the
// compromised, at-risk and targeted tiers and one source prefix. Every third
// at-risk account has a confidence of 0.3 (likely clean).
func storeIncident(t testing.TB, store firebreak.IncidentService, compromised, atRisk, targeted int) *firebreak.Incident {
	t.Helper()
	ctx := context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: now.Add(-time.Hour), LastSeen: now,
		Sources: []firebreak.IncidentSource{{Kind: firebreak.SourcePrefix, Value: "203.0.113.0/24", Attempts: 100, Failures: 90, Accounts: 13}}}
	if err := store.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	var accounts []firebreak.AffectedAccount
	add := func(prefix string, n int, tier firebreak.Tier, conf func(int) float64) {
		for i := range n {
			accounts = append(accounts, firebreak.AffectedAccount{Account: prefix + strconv.Itoa(i), Tier: tier,
				Confidence: conf(i), Evidence: "test", FirstSeen: now.Add(-time.Hour), LastSeen: now})
		}
	}
	add("c", compromised, firebreak.TierCompromised, func(int) float64 { return 0.95 })
	add("r", atRisk, firebreak.TierAtRisk, func(i int) float64 {
		if i%3 == 0 {
			return 0.3
		}
		return 0.7
	})
	add("g", targeted, firebreak.TierTargeted, func(int) float64 { return 0.5 })
	if err := store.UpsertAccounts(ctx, inc.ID, accounts); err != nil {
		t.Fatal(err)
	}
	return inc
}

// The plans of the tests: containBody resets and signs out the compromised
// and steps up the at-risk (14 targets, needs approval: sessions cannot be
// restored); stepUpBody only steps up the at-risk (6 targets, no approval).
const (
	containBody = `{"steps":[{"select":{"tier":"compromised"},"actions":["force_password_reset","revoke_sessions"]},` +
		`{"select":{"tier":"at_risk"},"actions":["require_step_up"]}]}`
	stepUpBody = `{"steps":[{"select":{"tier":"at_risk"},"actions":["require_step_up"]}]}`
)

// call sends a JSON request as the holder of token.
func (f *containFixture) call(method, target, body, token string) *httptest.ResponseRecorder {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return f.do(method, target, b, "Authorization", "Bearer "+token, "Content-Type", ctJSON)
}

// createPlan writes a plan as alice and returns it.
func (f *containFixture) createPlan(t testing.TB, body string) *firebreak.Plan {
	t.Helper()
	w := f.call("POST", fmt.Sprintf("/api/v1/incidents/%d/plans", f.incident.ID), body, f.alice)
	if w.Code != 201 {
		t.Fatalf("create plan: %d %s", w.Code, w.Body)
	}
	p := decode[firebreak.Plan](t, w)
	return &p
}

// bind is the body of an approval or a run of version v with hash h.
func bind(v int, h string) string { return fmt.Sprintf(`{"version":%d,"hash":%q}`, v, h) }

// approve approves p as bob.
func (f *containFixture) approve(t testing.TB, p *firebreak.Plan) {
	t.Helper()
	if w := f.call("POST", fmt.Sprintf("/api/v1/plans/%d/approvals", p.ID), bind(p.Version, p.Hash), f.bob); w.Code != 201 {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
}

// startRun starts p as alice.
func (f *containFixture) startRun(t testing.TB, p *firebreak.Plan) *firebreak.Run {
	t.Helper()
	w := f.call("POST", fmt.Sprintf("/api/v1/plans/%d/runs", p.ID), bind(p.Version, p.Hash), f.alice)
	if w.Code != 201 {
		t.Fatalf("start run: %d %s", w.Code, w.Body)
	}
	r := decode[firebreak.Run](t, w)
	return &r
}

// getRun reads a run through the API.
func (f *containFixture) getRun(t testing.TB, id int64) *firebreak.Run {
	t.Helper()
	w := f.call("GET", fmt.Sprintf("/api/v1/runs/%d", id), "", f.alice)
	if w.Code != 200 {
		t.Fatalf("GET run %d: %d %s", id, w.Code, w.Body)
	}
	r := decode[firebreak.Run](t, w)
	return &r
}

// waitRun polls GET /api/v1/runs/{id} until the run is no longer running,
// then waits for the service to finish recording it: a run's new state is
// stored before the audit record, the timeline entry and the incident's
// move to contained.
func (f *containFixture) waitRun(t testing.TB, id int64) *firebreak.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := f.getRun(t, id)
		if r.State != firebreak.RunRunning {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if err := f.svc.Wait(ctx, id); err != nil {
				t.Fatalf("run %d is %s, but still being dispatched after 30s", id, r.State)
			}
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still running after 30s: %+v", id, r.Counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantError fails t unless w is an error response with status and code and
// a message holding every one of mention.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, mention ...string) fbhttp.ErrorResponse {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	res := decode[fbhttp.ErrorResponse](t, w)
	if want := fbhttp.FromErrorStatusCode(status); res.Code != want {
		t.Errorf("code %q, want %q", res.Code, want)
	}
	for _, m := range mention {
		if !strings.Contains(res.Error, m) {
			t.Errorf("message %q does not mention %q", res.Error, m)
		}
	}
	return res
}

func TestContainmentCreatePlan(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, containBody)
	if p.ID < 1 || p.Version != 1 || p.IncidentID != f.incident.ID || len(p.Hash) != 64 {
		t.Fatalf("plan = id %d v%d incident %d hash %q", p.ID, p.Version, p.IncidentID, p.Hash)
	}
	if p.Author != "token:alice" {
		t.Errorf("author = %q, want token:alice", p.Author)
	}
	type count struct{ count, clean int64 }
	got := map[firebreak.ActionKind]count{}
	for _, a := range p.Preview.Actions {
		got[a.Action] = count{a.Count, a.LikelyClean}
	}
	want := map[firebreak.ActionKind]count{
		firebreak.ActionForceReset:     {4, 0},
		firebreak.ActionRevokeSessions: {4, 0},
		firebreak.ActionStepUp:         {6, 2}, // r0 and r3
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("preview actions = %v, want %v", got, want)
	}
	if p.Preview.Accounts != 10 || p.Preview.Sources != 0 {
		t.Errorf("preview accounts %d sources %d, want 10 and 0", p.Preview.Accounts, p.Preview.Sources)
	}
	if !slices.Equal(p.Preview.StageSizes, []int64{1, 2, 14}) {
		t.Errorf("stage sizes = %v, want [1 2 14] (1%%, 10%%, all of 14 targets)", p.Preview.StageSizes)
	}
	if !p.Preview.NeedsApproval || !strings.Contains(p.Preview.Why, "revoke_sessions") {
		t.Errorf("needs approval %v (%q), want true because revoke_sessions cannot be undone", p.Preview.NeedsApproval, p.Preview.Why)
	}

	// It is stored: the incident lists it, and GET returns it unapproved.
	w := f.call("GET", fmt.Sprintf("/api/v1/incidents/%d/plans", f.incident.ID), "", f.alice)
	if list := decode[fbhttp.PlansResponse](t, w); w.Code != 200 || len(list.Plans) != 1 || list.Plans[0].Hash != p.Hash {
		t.Fatalf("list plans: %d %s", w.Code, w.Body)
	}
	w = f.call("GET", fmt.Sprintf("/api/v1/plans/%d", p.ID), "", f.alice)
	d := decode[fbhttp.PlanDetail](t, w)
	if w.Code != 200 || d.Plan.Hash != p.Hash || d.Approved || len(d.Approvals) != 0 || len(d.Runs) != 0 {
		t.Errorf("GET plan: %d %s", w.Code, w.Body)
	}

	t.Run("sources", func(t *testing.T) {
		p := f.createPlan(t, `{"steps":[{"select":{"sources":true},"actions":["block_source"],"duration":"24h"}]}`)
		if p.Preview.Sources != 1 || p.Preview.Accounts != 0 || p.Preview.NeedsApproval {
			t.Errorf("preview = %+v, want 1 source, no account, no approval needed", p.Preview)
		}
		if p.Spec.Steps[0].Duration.Duration != 24*time.Hour {
			t.Errorf("duration = %s, want 24h", p.Spec.Steps[0].Duration)
		}
	})
}

func TestContainmentPlanBadInput(t *testing.T) {
	f := newContainFixture(t)
	sizeBefore := f.log.Size()
	path := fmt.Sprintf("/api/v1/incidents/%d/plans", f.incident.ID)
	tier := `"select":{"tier":"compromised"}`
	for _, tc := range []struct {
		name, body  string
		contentType string // default application/json
		status      int
		field       string // first field error; "" for none
	}{
		{"empty selector", `{"steps":[{"select":{},"actions":["require_step_up"]}]}`, "", 400, "steps[0].select"},
		{"two things selected", `{"steps":[{"select":{"tier":"compromised","sources":true},"actions":["require_step_up"]}]}`, "", 400, "steps[0].select"},
		{"unknown tier", `{"steps":[{"select":{"tier":"everyone"},"actions":["require_step_up"]}]}`, "", 400, "steps[0].select.tier"},
		{"matches nothing", `{"steps":[{"select":{"tier":"at_risk","min_confidence":0.99},"actions":["require_step_up"]}]}`, "", 400, "steps[0].select"},
		{"account not in the incident", `{"steps":[{"select":{"accounts":["c0","zed"]},"actions":["require_step_up"]}]}`, "", 400, "steps[0].select.accounts[1]"},
		{"unknown action", `{"steps":[{` + tier + `,"actions":["nuke"]}]}`, "", 400, "steps[0].actions[0]"},
		{"action on the wrong kind of target", `{"steps":[{` + tier + `,"actions":["block_source"],"duration":"1h"}]}`, "", 400, "steps[0].actions[0]"},
		{"second step bad", `{"steps":[{` + tier + `,"actions":["require_step_up"]},{"select":{"tier":"at_risk"},"actions":[]}]}`, "", 400, "steps[1].actions"},
		{"timed action without duration", `{"steps":[{` + tier + `,"actions":["temporary_lock"]}]}`, "", 400, "steps[0].duration"},
		{"duration not a duration", `{"steps":[{` + tier + `,"actions":["temporary_lock"],"duration":"forever"}]}`, "", 400, "duration"},
		{"duration a number", `{"steps":[{` + tier + `,"actions":["temporary_lock"],"duration":3600}]}`, "", 400, "duration"},
		{"duration too long", `{"steps":[{` + tier + `,"actions":["temporary_lock"],"duration":"9999h"}]}`, "", 400, "steps[0].duration"},
		{"no steps", `{"steps":[]}`, "", 400, "steps"},
		{"stages not increasing", `{"steps":[{` + tier + `,"actions":["require_step_up"]}],"stages":[0.5,0.2,1]}`, "", 400, "stages[1]"},
		{"unknown connector", `{"steps":[{` + tier + `,"actions":["require_step_up"]}],"connector":"okta"}`, "", 400, "connector"},
		{"unknown field", `{"steps":[{` + tier + `,"actions":["require_step_up"]}],"dry_run":true}`, "", 400, "dry_run"},
		{"unknown nested field", `{"steps":[{` + tier + `,"actions":["require_step_up"],"when":"now"}]}`, "", 400, "when"},
		{"action a number", `{"steps":[{` + tier + `,"actions":[1]}]}`, "", 400, "steps.actions"},
		{"steps a string", `{"steps":"all"}`, "", 400, "steps"},
		{"rate limit a string", `{"steps":[{` + tier + `,"actions":["require_step_up"]}],"rate_limit":"fast"}`, "", 400, "rate_limit"},
		{"concurrency a float", `{"steps":[{` + tier + `,"actions":["require_step_up"]}],"concurrency":1.5}`, "", 400, "concurrency"},
		{"body an array", `[]`, "", 400, ""},
		{"body not JSON", `steps: all`, "", 400, ""},
		{"body cut short", `{"steps":[`, "", 400, ""},
		{"two bodies", containBody + containBody, "", 400, ""},
		{"empty body", ``, "", 400, ""},
		{"not JSON media type", containBody, "text/plain", 415, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = ctJSON
			}
			w := f.do("POST", path, []byte(tc.body), "Authorization", "Bearer "+f.alice, "Content-Type", ct)
			res := wantError(t, w, tc.status)
			if res.Error == "" {
				t.Error("empty message")
			}
			if tc.field != "" && (len(res.Errors) == 0 || res.Errors[0].Field != tc.field || res.Errors[0].Reason == "") {
				t.Errorf("errors = %+v, want field %q with a reason", res.Errors, tc.field)
			}
		})
	}

	// Nothing was stored. What was tried is on the record as refused:
	// nothing else was audited or put on the timeline.
	w := f.call("GET", path, "", f.alice)
	if list := decode[fbhttp.PlansResponse](t, w); w.Code != 200 || len(list.Plans) != 0 {
		t.Errorf("plans after bad input: %d %s", w.Code, w.Body)
	}
	recs, err := f.log.Records(context.Background(), sizeBefore, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action != firebreak.AuditPlanRefused || r.Actor != "token:alice" {
			t.Errorf("audit record after bad input: %+v, want only plan.refused by token:alice", r)
		}
	}
	for _, e := range f.timeline(t) {
		if strings.HasPrefix(e.Kind, "plan_") && e.Kind != "plan_refused" {
			t.Errorf("timeline entry after bad input: %+v", e)
		}
	}

	t.Run("revise", func(t *testing.T) {
		p := f.createPlan(t, containBody)
		w := f.call("PUT", fmt.Sprintf("/api/v1/plans/%d", p.ID), `{"steps":[{"select":{},"actions":["require_step_up"]}]}`, f.alice)
		if res := wantError(t, w, 400); len(res.Errors) == 0 || res.Errors[0].Field != "steps[0].select" {
			t.Errorf("errors = %+v, want steps[0].select", res.Errors)
		}
		w = f.call("GET", fmt.Sprintf("/api/v1/plans/%d", p.ID), "", f.alice)
		if d := decode[fbhttp.PlanDetail](t, w); d.Plan.Version != 1 {
			t.Errorf("version after a bad revision = %d, want 1", d.Plan.Version)
		}
	})
}

// timeline returns the fixture incident's timeline.
func (f *containFixture) timeline(t testing.TB) []firebreak.TimelineEntry {
	t.Helper()
	w := f.call("GET", fmt.Sprintf("/api/v1/incidents/%d/timeline", f.incident.ID), "", f.alice)
	if w.Code != 200 {
		t.Fatalf("timeline: %d %s", w.Code, w.Body)
	}
	return decode[fbhttp.TimelineResponse](t, w).Entries
}

func TestContainmentNotFound(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, stepUpBody)
	good := bind(1, strings.Repeat("a", 64))
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/incidents/999/plans", stepUpBody},
		{"GET", "/api/v1/incidents/999/plans", ""},
		{"GET", "/api/v1/plans/999", ""},
		{"GET", fmt.Sprintf("/api/v1/plans/%d?version=7", p.ID), ""},
		{"PUT", "/api/v1/plans/999", stepUpBody},
		{"GET", "/api/v1/plans/999/targets", ""},
		{"GET", fmt.Sprintf("/api/v1/plans/%d/targets?version=7", p.ID), ""},
		{"POST", "/api/v1/plans/999/approvals", good},
		{"POST", "/api/v1/plans/999/runs", good},
		{"GET", "/api/v1/runs/999", ""},
		{"GET", "/api/v1/runs/999/items", ""},
		{"POST", "/api/v1/runs/999/pause", ""},
		{"POST", "/api/v1/runs/999/resume", ""},
		{"POST", "/api/v1/runs/999/kill", ""},
		{"POST", "/api/v1/runs/999/rollback", ""},
		{"POST", "/api/v1/runs/999/rollback", `{"stage":0}`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantError(t, f.call(tc.method, tc.path, tc.body, f.bob), 404)
		})
	}
	t.Run("runs of an unknown plan", func(t *testing.T) {
		w := f.call("GET", "/api/v1/runs?plan=999", "", f.bob)
		if list := decode[fbhttp.RunsResponse](t, w); w.Code != 200 || list.Runs == nil || len(list.Runs) != 0 {
			t.Errorf("GET /api/v1/runs?plan=999 = %d %s, want 200 and an empty list", w.Code, w.Body)
		}
	})
}

func TestContainmentBadIDs(t *testing.T) {
	f := newContainFixture(t)
	good := bind(1, strings.Repeat("a", 64))
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/api/v1/incidents/abc/plans", stepUpBody, "id"},
		{"GET", "/api/v1/incidents/0/plans", "", "id"},
		{"GET", "/api/v1/plans/abc", "", "id"},
		{"GET", "/api/v1/plans/-1", "", "id"},
		{"GET", "/api/v1/plans/1?version=x", "", "version"},
		{"GET", "/api/v1/plans/1?version=0", "", "version"},
		{"PUT", "/api/v1/plans/1e3", stepUpBody, "id"},
		{"GET", "/api/v1/plans/x/targets", "", "id"},
		{"POST", "/api/v1/plans/x/approvals", good, "id"},
		{"POST", "/api/v1/plans/x/runs", good, "id"},
		{"GET", "/api/v1/runs?plan=x", "", "plan"},
		{"GET", "/api/v1/runs/x", "", "id"},
		{"GET", "/api/v1/runs/99999999999999999999", "", "id"},
		{"GET", "/api/v1/runs/x/items", "", "id"},
		{"POST", "/api/v1/runs/x/pause", "", "id"},
		{"POST", "/api/v1/runs/x/resume", "", "id"},
		{"POST", "/api/v1/runs/x/kill", "", "id"},
		{"POST", "/api/v1/runs/x/rollback", "", "id"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := wantError(t, f.call(tc.method, tc.path, tc.body, f.bob), 400)
			if len(res.Errors) == 0 || res.Errors[0].Field != tc.field {
				t.Errorf("errors = %+v, want field %q", res.Errors, tc.field)
			}
		})
	}
}

func TestContainmentApprovalAndRun(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, containBody)
	approvals := fmt.Sprintf("/api/v1/plans/%d/approvals", p.ID)
	runs := fmt.Sprintf("/api/v1/plans/%d/runs", p.ID)

	// Refusals of version 1: its author, a missing binding, an unapproved run.
	wantError(t, f.call("POST", approvals, bind(1, p.Hash), f.token(t, "alice2", firebreak.RoleViewer)), 403, "approver")
	wantError(t, f.call("POST", approvals, bind(1, p.Hash), f.alice), 403, "approver") // a responder may not approve at all
	res := wantError(t, f.call("POST", approvals, `{}`, f.bob), 400)
	if fields := fieldNames(res); !slices.Equal(fields, []string{"version", "hash"}) {
		t.Errorf("fields = %v, want version and hash", fields)
	}
	wantError(t, f.call("POST", runs, bind(1, p.Hash), f.alice), 403, "approval", "revoke_sessions")

	// The author cannot approve their own version, even holding the role.
	self := f.token(t, "dave", firebreak.RoleApprover)
	q := f.createPlanAs(t, containBody, self)
	wantError(t, f.call("POST", fmt.Sprintf("/api/v1/plans/%d/approvals", q.ID), bind(q.Version, q.Hash), self), 403, "cannot approve")

	// Version 2 makes version 1 stale.
	w := f.call("PUT", fmt.Sprintf("/api/v1/plans/%d", p.ID), containBody, f.alice)
	if w.Code != 200 {
		t.Fatalf("revise: %d %s", w.Code, w.Body)
	}
	v2 := decode[firebreak.Plan](t, w)
	if v2.Version != 2 || v2.Hash == p.Hash {
		t.Fatalf("revision = v%d hash %s, want v2 with a new hash", v2.Version, v2.Hash)
	}
	wantError(t, f.call("POST", approvals, bind(1, p.Hash), f.bob), 409, "version 2")
	wantError(t, f.call("POST", approvals, bind(2, p.Hash), f.bob), 409, "hash")
	wantError(t, f.call("POST", approvals, bind(2, strings.Repeat("0", 64)), f.bob), 409, "hash")

	// bob approves version 2; a run of version 1 is still refused.
	w = f.call("POST", approvals, `{"version":2,"hash":"`+v2.Hash+`","comment":"checked the list"}`, f.bob)
	if w.Code != 201 {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	a := decode[firebreak.Approval](t, w)
	if a.Approver != "token:bob" || a.Version != 2 || a.Hash != v2.Hash || !a.ExpiresAt.After(a.CreatedAt) {
		t.Errorf("approval = %+v", a)
	}
	w = f.call("GET", fmt.Sprintf("/api/v1/plans/%d", p.ID), "", f.alice)
	if d := decode[fbhttp.PlanDetail](t, w); !d.Approved || len(d.Approvals) != 1 || d.Plan.Version != 2 {
		t.Errorf("plan after approval: approved %v, %d approvals, v%d", d.Approved, len(d.Approvals), d.Plan.Version)
	}
	wantError(t, f.call("POST", runs, bind(1, p.Hash), f.alice), 409, "version 2")

	w = f.call("POST", runs, bind(2, v2.Hash), f.alice)
	if w.Code != 201 {
		t.Fatalf("start run: %d %s", w.Code, w.Body)
	}
	run := decode[firebreak.Run](t, w)
	if run.Kind != firebreak.RunApply || run.Total != 14 || run.StartedBy != "token:alice" || run.Version != 2 {
		t.Errorf("run = %+v", run)
	}
	wantError(t, f.call("POST", runs, bind(2, v2.Hash), f.alice), 409, "kill or finish")

	done := f.waitRun(t, run.ID)
	if done.State != firebreak.RunFinished || done.Counts.Confirmed != 14 || done.Counts.Done() != done.Total || done.FinishedAt.IsZero() {
		t.Fatalf("run after waiting = %s %+v", done.State, done.Counts)
	}
	if n := f.sim.Effects("c0", firebreak.ActionRevokeSessions); n != 1 {
		t.Errorf("c0 revoke_sessions effects = %d, want 1", n)
	}
	if n := f.sim.Effects("g0", firebreak.ActionStepUp); n != 0 {
		t.Errorf("g0 (targeted, not in the plan) got %d effects", n)
	}
	w = f.call("GET", fmt.Sprintf("/api/v1/runs?plan=%d", p.ID), "", f.alice)
	if list := decode[fbhttp.RunsResponse](t, w); len(list.Runs) != 1 || list.Runs[0].ID != run.ID {
		t.Errorf("runs of the plan: %s", w.Body)
	}
	// The incident moved on: detected → triaged at the start, → contained at the end.
	w = f.call("GET", fmt.Sprintf("/api/v1/incidents/%d", f.incident.ID), "", f.alice)
	if inc := decode[firebreak.Incident](t, w); inc.State != firebreak.StateContained {
		t.Errorf("incident state = %s, want contained", inc.State)
	}

	t.Run("items", func(t *testing.T) { checkItems(t, f, run.ID, 14) })
	t.Run("rollback", func(t *testing.T) { checkRollback(t, f, run.ID) })
}

// createPlanAs writes a plan as the holder of token.
func (f *containFixture) createPlanAs(t testing.TB, body, token string) *firebreak.Plan {
	t.Helper()
	w := f.call("POST", fmt.Sprintf("/api/v1/incidents/%d/plans", f.incident.ID), body, token)
	if w.Code != 201 {
		t.Fatalf("create plan: %d %s", w.Code, w.Body)
	}
	p := decode[firebreak.Plan](t, w)
	return &p
}

func fieldNames(res fbhttp.ErrorResponse) []string {
	var out []string
	for _, e := range res.Errors {
		out = append(out, e.Field)
	}
	return out
}

// checkItems pages through a finished run's items, all confirmed.
func checkItems(t *testing.T, f *containFixture, runID int64, total int) {
	base := fmt.Sprintf("/api/v1/runs/%d/items", runID)
	var seqs []int64
	cursor, pages := "", 0
	for {
		target := base + "?limit=5"
		if cursor != "" {
			target += "&cursor=" + cursor
		}
		w := f.call("GET", target, "", f.alice)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		page := decode[firebreak.ItemPage](t, w)
		pages++
		for _, it := range page.Items {
			if it.State != firebreak.ItemConfirmed || it.RunID != runID || it.Attempts < 1 || it.Target == "" {
				t.Errorf("item = %+v, want confirmed", it)
			}
			seqs = append(seqs, it.Seq)
		}
		if page.Next == "" {
			break
		}
		if len(page.Items) != 5 {
			t.Errorf("a page before the last holds %d items, want 5", len(page.Items))
		}
		cursor = page.Next
	}
	if want := (total + 4) / 5; pages != want {
		t.Errorf("%d pages, want %d", pages, want)
	}
	if len(seqs) != total || !slices.IsSorted(seqs) || seqs[0] != 0 || seqs[len(seqs)-1] != int64(total-1) {
		t.Errorf("seqs = %v, want 0…%d in order", seqs, total-1)
	}

	for state, want := range map[string]int{"confirmed": total, "failed": 0, "pending": 0} {
		w := f.call("GET", base+"?state="+state, "", f.alice)
		if page := decode[firebreak.ItemPage](t, w); w.Code != 200 || len(page.Items) != want || page.Items == nil {
			t.Errorf("state=%s: %d with %d items, want 200 with %d: %s", state, w.Code, len(page.Items), want, w.Body)
		}
	}
	for _, tc := range []struct{ query, field string }{
		{"state=done", "state"},
		{"limit=0", "limit"},
		{"limit=x", "limit"},
		{"limit=100000", "limit"},
		{"cursor=not-a-cursor", "cursor"},
		{"cursor=" + strings.Repeat("x", 2000), "cursor"},
	} {
		res := wantError(t, f.call("GET", base+"?"+tc.query, "", f.alice), 400)
		if len(res.Errors) == 0 || res.Errors[0].Field != tc.field {
			t.Errorf("%s: errors = %+v, want field %s", tc.query, res.Errors, tc.field)
		}
	}
	// A cursor of another state's listing is refused, not misread.
	w := f.call("GET", base+"?limit=2", "", f.alice)
	next := decode[firebreak.ItemPage](t, w).Next
	if w := f.call("GET", base+"?state=failed&cursor="+next, "", f.alice); w.Code != 400 {
		t.Errorf("cursor of another listing: %d %s, want 400", w.Code, w.Body)
	}
}

// checkRollback rolls back a finished run, then tries to roll back the
// rollback.
func checkRollback(t *testing.T, f *containFixture, runID int64) {
	path := fmt.Sprintf("/api/v1/runs/%d/rollback", runID)
	for _, tc := range []struct{ body, field string }{
		{`{"stage":-1}`, "stage"},
		{`{"stage":3}`, "stage"},
		{`{"stage":"all"}`, "stage"},
		{`{"stages":1}`, "stages"},
	} {
		res := wantError(t, f.call("POST", path, tc.body, f.alice), 400)
		if len(res.Errors) == 0 || res.Errors[0].Field != tc.field {
			t.Errorf("%s: errors = %+v, want field %s", tc.body, res.Errors, tc.field)
		}
	}
	w := f.call("POST", path, "", f.alice)
	if w.Code != 201 {
		t.Fatalf("rollback: %d %s", w.Code, w.Body)
	}
	rb := decode[firebreak.Run](t, w)
	// Sessions cannot be restored: 4 resets and 6 step-ups to undo.
	if rb.Kind != firebreak.RunRollback || rb.RollbackOf != runID || rb.Total != 10 || rb.StartedBy != "token:alice" {
		t.Errorf("rollback run = %+v", rb)
	}
	done := f.waitRun(t, rb.ID)
	if done.State != firebreak.RunFinished || done.Counts.Confirmed != 10 {
		t.Errorf("rollback after waiting = %s %+v", done.State, done.Counts)
	}
	if n := f.sim.RevertEffects("r1", firebreak.ActionStepUp); n != 1 {
		t.Errorf("r1 step-up reverted %d times, want 1", n)
	}
	wantError(t, f.call("POST", fmt.Sprintf("/api/v1/runs/%d/rollback", rb.ID), "", f.alice), 409, "itself a rollback")
}

// TestContainmentRunControl steers a run slowed to one call a second:
// every state error is a 409 that says what can be done instead.
func TestContainmentRunControl(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, `{"steps":[{"select":{"tier":"at_risk"},"actions":["require_step_up"]}],"stages":[1],"rate_limit":1}`)
	if p.Preview.NeedsApproval {
		t.Fatalf("a 6-account step-up needs approval: %+v", p.Preview)
	}
	run := f.startRun(t, p)
	// Wait for the first effect, so that there is something to roll back.
	for deadline := time.Now().Add(10 * time.Second); f.getRun(t, run.ID).Counts.Confirmed == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no item confirmed within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctl := func(verb string) *httptest.ResponseRecorder {
		return f.call("POST", fmt.Sprintf("/api/v1/runs/%d/%s", run.ID, verb), "", f.alice)
	}
	wantError(t, ctl("resume"), 409, "running", "pause or kill")
	wantError(t, ctl("rollback"), 409, "running", "pause or kill")

	w := ctl("pause")
	if r := decode[firebreak.Run](t, w); w.Code != 200 || r.State != firebreak.RunPaused || r.Reason != "by token:alice" {
		t.Fatalf("pause: %d %s", w.Code, w.Body)
	}
	wantError(t, ctl("pause"), 409, "paused", "resume or kill")
	if r := f.getRun(t, run.ID); r.State != firebreak.RunPaused {
		t.Errorf("GET after pause: %s", r.State)
	}
	w = ctl("resume")
	if r := decode[firebreak.Run](t, w); w.Code != 200 || r.State != firebreak.RunRunning {
		t.Fatalf("resume: %d %s", w.Code, w.Body)
	}
	w = ctl("kill")
	killed := decode[firebreak.Run](t, w)
	if w.Code != 200 || killed.State != firebreak.RunKilled || killed.FinishedAt.IsZero() {
		t.Fatalf("kill: %d %s", w.Code, w.Body)
	}
	if killed.Counts.Done() >= killed.Total {
		t.Fatalf("the run finished (%+v) before it was killed; slow it down", killed.Counts)
	}
	for _, verb := range []string{"pause", "resume", "kill"} {
		wantError(t, ctl(verb), 409, "killed already", "roll it back")
	}
	// Nothing is dispatched after the kill.
	time.Sleep(1500 * time.Millisecond)
	after := f.getRun(t, run.ID)
	if after.Counts != killed.Counts || after.State != firebreak.RunKilled {
		t.Errorf("counts moved after the kill: %+v → %+v (%s)", killed.Counts, after.Counts, after.State)
	}
	if st := f.sim.Stats(); st.Applies != after.Counts.Confirmed {
		t.Errorf("%d effects at the provider, %d items confirmed", st.Applies, after.Counts.Confirmed)
	}

	// A killed run can be rolled back; the rollback is controlled alike.
	w = ctl("rollback")
	if w.Code != 201 {
		t.Fatalf("rollback of a killed run: %d %s", w.Code, w.Body)
	}
	rb := decode[firebreak.Run](t, w)
	if rb.Total != after.Counts.Confirmed {
		t.Errorf("rollback of %d items, want the %d confirmed", rb.Total, after.Counts.Confirmed)
	}
	if done := f.waitRun(t, rb.ID); done.State != firebreak.RunFinished {
		t.Errorf("rollback run %s", done.State)
	}
	res := wantError(t, f.call("POST", fmt.Sprintf("/api/v1/runs/%d/kill", rb.ID), "", f.alice), 409, "finished already")
	if strings.Contains(res.Error, "roll it back") {
		t.Errorf("a finished rollback is offered a rollback: %q", res.Error)
	}
}

// TestContainmentResumeManualStage resumes a run the moment it pauses
// itself at a manual stage, while its executor is still writing the
// timeline entry that says so: the resumed run must go on, not be left
// "running" with nothing dispatching it.
func TestContainmentResumeManualStage(t *testing.T) {
	f := newContainFixture(t)
	f.svc.Incidents = &slowTimeline{IncidentService: f.incs, kind: "run_paused", delay: 300 * time.Millisecond}
	p := f.createPlan(t, `{"steps":[{"select":{"tier":"at_risk"},"actions":["require_step_up"]}],"stages":[0.5,1],"manual_stages":true}`)
	run := f.startRun(t, p)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r := f.getRun(t, run.ID)
		if r.State == firebreak.RunPaused {
			if r.Counts.Done() != 3 || r.Stage != 1 {
				t.Fatalf("paused at stage %d with %+v, want stage 1 after 3 items", r.Stage, r.Counts)
			}
			break
		}
		if r.State != firebreak.RunRunning || time.Now().After(deadline) {
			t.Fatalf("run %d: %s %+v, want it paused after the first stage", run.ID, r.State, r.Counts)
		}
	}
	w := f.call("POST", fmt.Sprintf("/api/v1/runs/%d/resume", run.ID), "", f.alice)
	if w.Code != 200 {
		t.Fatalf("resume: %d %s", w.Code, w.Body)
	}
	if done := f.waitRun(t, run.ID); done.State != firebreak.RunFinished || done.Counts.Confirmed != 6 {
		t.Fatalf("run after resume = %s %+v", done.State, done.Counts)
	}
}

// slowTimeline delays timeline entries of one kind, as a busy store would.
type slowTimeline struct {
	firebreak.IncidentService
	kind  string
	delay time.Duration
}

func (s *slowTimeline) AddEntry(ctx context.Context, id int64, e firebreak.TimelineEntry) (*firebreak.TimelineEntry, error) {
	if e.Kind == s.kind {
		time.Sleep(s.delay)
	}
	return s.IncidentService.AddEntry(ctx, id, e)
}

func TestContainmentTargets(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, containBody)
	base := fmt.Sprintf("/api/v1/plans/%d/targets", p.ID)

	var all []firebreak.PlanTarget
	query, pages := "?limit=4", 0
	for {
		w := f.call("GET", base+query, "", f.alice)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", query, w.Code, w.Body)
		}
		res := decode[fbhttp.TargetsResponse](t, w)
		all = append(all, res.Targets...)
		if pages++; pages > 10 {
			t.Fatal("paging does not end")
		}
		if res.Next == nil {
			break
		}
		query = fmt.Sprintf("?limit=4&after=%d", *res.Next)
	}
	if len(all) != 14 || pages != 4 {
		t.Fatalf("%d targets in %d pages, want 14 in 4", len(all), pages)
	}
	accounts := map[string]bool{}
	for i, tg := range all {
		if tg.Seq != int64(i) {
			t.Fatalf("target %d has seq %d", i, tg.Seq)
		}
		accounts[tg.Target] = true
		if strings.HasPrefix(tg.Target, "g") {
			t.Errorf("targeted account %s is a target", tg.Target)
		}
	}
	if len(accounts) != 10 {
		t.Errorf("%d distinct accounts, want 10", len(accounts))
	}

	t.Run("one a page", func(t *testing.T) {
		// The first page ends at seq 0: its next must still be there.
		w := f.call("GET", base+"?limit=1", "", f.alice)
		res := decode[fbhttp.TargetsResponse](t, w)
		if len(res.Targets) != 1 || res.Next == nil || *res.Next != 0 {
			t.Errorf("limit=1: %s, want one target and next 0", w.Body)
		}
	})
	t.Run("exactly full last page", func(t *testing.T) {
		w := f.call("GET", base+"?limit=7&after=6", "", f.alice)
		if res := decode[fbhttp.TargetsResponse](t, w); len(res.Targets) != 7 || res.Next != nil {
			t.Errorf("last page of 7: %s, want 7 targets and no next", w.Body)
		}
		w = f.call("GET", base+"?after=13", "", f.alice)
		if res := decode[fbhttp.TargetsResponse](t, w); w.Code != 200 || res.Targets == nil || len(res.Targets) != 0 {
			t.Errorf("after the last: %d %s, want 200 and []", w.Code, w.Body)
		}
	})
	t.Run("versions", func(t *testing.T) {
		w := f.call("PUT", fmt.Sprintf("/api/v1/plans/%d", p.ID), stepUpBody, f.alice)
		if w.Code != 200 {
			t.Fatalf("revise: %d %s", w.Code, w.Body)
		}
		for query, want := range map[string]int{"": 6, "?version=2": 6, "?version=1": 14} {
			w := f.call("GET", base+query, "", f.alice)
			if res := decode[fbhttp.TargetsResponse](t, w); len(res.Targets) != want {
				t.Errorf("targets%s: %d, want %d", query, len(res.Targets), want)
			}
		}
	})
	for _, tc := range []struct{ query, field string }{
		{"?after=-1", "after"},
		{"?after=x", "after"},
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?limit=ten", "limit"},
		{"?version=0", "version"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := wantError(t, f.call("GET", base+tc.query, "", f.alice), 400)
			if len(res.Errors) == 0 || res.Errors[0].Field != tc.field {
				t.Errorf("errors = %+v, want field %s", res.Errors, tc.field)
			}
		})
	}
}

func TestContainmentAudit(t *testing.T) {
	f := newContainFixture(t)
	p := f.createPlan(t, containBody)
	f.approve(t, p)
	run := f.startRun(t, p)
	f.waitRun(t, run.ID)

	var recs []firebreak.AuditRecord
	from, pages := int64(0), 0
	for {
		w := f.call("GET", fmt.Sprintf("/api/v1/audit?from=%d&limit=3", from), "", f.alice)
		if w.Code != 200 {
			t.Fatalf("GET audit: %d %s", w.Code, w.Body)
		}
		res := decode[fbhttp.AuditResponse](t, w)
		if res.Size != f.log.Size() {
			t.Errorf("size = %d, want %d", res.Size, f.log.Size())
		}
		recs = append(recs, res.Records...)
		if pages++; res.Next == 0 || pages > 100 {
			break
		}
		if res.Next != from+int64(len(res.Records)) {
			t.Fatalf("next = %d after %d records from %d", res.Next, len(res.Records), from)
		}
		from = res.Next
	}
	if int64(len(recs)) != f.log.Size() {
		t.Fatalf("%d records paged, the log holds %d", len(recs), f.log.Size())
	}
	actors := map[string]string{}
	for i, r := range recs {
		if r.Seq != int64(i) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		if _, seen := actors[r.Action]; !seen {
			actors[r.Action] = r.Actor
		}
	}
	for action, want := range map[string]string{
		firebreak.AuditPlanCreated: "token:alice", firebreak.AuditPlanApproved: "token:bob",
		firebreak.AuditRunStarted: "token:alice", firebreak.AuditRunFinished: firebreak.SystemActor,
	} {
		if got, ok := actors[action]; !ok || got != want {
			t.Errorf("%s by %q (recorded: %v), want %q", action, got, ok, want)
		}
	}
	if _, ok := actors[firebreak.AuditRunItems]; !ok {
		t.Errorf("no %s record: %v", firebreak.AuditRunItems, actors)
	}

	w := f.call("GET", fmt.Sprintf("/api/v1/audit?from=%d", f.log.Size()+5), "", f.alice)
	if res := decode[fbhttp.AuditResponse](t, w); w.Code != 200 || res.Records == nil || len(res.Records) != 0 || res.Next != 0 {
		t.Errorf("past the end: %d %s, want 200 and no records", w.Code, w.Body)
	}
	for _, tc := range []struct{ query, field string }{
		{"from=-1", "from"}, {"from=x", "from"}, {"limit=0", "limit"}, {"limit=1001", "limit"},
	} {
		res := wantError(t, f.call("GET", "/api/v1/audit?"+tc.query, "", f.alice), 400)
		if len(res.Errors) == 0 || res.Errors[0].Field != tc.field {
			t.Errorf("%s: errors = %+v, want field %s", tc.query, res.Errors, tc.field)
		}
	}

	t.Run("checkpoint", func(t *testing.T) {
		w := f.call("GET", "/api/v1/audit/checkpoint", "", f.alice)
		if w.Code != 200 {
			t.Fatalf("checkpoint: %d %s", w.Code, w.Body)
		}
		ck := decode[fbhttp.CheckpointResponse](t, w)
		v, err := note.NewVerifier(ck.VerifierKey)
		if err != nil {
			t.Fatalf("verifier key %q: %v", ck.VerifierKey, err)
		}
		n, err := note.Open([]byte(ck.Checkpoint), note.VerifierList(v))
		if err != nil {
			t.Fatalf("the checkpoint does not verify with the verifier key: %v\n%s", err, ck.Checkpoint)
		}
		tree, err := tlog.ParseTree([]byte(n.Text))
		if err != nil {
			t.Fatal(err)
		}
		if tree.N != ck.Size || ck.Size != f.log.Size() {
			t.Errorf("checkpoint covers %d records, size %d, log %d", tree.N, ck.Size, f.log.Size())
		}
		// A tampered checkpoint does not verify.
		bad := strings.Replace(ck.Checkpoint, strconv.FormatInt(ck.Size, 10), strconv.FormatInt(ck.Size+1, 10), 1)
		if _, err := note.Open([]byte(bad), note.VerifierList(v)); err == nil {
			t.Error("a checkpoint with another size verifies")
		}
	})
}

// TestContainmentTimelineActors checks that the timeline and the audit
// trail name who acted: "token:NAME" for API tokens, the operator's name
// for a signed-in session.
func TestContainmentTimelineActors(t *testing.T) {
	f := newContainFixture(t)
	if _, err := f.auth.CreateOperator(context.Background(), "test", "erin", firebreak.RoleApprover, password); err != nil {
		t.Fatal(err)
	}
	cookie, p, err := f.auth.Login(context.Background(), "erin", password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	session := append(sessionHeaders(cookie, p.Session.CSRFToken), "Content-Type", ctJSON)

	plan := f.createPlan(t, containBody) // token:alice
	w := f.do("POST", fmt.Sprintf("/api/v1/plans/%d/approvals", plan.ID), []byte(bind(plan.Version, plan.Hash)), session...)
	if w.Code != 201 {
		t.Fatalf("approve in a session: %d %s", w.Code, w.Body)
	}
	// Without the CSRF token a session cannot approve.
	noCSRF := append(sessionHeaders(cookie, ""), "Content-Type", ctJSON)
	w = f.do("POST", fmt.Sprintf("/api/v1/plans/%d/approvals", plan.ID), []byte(bind(plan.Version, plan.Hash)), noCSRF...)
	wantError(t, w, 403, "CSRF")
	w = f.do("PUT", fmt.Sprintf("/api/v1/plans/%d", plan.ID), []byte(stepUpBody), session...)
	if w.Code != 200 {
		t.Fatalf("revise in a session: %d %s", w.Code, w.Body)
	}
	v2 := decode[firebreak.Plan](t, w)
	if v2.Author != "erin" {
		t.Errorf("v2 author = %q, want erin", v2.Author)
	}
	run := f.startRun(t, &v2) // token:alice; no approval needed
	f.waitRun(t, run.ID)
	w = f.do("POST", fmt.Sprintf("/api/v1/runs/%d/rollback", run.ID), nil, "Authorization", "Bearer "+testToken)
	if w.Code != 201 {
		t.Fatalf("rollback with the static token: %d %s", w.Code, w.Body)
	}
	f.waitRun(t, decode[firebreak.Run](t, w).ID)

	got := map[string]string{}
	for _, e := range f.timeline(t) {
		got[e.Kind] = e.Actor
	}
	for kind, want := range map[string]string{
		"plan_created": "token:alice", "plan_approved": "erin", "plan_revised": "erin",
		"run_started": "token:alice", "rollback_started": fbhttp.APIActor,
	} {
		if got[kind] != want {
			t.Errorf("timeline %s by %q, want %q (all: %v)", kind, got[kind], want, got)
		}
	}
	recs, err := f.log.Records(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, r := range recs {
		if r.Action == firebreak.AuditPlanApproved || r.Action == firebreak.AuditPlanRevised || r.Action == firebreak.AuditRollbackStarted {
			audited = append(audited, r.Action+" "+r.Actor)
		}
	}
	want := []string{"plan.approved erin", "plan.revised erin", "rollback.started " + fbhttp.APIActor}
	if !slices.Equal(audited, want) {
		t.Errorf("audited %q, want %q", audited, want)
	}
}

// TestContainmentUnavailable checks the 503s of a server without a
// containment service or audit trail.
func TestContainmentUnavailable(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/api/v1/plans/1", "/api/v1/runs", "/api/v1/audit", "/api/v1/audit/checkpoint"} {
		w := f.do("GET", target, nil)
		wantError(t, w, 503, "not available")
		if w.Header().Get("Retry-After") == "" {
			t.Errorf("GET %s: 503 without Retry-After", target)
		}
	}
}
