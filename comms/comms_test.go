package comms_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"firebreak"
	"firebreak/comms"
	"firebreak/contain"
	"firebreak/idp"
	"firebreak/mock"
	"firebreak/notice"
	"firebreak/sqlite"
)

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// fixture is containment with a notifier on a real SQLite file: an
// incident with accounts c0.. (compromised), r0.. (at risk) and g0..
// (targeted), a simulated identity provider, and the outbox.
type fixture struct {
	db       *sqlite.DB
	incs     *sqlite.IncidentStore
	store    *sqlite.ContainmentStore
	notices  *sqlite.NoticeStore
	appeals  *sqlite.AppealStore
	status   *sqlite.StatusStore
	auditor  *mock.AuditLog
	notifier *comms.Notifier
	desk     *comms.Desk
	svc      *contain.Service
	incident *firebreak.Incident
	// skew moves the notifier's clock ahead of the real one (advance), so
	// that a test can make it read the incident's state again.
	skew atomic.Int64
}

// advance moves the notifier's clock past its Refresh: its next notice
// reads the incident, the status page and the actions again.
func (f *fixture) advance() { f.skew.Add(int64(notifierRefresh + time.Second)) }

// notifierRefresh is the fixture notifier's Refresh: the default's order,
// so that concurrent notices share one read as they do in production.
const notifierRefresh = 5 * time.Second

func newFixture(t *testing.T, compromised, atRisk, targeted int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: sqlite.NewDB(filepath.Join(t.TempDir(), "firebreak.db")), auditor: &mock.AuditLog{}}
	if err := f.db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.incs, f.store = sqlite.NewIncidentStore(f.db), sqlite.NewContainmentStore(f.db)
	f.notices, f.appeals, f.status = sqlite.NewNoticeStore(f.db), sqlite.NewAppealStore(f.db), sqlite.NewStatusStore(f.db)
	f.incident = &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing from 203.0.113.0/24", FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	if err := f.incs.Create(ctx, f.incident, nil, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	var accts []firebreak.AffectedAccount
	for _, g := range []struct {
		prefix string
		n      int
		tier   firebreak.Tier
	}{{"c", compromised, firebreak.TierCompromised}, {"r", atRisk, firebreak.TierAtRisk}, {"g", targeted, firebreak.TierTargeted}} {
		for i := range g.n {
			accts = append(accts, firebreak.AffectedAccount{Account: fmt.Sprintf("%s%d", g.prefix, i), Tier: g.tier,
				Confidence: 0.8, Evidence: "test", FirstSeen: t0, LastSeen: t0})
		}
	}
	if err := f.incs.UpsertAccounts(ctx, f.incident.ID, accts); err != nil {
		t.Fatal(err)
	}
	set, err := notice.Load(notice.LintConfig{AllowedHosts: []string{"status.example.com"}}, notice.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	f.notifier, err = comms.New(comms.Config{Incidents: f.incs, Facts: f.appeals, Notices: f.notices, Status: f.status,
		Templates: set, Org: "Example Corp", Refresh: notifierRefresh,
		Now:       func() time.Time { return time.Now().Add(time.Duration(f.skew.Load())) },
		StatusURL: func(id int64) string { return fmt.Sprintf("https://status.example.com/incidents/%d", id) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.notifier.Close() })
	f.svc = contain.NewService(contain.Config{})
	f.svc.Incidents, f.svc.Store, f.svc.Auditor = f.incs, f.store, f.auditor
	f.svc.Connectors = map[string]firebreak.Connector{"": idp.NewSim(idp.SimConfig{})}
	f.desk = &comms.Desk{Incidents: f.incs, Notices: f.notices, Appeals: f.appeals, Lifter: f.svc,
		Auditor: f.auditor, Notifier: f.notifier, Status: f.status}
	f.svc.Notifier, f.svc.Announce = f.notifier, f.desk.Announce
	t.Cleanup(func() { f.svc.Close() })
	return f
}

// run plans spec, approves it if it must be, runs it and waits for the end.
func (f *fixture) run(t *testing.T, spec firebreak.PlanSpec) (*firebreak.Plan, *firebreak.Run) {
	t.Helper()
	ctx := context.Background()
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
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
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := f.svc.Wait(wctx, r.ID); err != nil {
		t.Fatalf("run %d still going after 60s", r.ID)
	}
	if r, err = f.store.FindRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	return p, r
}

// allNotices returns every notice of the outbox.
func (f *fixture) allNotices(t *testing.T) []firebreak.Notice {
	t.Helper()
	var out []firebreak.Notice
	filter := firebreak.NoticeFilter{Limit: firebreak.MaxPageLimit}
	for {
		page, err := f.notices.List(context.Background(), filter)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Notices...)
		if page.Next == "" {
			return out
		}
		filter.Cursor = page.Next
	}
}

