package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"firebreak"
	"firebreak/sim"
)

// chromiumPath finds Debian's chromium. CI installs it (.ci/run) and must run
// this test; elsewhere the test skips with a hint.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI: .ci/run installs it with apt-get")
	}
	t.Skip("chromium not found: install it (apt-get install chromium) to run the browser test")
	return ""
}

// TestBrowserWalksThroughAnIncident drives a real browser through the
// operator pages: a credential-stuffing attack is fed to a real server, and
// the test goes from the overview to the incident list, the incident, and
// one of its accounts, checking what each page shows. Then it contains the
// incident as two operators would: alice writes a plan with the form's
// defaults, bob approves it, alice runs it against the simulated identity
// provider and watches the run page until the run has finished. With
// FIREBREAK_SCREENSHOTS=dir it saves a screenshot of the main pages there.
func TestBrowserWalksThroughAnIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser against a simulated attack")
	}
	chrome := chromiumPath(t)
	dir := t.TempDir()
	// Operators are added as on a server that is not running yet: the
	// command holds the data directory's audit trail while it works.
	addOperator(t, dir, "alice", "responder", browserPassword)
	addOperator(t, dir, "bob", "approver", browserPassword)
	c := openBrowserServe(t, dir)
	feedScenario(t, c, sim.ScenarioStuffing)
	waitIncident(t, c)
	inc := reopenWorstIncident(t, c)
	incidentURL := fmt.Sprintf("%s/incidents/%d", c.Server.URL(), inc.ID)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1100))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	refused, err := watchCSP(ctx)
	if err != nil {
		t.Fatal(err)
	}

	type acts = []chromedp.Action[chromedp.Void]
	signIn := func(name string) acts {
		return acts{
			chromedp.SendKeys(chromedp.CSS("#name"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
			chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		}
	}
	signOut := acts{chromedp.Click(chromedp.CSS(`.who button[type="submit"]`))}
	base := c.Server.URL()
	steps := []struct {
		name    string
		actions acts
		want    string
		shot    bool // save a screenshot of the page
	}{
		// The overview sends a visitor who is not signed in to the form.
		{"login", acts{chromedp.Navigate(base + "/")}, "Sign in to respond", false},
		{"overview", signIn("alice"), "Thresholds in force", true},
		{"incidents", acts{chromedp.Click(chromedp.CSS(`nav a[href="/incidents"]`))}, "newest opened first", true},
		{"incident", acts{chromedp.Click(chromedp.CSS(fmt.Sprintf(`td a[href="/incidents/%d"]`, inc.ID)))}, "Affected accounts", true},
		{"account", acts{chromedp.Click(chromedp.CSS(`td a[href^="/accounts/"]`))}, "kept for this account", true},
		// alice writes a plan with the form's defaults from the incident page.
		{"containment", acts{chromedp.Navigate(incidentURL)}, "Write a plan", false},
		// A rate limit of 3 calls a second makes the run last a few seconds,
		// so that the run page shows it running and then follows it live.
		// Stepping up the at-risk tier, which is empty, is refused: the form
		// comes back with the reason, keeping what was entered.
		{"plan refused", acts{
			chromedp.SendKeys(chromedp.CSS("#rate-limit"), "3"),
			chromedp.Click(chromedp.CSS(`input[name="at_risk"][value="require_step_up"]`)),
			chromedp.Click(chromedp.CSS(`#plan-form button[type="submit"]`)),
		}, "matches nothing in incident", false},
		{"plan written", acts{
			chromedp.Click(chromedp.CSS(`input[name="at_risk"][value="require_step_up"]`)),
			chromedp.Click(chromedp.CSS(`#plan-form button[type="submit"]`)),
		}, "Needs a second person's approval", false},
		{"alice out", signOut, "Sign in to respond", false},
		// bob approves exactly the version the page shows him.
		{"bob in", append(acts{chromedp.Navigate(base + "/plans/1")}, signIn("bob")...), "Approve v1", false},
		{"approved", acts{chromedp.Click(chromedp.CSS(`#approve-form button[type="submit"]`))}, "approved by bob", false},
		{"bob out", signOut, "Sign in to respond", false},
		// alice runs it and watches the run page until it has finished.
		{"alice in", append(acts{chromedp.Navigate(base + "/plans/1")}, signIn("alice")...), "Run v1", false},
		{"run", acts{chromedp.Click(chromedp.CSS(`#run-form button[type="submit"]`))}, "Run 1 (apply)", true},
		{"plan", acts{chromedp.Navigate(base + "/plans/1")}, "approved by bob", true},
		{"contained", acts{chromedp.Click(chromedp.CSS(`.sub a[href^="/incidents/"]`))}, "contained", false},
		{"signed out", signOut, "Sign in to respond", false},
	}
	pages := map[string]string{}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		pages[s.name] = waitText(t, ctx, s.name, s.want)
		switch s.name {
		case "overview":
			// The live charts draw once two stream frames have arrived.
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#chart-rate canvas"))); err != nil {
				t.Fatalf("overview charts: %v", err)
			}
		case "run":
			pages[s.name] = waitRunOver(t, ctx)
		}
		if dir := os.Getenv("FIREBREAK_SCREENSHOTS"); dir != "" && s.shot {
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s screenshot: %v", s.name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.name+".png"), shot, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	for _, want := range []string{inc.Title, "compromised", "targeted", "Timeline", "Containment"} {
		if !strings.Contains(pages["incident"], want) {
			t.Errorf("incident page does not show %q", want)
		}
	}
	if !strings.Contains(pages["overview"], "Signed in as alice") {
		t.Errorf("the overview does not show who is signed in")
	}
	for _, want := range []string{"Run 1 (apply)", "plan 1 v1", "stage 3 of 3", "No failed actions."} {
		if !strings.Contains(pages["run"], want) {
			t.Errorf("run page does not show %q", want)
		}
	}
	for _, want := range []string{"alice", "revoke sessions", "approved by bob", "finished"} {
		if !strings.Contains(pages["plan"], want) {
			t.Errorf("plan page does not show %q", want)
		}
	}
	if !strings.Contains(pages["contained"], "approved by bob") || !strings.Contains(pages["contained"], "run 1") {
		t.Errorf("the incident's containment section does not show the approved plan and its run")
	}
	// Signed out, the pages are closed again.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.Server.URL()+"/incidents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "incidents after sign-out", "Sign in to respond")
	browseCommunication(t, ctx, c, inc, signIn, signOut)
	if msgs := refused(); len(msgs) > 0 {
		t.Errorf("the browser refused content under the CSP: %q", msgs)
	}
}

