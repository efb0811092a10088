package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"firebreak"
	"firebreak/statuspage"
)

// TestLateStatusReachesOperatorWebhook checks that a late status promise is
// posted to the operators' Slack-compatible webhook.
func TestLateStatusReachesOperatorWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer hook.Close()
	t.Setenv(operatorWebhookEnv, hook.URL)
	c := &ServeCommand{Logger: slog.New(slog.DiscardHandler)}
	notify, err := c.operatorNotifier()
	if err != nil {
		t.Fatal(err)
	}
	late := []statuspage.Overdue{{Update: firebreak.StatusUpdate{ID: 7, IncidentID: 3, Title: "Unusual sign-ins",
		NextUpdateBy: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}, Late: 20 * time.Minute}}
	if err := notify(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], "Incident 3") || !strings.Contains(got[0], "Unusual sign-ins") {
		t.Fatalf("webhook received %q, want one message naming incident 3 and its title", got)
	}
}

// TestOperatorWebhookRefusesBadURL checks that a malformed webhook address
// stops serve from starting instead of failing silently later.
func TestOperatorWebhookRefusesBadURL(t *testing.T) {
	t.Setenv(operatorWebhookEnv, "not a url")
	c := &ServeCommand{Logger: slog.New(slog.DiscardHandler)}
	if _, err := c.operatorNotifier(); err == nil || !strings.Contains(err.Error(), operatorWebhookEnv) {
		t.Fatalf("err = %v, want a refusal naming %s", err, operatorWebhookEnv)
	}
}

// TestServeSelfService checks the wiring of the self-service pages: the
// signing key is created once, private, and reused; a valid link shows the
// account's page without signing in, and a tampered one the uniform page.
func TestServeSelfService(t *testing.T) {
	dir := t.TempDir()
	c, _ := openServe(t, dir)
	info, err := os.Stat(filepath.Join(dir, selfServiceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", selfServiceKeyFile, info.Mode().Perm())
	}
	now := time.Now().UTC()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "Stuffing", FirstSeen: now, LastSeen: now}
	acct := []firebreak.AffectedAccount{{Account: "u1", Tier: firebreak.TierTargeted, Confidence: 0.5, FirstSeen: now, LastSeen: now}}
	if err := c.Incidents.Create(context.Background(), inc, acct, firebreak.SystemActor); err != nil {
		t.Fatal(err)
	}
	tok, err := c.SelfTokens.Issue("u1", inc.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	base := c.Server.URL() + "/self-service/"
	code, valid := get(t, base+tok)
	if code != http.StatusOK || !strings.Contains(valid, "did not get in") {
		t.Errorf("valid link = %d, want the targeted account's page:\n%s", code, valid)
	}
	code, bad := get(t, base+tok[:len(tok)-2]+"xx")
	if code != http.StatusOK || strings.Contains(bad, "did not get in") {
		t.Errorf("tampered link = %d, want the uniform page without the account's facts:\n%s", code, bad)
	}
}

// TestServeOutboxDeliversInApp queues in-app notices in a real server and
// reads them back through the feed API the platform's app uses, each with
// the person's self-service link; a notice about an incident resolved
// meanwhile, or to an account the incident does not hold, is re-checked
// and not sent.
func TestServeOutboxDeliversInApp(t *testing.T) {
	c, _ := openServe(t, t.TempDir())
	ctx := context.Background()
	now := time.Now().UTC()
	open := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh, Title: "Stuffing", FirstSeen: now, LastSeen: now}
	done := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityLow, Title: "Over", FirstSeen: now, LastSeen: now}
	held := []firebreak.AffectedAccount{{Account: "u1", Tier: firebreak.TierAtRisk, Confidence: 0.8, FirstSeen: now, LastSeen: now}}
	for _, inc := range []*firebreak.Incident{open, done} {
		if err := c.Incidents.Create(ctx, inc, held, firebreak.SystemActor); err != nil {
			t.Fatal(err)
		}
	}
	resolved := firebreak.StateResolved
	if _, err := c.Incidents.Update(ctx, done.ID, firebreak.IncidentUpdate{State: &resolved}, "alice"); err != nil {
		t.Fatal(err)
	}
	notices := []firebreak.Notice{
		{IncidentID: open.ID, Account: "u1", Template: "inapp/at_risk", Channel: firebreak.ChannelInApp, Locale: "en", Text: "We asked you to confirm it is you."},
		{IncidentID: done.ID, Account: "u1", Template: "inapp/at_risk", Channel: firebreak.ChannelInApp, Locale: "en", Text: "Stale news."},
		{IncidentID: open.ID, Account: "u9", Template: "inapp/at_risk", Channel: firebreak.ChannelInApp, Locale: "en", Text: "Not yours."},
	}
	if _, err := c.Notices.Enqueue(ctx, notices); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		page, err := c.Notices.List(ctx, firebreak.NoticeFilter{State: firebreak.NoticeQueued})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Notices) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notices still queued after 20s", len(page.Notices))
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", c.Server.URL()+"/api/v1/feed/u1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "confirm it is you") || strings.Contains(string(body), "Stale news") {
		t.Fatalf("feed = %d %s: want the open incident's notice only", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), c.Server.URL()+"/self-service/") {
		t.Errorf("feed = %s: want the notice to carry the person's self-service link", body)
	}
	page, err := c.Notices.List(ctx, firebreak.NoticeFilter{IncidentID: open.ID, State: firebreak.NoticeFailed})
	if err != nil || len(page.Notices) != 1 || page.Notices[0].Account != "u9" || !strings.Contains(page.Notices[0].Reason, "no longer holds") {
		t.Fatalf("notice to an account the incident does not hold: %+v (err %v); want failed with the reason", page, err)
	}
	page, err = c.Notices.List(ctx, firebreak.NoticeFilter{IncidentID: done.ID})
	if err != nil || len(page.Notices) != 1 || page.Notices[0].State != firebreak.NoticeFailed || !strings.Contains(page.Notices[0].Reason, "resolved") {
		t.Fatalf("resolved incident's notice %+v (err %v): want failed, the reason naming the resolution", page, err)
	}
}