func containSpec() firebreak.PlanSpec {
	return firebreak.PlanSpec{Steps: []firebreak.PlanStep{
		{Select: firebreak.Selector{Tier: firebreak.TierCompromised}, Actions: []firebreak.ActionKind{firebreak.ActionForceReset}},
		{Select: firebreak.Selector{Tier: firebreak.TierAtRisk}, Actions: []firebreak.ActionKind{firebreak.ActionStepUp}},
	}}
}

func noticeSpec(tiers ...firebreak.Tier) firebreak.PlanSpec {
	var spec firebreak.PlanSpec
	for _, tier := range tiers {
		spec.Steps = append(spec.Steps, firebreak.PlanStep{Select: firebreak.Selector{Tier: tier},
			Actions: []firebreak.ActionKind{firebreak.ActionNotifyInApp, firebreak.ActionNotifyEmail}})
	}
	return spec
}

// A campaign of notices tells exactly the tiers it selects, once per
// account and channel, in words that fit the tier and what containment did,
// after announcing itself on the status page.
func TestCampaignNotifiesExactlyTheSelectedTiers(t *testing.T) {
	f := newFixture(t, 30, 40, 50)
	ctx := context.Background()
	f.run(t, containSpec())

	p, r := f.run(t, noticeSpec(firebreak.TierCompromised, firebreak.TierAtRisk))
	if p.Preview.NeedsApproval {
		t.Errorf("a campaign to 70 accounts needs approval (%s); notices need it only above the limit of 100", p.Preview.Why)
	}
	if r.State != firebreak.RunFinished || r.Counts.Confirmed != 140 {
		t.Fatalf("run %s with %+v; want finished with 140 confirmed", r.State, r.Counts)
	}
	got := f.allNotices(t)
	seen := map[string]int{}
	first := time.Time{}
	for _, n := range got {
		seen[n.Account+"/"+string(n.Channel)]++
		if strings.HasPrefix(n.Account, "g") {
			t.Errorf("targeted account %s was told, but the campaign selected compromised and at_risk only", n.Account)
		}
		if first.IsZero() || n.CreatedAt.Before(first) {
			first = n.CreatedAt
		}
		switch {
		case strings.HasPrefix(n.Account, "r"):
			if !strings.Contains(n.Text, "second check") || n.Template != "inapp/at_risk" && n.Template != "email/at_risk" {
				t.Errorf("at-risk notice %s (%s) does not say a step-up was required: %q", n.Template, n.Account, n.Text)
			}
		case strings.HasPrefix(n.Account, "c"):
			if !strings.Contains(n.Text, "choose a new password the next time") {
				t.Errorf("compromised notice of %s does not say a reset was required: %q", n.Account, n.Text)
			}
		}
		if !strings.Contains(n.Text, fmt.Sprintf("https://status.example.com/incidents/%d", f.incident.ID)) {
			t.Errorf("notice of %s does not point to the status page", n.Account)
		}
	}
	if len(got) != 140 || len(seen) != 140 {
		t.Fatalf("%d notices to %d account-channels; want 140 to 140 (one per account and channel)", len(got), len(seen))
	}

	thread, err := f.status.Thread(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(thread.Updates) != 1 || !strings.Contains(thread.Updates[0].Body, "40 by e-mail") && !strings.Contains(thread.Updates[0].Body, "70 by e-mail") {
		t.Fatalf("status thread %+v; want one announcement counting the e-mails", thread.Updates)
	}
	if ann := thread.Updates[0]; ann.PublishedAt.After(first) {
		t.Errorf("announced at %s, after the first notice was queued at %s", ann.PublishedAt, first)
	}
	if !f.auditor.Has(firebreak.AuditStatusPublished) {
		t.Error("the announcement is not in the audit trail")
	}

	// The same campaign again queues nothing new.
	_, r2 := f.run(t, noticeSpec(firebreak.TierCompromised, firebreak.TierAtRisk))
	if n := len(f.allNotices(t)); n != 140 || r2.Counts.Confirmed != 140 {
		t.Errorf("after a second campaign: %d notices, run %+v; want still 140 notices", n, r2.Counts)
	}
}

// A campaign stopped half-way by a restart goes on from where it was, and
// every account still gets exactly one notice.
func TestCampaignResumesAfterRestart(t *testing.T) {
	f := newFixture(t, 0, 1500, 0)
	ctx := context.Background()
	spec := noticeSpec(firebreak.TierAtRisk)
	spec.RateLimit = 1000 // 3,000 notices (two channels): about four seconds with the pacer's first second
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, spec, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Approve(ctx, p.ID, p.Version, p.Hash, "bob", "ok"); err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	f.svc.Close() // the process stops mid-run
	half, err := f.store.FindRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if half.State != firebreak.RunRunning || half.Counts.Confirmed == 0 || half.Counts.Confirmed >= half.Total {
		t.Fatalf("after the stop: %s with %+v; want a run stopped part-way", half.State, half.Counts)
	}

	again := contain.NewService(contain.Config{})
	again.Incidents, again.Store, again.Auditor = f.incs, f.store, f.auditor
	again.Notifier, again.Announce = f.notifier, f.desk.Announce
	t.Cleanup(func() { again.Close() })
	if err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := again.Wait(wctx, r.ID); err != nil {
		stuck, _ := f.store.FindRun(ctx, r.ID)
		t.Fatalf("the resumed run did not end within 60s: %+v", stuck)
	}
	done, err := f.store.FindRun(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != firebreak.RunFinished || done.Counts.Confirmed != done.Total {
		t.Errorf("after the restart: %s with %+v; want finished, all confirmed", done.State, done.Counts)
	}
	notices := f.allNotices(t)
	seen := map[string]bool{}
	for _, n := range notices {
		seen[n.Account+"/"+string(n.Channel)] = true
	}
	if len(notices) != 3000 || len(seen) != 3000 {
		t.Errorf("%d notices to %d account-channels; want 3,000 to 3,000 (one per account and channel)", len(notices), len(seen))
	}
	if thread, _ := f.status.Thread(ctx, f.incident.ID); thread == nil || len(thread.Updates) != 1 {
		t.Errorf("status thread %+v; want the one announcement (a resumed run announces nothing again)", thread)
	}
}

// Without its status page entry a campaign does not start: nothing is queued.
func TestCampaignRefusedWhenItCannotBeAnnounced(t *testing.T) {
	f := newFixture(t, 5, 0, 0)
	ctx := context.Background()
	p, err := f.svc.CreatePlan(ctx, f.incident.ID, noticeSpec(firebreak.TierCompromised), "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.desk.Status = failingStatus{f.status}
	_, err = f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice")
	if firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
		t.Fatalf("start without a status page: %v; want EUNAVAILABLE", err)
	}
	if runs, _ := f.store.ListRuns(ctx, p.ID); len(runs) != 0 {
		t.Errorf("%d runs were created", len(runs))
	}
	if n := len(f.allNotices(t)); n != 0 {
		t.Errorf("%d notices queued", n)
	}
	// Without a notifier, plans with notices cannot run at all.
	f.svc.Notifier = nil
	f.desk.Status = f.status
	if _, err := f.svc.StartRun(ctx, p.ID, p.Version, p.Hash, "alice"); firebreak.ErrorCode(err) != firebreak.EUNAVAILABLE {
		t.Errorf("start without a notifier: %v; want EUNAVAILABLE", err)
	}
}

// The notifier re-checks the current state: an account the incident no
// longer holds, a resolved incident, or no promise of a next update get no
// notice, and the item is rejected (skipped with the reason), never retried.
func TestNotifierRejectsWhatIsNoLongerDue(t *testing.T) {
	f := newFixture(t, 2, 0, 0)
	ctx := context.Background()
	req := func(account string) firebreak.ActionRequest {
		return firebreak.ActionRequest{Action: firebreak.ActionNotifyEmail, IncidentID: f.incident.ID, Target: account, Key: "k-" + account}
	}
	wantRejected := func(err error, why string) {
		t.Helper()
		if firebreak.ProviderOutcome(err) != firebreak.CallRejected || !strings.Contains(err.Error(), why) {
			t.Errorf("got %v; want rejected because %q", err, why)
		}
	}
	wantRejected(f.notifier.Apply(ctx, req("c0")), "no status page entry")
	u := firebreak.StatusUpdate{IncidentID: f.incident.ID, Phase: firebreak.PhaseIdentified, Title: "t", Body: "b",
		Author: "alice", NextUpdateBy: time.Now().Add(time.Hour)}
	if err := f.status.Publish(ctx, &u); err != nil {
		t.Fatal(err)
	}
	f.advance()
	wantRejected(f.notifier.Apply(ctx, req("nobody")), "no longer holds")
	wantRejected(f.notifier.Apply(ctx, firebreak.ActionRequest{Action: firebreak.ActionStepUp, IncidentID: f.incident.ID, Target: "c0"}), "not a notice action")
	wantRejected(f.notifier.Revert(ctx, req("c0")), "cannot be unsent")
	only, err := comms.New(comms.Config{Incidents: f.incs, Facts: f.appeals, Notices: f.notices, Status: f.status,
		Templates: f.notifier.Templates(), Org: "Example Corp", Channels: []firebreak.Channel{firebreak.ChannelInApp},
		StatusURL: func(int64) string { return "https://status.example.com/" }})
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	wantRejected(only.Apply(ctx, req("c0")), "no email channel is configured")
	if err := f.notifier.Apply(ctx, req("c0")); err != nil {
		t.Fatal(err)
	}
	if err := f.notifier.Apply(ctx, req("c0")); err != nil {
		t.Fatalf("a repeat after an unknown outcome: %v; want nil (the outbox keeps one)", err)
	}
	resolved := firebreak.StateResolved
	if _, err := f.incs.Update(ctx, f.incident.ID, firebreak.IncidentUpdate{State: &resolved}, "alice"); err != nil {
		t.Fatal(err)
	}
	f.advance()
	wantRejected(f.notifier.Apply(ctx, req("c1")), "resolved")
	if n := f.allNotices(t); len(n) != 1 || n[0].Account != "c0" {
		t.Errorf("outbox holds %+v; want the one notice of c0", n)
	}
}

// An operator's lift of an appeal runs a rollback and counts as a measured
// false positive of the appeal's tier; a decided appeal cannot be decided again.
func TestDeskAppealDecisionsAndMetrics(t *testing.T) {
	f := newFixture(t, 10, 40, 5)
	ctx := context.Background()
	f.run(t, containSpec())
	f.run(t, noticeSpec(firebreak.TierAtRisk))

	appeal := func(account string, tier firebreak.Tier) *firebreak.Appeal {
		a := &firebreak.Appeal{IncidentID: f.incident.ID, Account: account, Tier: tier, Comment: "that was me"}
		if _, err := f.appeals.Record(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1, a2 := appeal("r1", firebreak.TierAtRisk), appeal("r2", firebreak.TierAtRisk)
	// A reset cannot be lifted: the appeal stays open for another decision.
	c0 := appeal("c0", firebreak.TierCompromised)
	if _, err := f.desk.DecideAppeal(ctx, c0.ID, true, "confirmed by phone", "bob"); firebreak.ErrorCode(err) != firebreak.ECONFLICT {
		t.Errorf("lifting a reset: %v; want ECONFLICT", err)
	}
	if got, err := f.appeals.FindAppeal(ctx, c0.ID); err != nil || !got.State.Open() {
		t.Errorf("after a lift that could not run: %+v, %v; want the appeal still open", got, err)
	}
	if _, err := f.desk.DecideAppeal(ctx, a1.ID, true, " ", "bob"); !isField(err, "reason") {
		t.Errorf("a decision without a reason: %v; want a field error naming reason", err)
	}
	lifted, err := f.desk.DecideAppeal(ctx, a1.ID, true, "known device, confirmed by phone", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if lifted.State != firebreak.AppealLifted || lifted.DecidedBy != "bob" || !strings.Contains(lifted.Reason, "rollback run") {
		t.Errorf("lifted appeal %+v", lifted)
	}
	if _, err := f.desk.DecideAppeal(ctx, a1.ID, false, "again", "bob"); firebreak.ErrorCode(err) != firebreak.ECONFLICT {
		t.Errorf("deciding a decided appeal: %v; want ECONFLICT", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, r := range mustRuns(t, f) {
		f.svc.Wait(wctx, r.ID)
	}
	acts, err := f.appeals.AccountActions(ctx, f.incident.ID, "r1")
	if err != nil || len(acts) != 1 || !acts[0].Undone {
		t.Errorf("r1's actions after the lift: %+v, %v; want its step-up undone", acts, err)
	}
	if _, err := f.desk.DecideAppeal(ctx, a2.ID, false, "the sign-in came from the campaign's proxy", "bob"); err != nil {
		t.Fatal(err)
	}
	if !f.auditor.Has(firebreak.AuditAppealDecided) {
		t.Error("decisions are not in the audit trail")
	}

	m, err := f.desk.Metrics(ctx, f.incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Notices[firebreak.ChannelEmail]; got.Queued != 40 {
		t.Errorf("email notices %+v; want 40 queued", got)
	}
	want := map[firebreak.Tier]firebreak.TierFalsePositives{
		firebreak.TierCompromised: {Tier: firebreak.TierCompromised, ActedOn: 10, Appealed: 1},
		firebreak.TierAtRisk:      {Tier: firebreak.TierAtRisk, ActedOn: 40, Appealed: 2, Lifted: 1, Rate: 1.0 / 40},
		firebreak.TierTargeted:    {Tier: firebreak.TierTargeted},
	}
	if len(m.Tiers) != 3 {
		t.Fatalf("metrics tiers %+v", m.Tiers)
	}
	for _, got := range m.Tiers {
		if got != want[got.Tier] {
			t.Errorf("tier %s: %+v; want %+v (notices do not count as acted on)", got.Tier, got, want[got.Tier])
		}
	}
	if all, err := f.desk.Metrics(ctx, 0); err != nil || all.Notices[firebreak.ChannelInApp].Queued != 40 {
		t.Errorf("metrics of every incident: %+v, %v; want the 40 in-app notices", all, err)
	}
	if _, err := f.desk.Metrics(ctx, 999); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		t.Errorf("metrics of an unknown incident: %v; want ENOTFOUND", err)
	}
}

// A preview renders the template a campaign would use, with the incident's
// real data and the first account of the tier.
func TestDeskPreview(t *testing.T) {
	f := newFixture(t, 0, 3, 0)
	ctx := context.Background()
	f.run(t, firebreak.PlanSpec{Steps: containSpec().Steps[1:]})
	p, err := f.desk.Preview(ctx, f.incident.ID, firebreak.TierAtRisk, firebreak.ChannelEmail, "de-AT")
	if err != nil {
		t.Fatal(err)
	}
	if p.Template != "de/email/at_risk" || p.Account != "r0" || p.Subject == "" || p.HTML == "" || !strings.Contains(p.Text, "r0") {
		t.Errorf("preview %+v; want the German e-mail of r0", p)
	}
	empty, err := f.desk.Preview(ctx, f.incident.ID, firebreak.TierCompromised, firebreak.ChannelEmail, "")
	if err != nil || empty.Account != "" || !strings.Contains(empty.Text, comms.SampleAccount) {
		t.Errorf("preview of an empty tier: %+v, %v; want the sample account", empty, err)
	}
	if _, err := f.desk.Preview(ctx, f.incident.ID, firebreak.TierAtRisk, firebreak.ChannelSlack, ""); !isField(err, "channel") {
		t.Errorf("preview on slack: %v; want a field error naming channel", err)
	}
	if _, err := f.desk.Preview(ctx, f.incident.ID, "nobody", firebreak.ChannelEmail, ""); !isField(err, "tier") {
		t.Errorf("preview of an unknown tier: %v; want a field error naming tier", err)
	}
	if _, err := f.desk.Preview(ctx, 999, firebreak.TierAtRisk, firebreak.ChannelEmail, ""); firebreak.ErrorCode(err) != firebreak.ENOTFOUND {
		t.Errorf("preview of an unknown incident: %v; want ENOTFOUND", err)
	}
}

func mustRuns(t *testing.T, f *fixture) []*firebreak.Run {
	t.Helper()
	runs, err := f.store.ListRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func isField(err error, field string) bool {
	var fe *firebreak.FieldError
	return errors.As(err, &fe) && fe.Field == field
}

// failingStatus refuses to publish.
type failingStatus struct{ firebreak.StatusService }

func (failingStatus) Publish(context.Context, *firebreak.StatusUpdate) error {
	return firebreak.Errorf(firebreak.EINTERNAL, "disk full")
}
