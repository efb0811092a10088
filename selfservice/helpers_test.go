package selfservice_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/contain"
	"firebreak/idp"
	"firebreak/selfservice"
	"firebreak/sqlite"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// fixture is the self-service page over a real SQLite file, a containment
// run against the simulated identity provider, and a loopback server.
type fixture struct {
	db      *sqlite.DB
	appeals *sqlite.AppealStore
	sim     *idp.Sim
	svc     *contain.Service
	auditor *memAuditor
	tokens  *selfservice.Tokens
	inc     *firebreak.Incident
	srv     *httptest.Server
}

// newFixture stores an incident with c0 (compromised), r0, r1 (at risk)
// and g0 (targeted); runs a plan that resets, signs out and steps up c0
// and steps up r0 and r1; and serves the page with cfg.
func newFixture(t testing.TB, cfg selfservice.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db")), auditor: &memAuditor{}}
	if err := f.db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	incs, cs := sqlite.NewIncidentStore(f.db), sqlite.NewContainmentStore(f.db)
	f.appeals = sqlite.NewAppealStore(f.db)
	f.sim = idp.NewSim(idp.SimConfig{})
	f.svc = contain.NewService(contain.Config{})
	f.svc.Incidents, f.svc.Store, f.svc.Auditor = incs, cs, f.auditor
	f.svc.Connectors = map[string]firebreak.Connector{"": f.sim}
	t.Cleanup(func() { f.svc.Close() })

	f.inc = &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	accounts := []firebreak.AffectedAccount{
		{Account: "c0", Tier: firebreak.TierCompromised, Confidence: 0.973, Evidence: "login from 203.0.113.7 after 41 failures", FirstSeen: t0, LastSeen: t0},
		{Account: "r0", Tier: firebreak.TierAtRisk, Confidence: 0.61, Evidence: "3 near-miss passwords", FirstSeen: t0, LastSeen: t0},
		{Account: "r1", Tier: firebreak.TierAtRisk, Confidence: 0.61, Evidence: "3 near-miss passwords", FirstSeen: t0, LastSeen: t0},
		{Account: "g0", Tier: firebreak.TierTargeted, Confidence: 0.5, Evidence: "1 attempt", FirstSeen: t0, LastSeen: t0},
	}
	if err := incs.Create(ctx, f.inc, accounts, "alice"); err != nil {
		t.Fatal(err)
	}
	spec := firebreak.PlanSpec{Stages: []float64{1}, Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset, firebreak.ActionRevokeSessions, firebreak.ActionStepUp}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
	p, err := f.svc.CreatePlan(ctx, f.inc.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.Preview.NeedsApproval {
		if _, err := f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "ok"); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, r.ID)

	f.tokens, err = selfservice.NewTokens(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	appeals := &selfservice.Appeals{Store: f.appeals, Facts: f.appeals, Lifter: f.svc, Auditor: f.auditor, Policy: selfservice.DefaultPolicy()}
	h, err := selfservice.NewHandler(cfg, f.tokens, incs, f.appeals, appeals)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) wait(t testing.TB, runID int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.svc.Wait(ctx, runID); err != nil {
		t.Fatalf("run %d: %v", runID, err)
	}
}

// token issues a token for account in the fixture's incident.
func (f *fixture) token(t testing.TB, account string) string {
	t.Helper()
	tok, err := f.tokens.Issue(account, f.inc.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) get(t testing.TB, path string) response {
	t.Helper()
	return do(t, http.MethodGet, f.srv.URL+path, nil)
}

func (f *fixture) post(t testing.TB, path, comment string) response {
	t.Helper()
	return do(t, http.MethodPost, f.srv.URL+path, strings.NewReader(url.Values{"comment": {comment}}.Encode()))
}

func do(t testing.TB, method, u string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// memAuditor is an in-memory audit trail.
type memAuditor struct {
	mu      sync.Mutex
	records []firebreak.AuditRecord
}

func (a *memAuditor) Append(_ context.Context, rec firebreak.AuditRecord) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec.Seq = int64(len(a.records))
	a.records = append(a.records, rec)
	return rec.Seq, nil
}

func (a *memAuditor) count(action string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.records {
		if r.Action == action {
			n++
		}
	}
	return n
}
