package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// one of its accounts, checking what each page shows. With
// FIREBREAK_SCREENSHOTS=dir it saves a screenshot of each page there.
func TestBrowserWalksThroughAnIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser against a simulated attack")
	}
	chrome := chromiumPath(t)
	dir := t.TempDir()
	c, _ := openServe(t, dir)
	addOperator(t, dir, "alice", "responder", browserPassword)
	feedScenario(t, c, sim.ScenarioStuffing)
	waitIncident(t, c)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1100))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	type acts = []chromedp.Action[chromedp.Void]
	steps := []struct {
		name    string
		actions acts
		want    string
	}{
		// The overview sends a visitor who is not signed in to the form.
		{"login", acts{chromedp.Navigate(c.Server.URL() + "/")}, "Sign in to respond"},
		{"overview", acts{
			chromedp.SendKeys(chromedp.CSS("#name"), "alice"),
			chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
			chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)),
		}, "Thresholds in force"},
		{"incidents", acts{chromedp.Click(chromedp.CSS(`nav a[href="/incidents"]`))}, "newest opened first"},
		{"incident", acts{chromedp.Click(chromedp.CSS(`td a[href^="/incidents/"]`))}, "Affected accounts"},
		{"account", acts{chromedp.Click(chromedp.CSS(`td a[href^="/accounts/"]`))}, "kept for this account"},
		{"signed out", acts{chromedp.Click(chromedp.CSS(`.who button[type="submit"]`))}, "Sign in to respond"},
	}
	pages := map[string]string{}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		pages[s.name] = waitText(t, ctx, s.name, s.want)
		if s.name == "overview" {
			// The live charts draw once two stream frames have arrived.
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#chart-rate canvas"))); err != nil {
				t.Fatalf("overview charts: %v", err)
			}
		}
		if dir := os.Getenv("FIREBREAK_SCREENSHOTS"); dir != "" {
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s screenshot: %v", s.name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, s.name+".png"), shot, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	for _, want := range []string{"Credential stuffing", "compromised", "targeted", "Timeline"} {
		if !strings.Contains(pages["incident"], want) {
			t.Errorf("incident page does not show %q", want)
		}
	}
	if !strings.Contains(pages["overview"], "Signed in as alice") {
		t.Errorf("the overview does not show who is signed in")
	}
	// Signed out, the pages are closed again.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.Server.URL()+"/incidents")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "incidents after sign-out", "Sign in to respond")
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

// waitIncident waits until the engine has written an incident.
func waitIncident(t *testing.T, c *ServeCommand) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		page, err := c.Incidents.List(context.Background(), firebreak.IncidentFilter{})
		if err == nil && len(page.Incidents) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no incident was opened within 30 s")
}