// browseCommunication tells the contained accounts in the app and follows
// what comes back, as alice and bob would: a campaign of in-app notices
// planned on the incident page and run, the outbox and a preview, a
// person's "this was me" on their self-service page, and bob's decision on
// the appeals page, which the incident's communication section then counts.
func browseCommunication(t *testing.T, ctx context.Context, c *ServeCommand, inc *firebreak.Incident,
	signIn func(string) []chromedp.Action[chromedp.Void], signOut []chromedp.Action[chromedp.Void]) {
	t.Helper()
	base := c.Server.URL()
	incidentURL := fmt.Sprintf("%s/incidents/%d", base, inc.ID)
	step := func(name, want string, shot bool, actions ...chromedp.Action[chromedp.Void]) string {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		page := waitText(t, ctx, name, want)
		if dir := os.Getenv("FIREBREAK_SCREENSHOTS"); dir != "" && shot {
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s screenshot: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Error(err)
			}
		}
		return page
	}
	step("alice again", "Thresholds in force", false, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/")}, signIn("alice")...)...)
	// The form ticks reset and sign-out for the compromised: untick them, tick the in-app notice.
	// "Run v1" is on the plan page only (the form names the actions too).
	plan := step("notice plan", "Run v1", false, chromedp.Navigate(incidentURL),
		chromedp.Click(chromedp.CSS(`details.plan-details summary`)), // folded once the incident has a plan
		chromedp.Click(chromedp.CSS(`input[name="compromised"][value="force_password_reset"]`)),
		chromedp.Click(chromedp.CSS(`input[name="compromised"][value="revoke_sessions"]`)),
		chromedp.Click(chromedp.CSS(`input[name="compromised"][value="notify_inapp"]`)),
		chromedp.Click(chromedp.CSS(`#plan-form button[type="submit"]`)))
	if !strings.Contains(plan, "notify inapp") {
		t.Errorf("the notice plan's page does not name its action:\n%s", plan)
	}
	if strings.Contains(plan, "Needs a second person's approval") {
		step("alice out again", "Sign in to respond", false, signOut...)
		step("bob approves notices", "Approve v1", false, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/plans/2")}, signIn("bob")...)...)
		step("notices approved", "approved by bob", false, chromedp.Click(chromedp.CSS(`#approve-form button[type="submit"]`)))
		step("bob out again", "Sign in to respond", false, signOut...)
		step("alice back", "Run v1", false, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/plans/2")}, signIn("alice")...)...)
	}
	step("notice run", "Run 2 (apply)", false, chromedp.Click(chromedp.CSS(`#run-form button[type="submit"]`)))
	if run := waitRunOver(t, ctx); !strings.Contains(run, "No failed actions.") {
		t.Errorf("the notice run did not queue every notice:\n%s", run)
	}
	outbox := step("outbox", "By channel and state", true, chromedp.Navigate(fmt.Sprintf("%s/outbox?incident_id=%d", base, inc.ID)))
	if !strings.Contains(outbox, "inapp") || strings.Contains(outbox, "No notices") {
		t.Errorf("the outbox does not list the campaign's in-app notices:\n%s", outbox)
	}
	step("preview", "choose a new password", true,
		chromedp.Navigate(fmt.Sprintf("%s/incidents/%d/preview?tier=compromised&channel=email&locale=en", base, inc.ID)))
	status := step("status page", "We are notifying the affected accounts", false, chromedp.Navigate(base+"/status/"))
	if !strings.Contains(status, "never contains a link to sign in") {
		t.Errorf("the campaign's announcement does not tell people how to spot a fake notice:\n%s", status)
	}

	// A compromised person says "this was me"; the policy queues it for review.
	page, err := c.Incidents.ListAccounts(context.Background(), inc.ID, firebreak.AccountFilter{Tier: firebreak.TierCompromised, Limit: 1})
	if err != nil || len(page.Accounts) == 0 {
		t.Fatalf("compromised accounts: %v", err)
	}
	tok, err := c.SelfTokens.Issue(page.Accounts[0].Account, inc.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	step("self-service", "This was me", false, chromedp.Navigate(base+"/self-service/"+tok))
	step("appealed", "Someone from our team will look at this", false,
		chromedp.SendKeys(chromedp.CSS("#comment"), "I was on holiday and signed in from the hotel."),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	step("alice out for bob", "Sign in to respond", false, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`.who button[type="submit"]`)))
	appealsURL := fmt.Sprintf("%s/incidents/%d/appeals", base, inc.ID)
	step("appeals", "Lift the restriction", true, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(appealsURL)}, signIn("bob")...)...)
	// Wait for the flash of the decision: the page also names the state
	// "rejected" in its filters before anything is decided.
	step("appeal decided", "is rejected.", false,
		chromedp.SendKeys(chromedp.CSS(`textarea[name="reason"]`), "The sign-in came from the campaign's proxy."),
		chromedp.Click(chromedp.CSS(`button[name="decision"][value="reject"]`)))
	comms := step("communication", "False positives measured from appeals", false, chromedp.Navigate(incidentURL))
	// Appeals by tier: received, lifted, queued for review, rejected, total.
	if !regexp.MustCompile(`compromised\s+0\s+0\s+0\s+1\s+1\b`).MatchString(comms) {
		t.Errorf("the incident's communication section does not count the rejected appeal:\n%s", comms)
	}
	step("bob out", "Sign in to respond", false, signOut...)
}

// reopenWorstIncident reopens the incident with the most compromised
// accounts, as a responder would before containing it: the engine resolves
// an attack's incident once the attack has gone quiet, and the simulated
// attack, two weeks of events fed at once, is over by the time it is
// scored.
func reopenWorstIncident(t *testing.T, c *ServeCommand) *firebreak.Incident {
	t.Helper()
	ctx := context.Background()
	page, err := c.Incidents.List(ctx, firebreak.IncidentFilter{Limit: firebreak.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var worst *firebreak.Incident
	for _, inc := range page.Incidents {
		if inc.MergedInto == 0 && (worst == nil || inc.Counts.Compromised > worst.Counts.Compromised) {
			worst = inc
		}
	}
	if worst == nil || worst.Counts.Compromised == 0 {
		t.Fatalf("no incident with compromised accounts among %d", len(page.Incidents))
	}
	// The engine resolves the incident right after opening it: wait for
	// that, so that it does not resolve it again after the reopening.
	for deadline := time.Now().Add(10 * time.Second); worst.State != firebreak.StateResolved && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if worst, err = c.Incidents.Find(ctx, worst.ID); err != nil {
			t.Fatal(err)
		}
	}
	if worst.State == firebreak.StateResolved {
		triaged := firebreak.StateTriaged
		if worst, err = c.Incidents.Update(ctx, worst.ID, firebreak.IncidentUpdate{State: &triaged}, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	return worst
}

// openBrowserServe opens `firebreak serve` in-process as openServe does,
// containing against an in-process simulated identity provider.
func openBrowserServe(t *testing.T, dir string) *ServeCommand {
	t.Helper()
	c := NewServeCommand(io.Discard, &syncBuffer{})
	c.Config.Addr, c.Config.DataDir, c.Config.LogLevel = "127.0.0.1:0", dir, "warn"
	c.Config.Token = testToken
	c.Config.Contain.SimIdP = true
	if err := c.Open(context.Background()); err != nil {
		c.Close()
		t.Fatalf("open serve: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	waitReady(t, c.Server.URL(), 30*time.Second)
	return c
}

// waitRunOver watches the run page, which the test does not reload, until
// it shows the run finished with every action done, and returns the page's
// text. The page must have shown the run running first: its progress
// follows the run live.
func waitRunOver(t *testing.T, ctx context.Context) string {
	t.Helper()
	var state, done string
	seen := map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		state, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#run-state")))
		done, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#run-done")))
		seen[state] = true
		if state == "finished" && done == "100%" {
			if !seen["running"] {
				t.Errorf("the run page never showed the run running (saw %v)", seen)
			}
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			if err != nil {
				t.Fatal(err)
			}
			return text
		}
	}
	t.Fatalf("the run page shows %q and %q done, want finished and 100%%", state, done)
	return ""
}

// watchCSP collects the browser's console reports of content refused under
// the Content-Security-Policy; call the returned func to read them.
func watchCSP(ctx context.Context) (func() []string, error) {
	var mu sync.Mutex
	var msgs []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			mu.Lock()
			msgs = append(msgs, e.Entry.Text)
			mu.Unlock()
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(msgs)
	}, err
}

// browserPassword is the browser test operator's password.
const browserPassword = "correct horse battery staple"

// addOperator creates an operator in dir with the real command, reading the
// password from standard input as a script would.
func addOperator(t *testing.T, dir, name, role, password string) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := &OperatorCommand{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(password + "\n")}
	err := cmd.Run(context.Background(), []string{"add", "--data", dir, "--name", name, "--role", role, "--password-stdin"})
	if err != nil {
		t.Fatalf("operator add: %v\n%s", err, stderr.String())
	}
}

// waitText waits until the page's text holds want (a click navigates
// asynchronously) and returns the text.
func waitText(t *testing.T, ctx context.Context, page, want string) string {
	t.Helper()
	var text string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); err == nil && strings.Contains(text, want) {
			return text
		}
	}
	t.Fatalf("%s page never showed %q; it shows:\n%.800s", page, want, text)
	return ""
}

// feedScenario sends a simulated scenario (20,000 accounts, two weeks) into
// the server's engine and waits until it is scored.
func feedScenario(t *testing.T, c *ServeCommand, scenario string) {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Scenario = 20000, 14, scenario
	var batch []firebreak.Event
	var n int64
	send := func() error {
		n += int64(len(batch))
		err := c.Engine.Ingest(context.Background(), batch)
		batch = nil
		return err
	}
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		x := *e
		x.Label = nil
		if batch = append(batch, x); len(batch) == 1000 {
			return send()
		}
		return nil
	})
	if err == nil {
		err = send()
	}
	if err != nil {
		t.Fatalf("feed %s: %v", scenario, err)
	}
	waitStats(t, c.Server.URL(), 60*time.Second, func(s firebreak.EngineStats) bool { return s.Events >= n })
}

// waitIncident waits until the engine has written an incident with
// compromised accounts (the one the test contains).
func waitIncident(t *testing.T, c *ServeCommand) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		page, err := c.Incidents.List(context.Background(), firebreak.IncidentFilter{})
		if err == nil && slices.ContainsFunc(page.Incidents, func(inc *firebreak.Incident) bool { return inc.Counts.Compromised > 0 }) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no incident with compromised accounts was opened within 30 s")
}
