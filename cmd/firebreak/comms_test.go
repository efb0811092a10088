package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
)

// TestCommsCommands runs a campaign of in-app notices through the plan and
// run commands of a real server, then reads it back with outbox, decides
// an appeal with appeals, and previews a notice with notices.
func TestCommsCommands(t *testing.T) {
	s := openPlanServer(t)
	u := []string{"--url", s.url}
	with := func(args ...string) []string { return append(args, u...) }

	out := mustCLI(t, with("plan", "create", "--incident", s.incident, "--step", "compromised:notify_inapp", "--stages", "1")...)
	wantLines(t, "plan create", out, "Plan 1 v1 for incident "+s.incident, "notify_inapp")
	out = mustCLI(t, with("run", "start", "1", "--watch")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wantLines(t, "run start --watch (last line)", lines[len(lines)-1], "Run 1 (apply of plan 1 v1): finished", "4/4 done", "4 confirmed")

	// The run queued one in-app notice per compromised account; the outbox
	// sends them shortly after. Count them once all are sent.
	deadline := time.Now().Add(5 * time.Second)
	for !regexMatch(`(?m)^inapp\s+0\s+4\s+0\s*$`, out) {
		if time.Now().After(deadline) {
			t.Fatalf("outbox never counted 4 sent in-app notices:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
		out = mustCLI(t, with("outbox", "--incident", s.incident)...)
	}
	wantLines(t, "outbox --incident", out, "Notices of incident "+s.incident+" by channel and state:", "CHANNEL  QUEUED  SENT  FAILED")
	for i := range 4 {
		row := `(?m)^\d+\s+` + s.incident + `\s+c` + strconv.Itoa(i) + `\s+inapp\s+inapp/compromised\s+sent\s+1\s*$`
		if !regexMatch(row, out) {
			t.Errorf("outbox lacks c%d's sent in-app notice:\n%s", i, out)
		}
	}
	if rows := noticeRows(out); rows != 4 {
		t.Errorf("outbox lists %d notices, want 4:\n%s", rows, out)
	}
	out = mustCLI(t, with("outbox", "--incident", s.incident, "--channel", "email")...)
	if rows := noticeRows(out); rows != 0 || !regexMatch(`(?m)^inapp\s+0\s+4\s+0`, out) {
		t.Errorf("outbox --channel email: want the counts and no notices:\n%s", out)
	}
	out = mustCLI(t, with("outbox", "--limit", "2")...) // every incident: no counts
	if rows := noticeRows(out); rows != 2 || strings.Contains(out, "by channel and state") || !strings.Contains(out, "More notices follow") {
		t.Errorf("outbox --limit 2: want 2 notices, no counts and a hint:\n%s", out)
	}
	out = mustCLI(t, with("outbox", "--incident", s.incident, "--state", "sent", "--json")...)
	var page struct {
		Counts  firebreak.NoticeCounts `json:"counts"`
		Notices []firebreak.Notice     `json:"notices"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Notices) != 4 || page.Counts[firebreak.ChannelInApp].Sent != 4 {
		t.Fatalf("outbox --json = %v: %s", err, out)
	}
	first := strconv.FormatInt(page.Notices[0].ID, 10)
	out = mustCLI(t, with("notices", "show", first)...)
	wantLines(t, "notices show", out, "Notice "+first+" of incident "+s.incident+" to "+page.Notices[0].Account+" by inapp (inapp/compromised, en): sent after 1 attempt", page.Notices[0].Text)
	wantCLIError(t, with("notices", "show", "999"), "not found", "(not_found)")

	// An appeal recorded as the self-service page would, decided by an approver.
	a := &firebreak.Appeal{IncidentID: mustID(t, s.incident), Account: "c1", Tier: firebreak.TierCompromised, Comment: "That was me,\non my phone."}
	if _, err := sqlite.NewAppealStore(s.c.db).Record(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(a.ID, 10)
	out = mustCLI(t, with("appeals", "list", "--incident", s.incident)...)
	wantLines(t, "appeals list", out, "Appeals of incident "+s.incident+" by tier and state:", "That was me, on my phone.")
	if !regexMatch(`(?m)^compromised\s+1\s+0\s+0\s+0\s*$`, out) || !regexMatch(`(?m)^`+id+`\s+c1\s+compromised\s+received\s`, out) {
		t.Errorf("appeals list: want c1's received appeal, counted:\n%s", out)
	}
	t.Setenv("FIREBREAK_TOKEN", s.approver)
	out = mustCLI(t, with("appeals", "decide", id, "--reject", "--reason", "Signed in from the botnet's prefix.")...)
	wantLines(t, "appeals decide", out, "Appeal "+id+" of incident "+s.incident+" (c1, compromised): rejected by token:bob at ",
		": Signed in from the botnet's prefix.")
	wantCLIError(t, with("appeals", "decide", id, "--lift", "--reason", "Changed my mind."), "(conflict)")
	wantCLIError(t, with("appeals", "decide", "999", "--lift", "--reason", "ok"), "not found", "(not_found)")
	t.Setenv("FIREBREAK_TOKEN", testToken)
	out = mustCLI(t, with("appeals", "list", "--incident", s.incident, "--state", "rejected", "--json")...)
	var l firebreak.AppealList
	if err := json.Unmarshal([]byte(out), &l); err != nil || len(l.Appeals) != 1 || l.Appeals[0].Reason != "Signed in from the botnet's prefix." ||
		l.Appeals[0].DecidedBy != "token:bob" {
		t.Errorf("appeals list --json = %v: %s", err, out)
	}
	wantCLIError(t, with("appeals", "list", "--incident", "999"), "not found", "(not_found)")

	out = mustCLI(t, with("notices", "preview", "--incident", s.incident, "--tier", "at_risk", "--channel", "email")...)
	wantLines(t, "notices preview", out, "Preview of en/email/at_risk for incident "+s.incident+", with the data of r0:", "\nSubject: ")
	out = mustCLI(t, with("notices", "preview", "--incident", s.incident, "--tier", "compromised", "--channel", "sms", "--locale", "en")...)
	if strings.Contains(out, "Subject:") || !strings.Contains(out, "en/sms/compromised") {
		t.Errorf("notices preview --channel sms: want text without a subject:\n%s", out)
	}
	wantCLIError(t, with("notices", "preview", "--incident", s.incident, "--tier", "at_risk", "--channel", "email", "--locale", "e n"), "locale", "(invalid)")
}

// noticeRows counts the rows of the outbox's notice table.
func noticeRows(out string) int {
	_, table, _ := strings.Cut(out, "ID  INCIDENT")
	n := 0
	for _, line := range strings.Split(table, "\n")[1:] {
		if line != "" && line[0] >= '0' && line[0] <= '9' {
			n++
		}
	}
	return n
}

// mustID parses an id the commands take.
func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCommsCommandUsage(t *testing.T) {
	url := []string{"--url", "http://127.0.0.1:1"} // nothing listens: usage errors come first
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"outbox bad state", append([]string{"outbox", "--state", "delivered"}, url...), `--state: "delivered" must be one of queued, sent, failed`},
		{"outbox bad channel", append([]string{"outbox", "--channel", "pigeon"}, url...), `--channel: "pigeon" must be one of`},
		{"outbox limit zero", append([]string{"outbox", "--limit", "0"}, url...), "--limit: must be 1 to 1000"},
		{"outbox non-numeric incident", append([]string{"outbox", "--incident", "one"}, url...), "invalid value"},
		{"outbox stray argument", append([]string{"outbox", "1"}, url...), `unexpected argument "1"`},
		{"appeals alone", []string{"appeals"}, "Usage: firebreak appeals"},
		{"unknown appeals command", []string{"appeals", "lift", "1"}, `unknown command "lift"`},
		{"list without incident", append([]string{"appeals", "list"}, url...), "--incident: required"},
		{"list bad state", append([]string{"appeals", "list", "--incident", "1", "--state", "open"}, url...), `--state: "open" must be one of`},
		{"decide without id", []string{"appeals", "decide", "--lift", "--reason", "ok"}, "decide: name the id first"},
		{"decide both", append([]string{"appeals", "decide", "1", "--lift", "--reject", "--reason", "ok"}, url...), "--lift, --reject: name exactly one"},
		{"decide neither", append([]string{"appeals", "decide", "1", "--reason", "ok"}, url...), "--lift, --reject: name exactly one"},
		{"decide without reason", append([]string{"appeals", "decide", "1", "--reject"}, url...), "--reason: required"},
		{"decide blank reason", append([]string{"appeals", "decide", "1", "--lift", "--reason", "  "}, url...), "--reason: required"},
		{"notices alone", []string{"notices"}, "Usage: firebreak notices"},
		{"unknown notices command", []string{"notices", "send"}, `unknown command "send"`},
		{"show non-numeric id", []string{"notices", "show", "x"}, `show: id "x" must be a positive integer`},
		{"preview without incident", append([]string{"notices", "preview", "--tier", "at_risk", "--channel", "email"}, url...), "--incident: required"},
		{"preview without tier", append([]string{"notices", "preview", "--incident", "1", "--channel", "email"}, url...), "--tier: required"},
		{"preview without channel", append([]string{"notices", "preview", "--incident", "1", "--tier", "at_risk"}, url...), "--channel: required"},
		{"preview bad tier", append([]string{"notices", "preview", "--incident", "1", "--tier", "sources", "--channel", "email"}, url...), `--tier: "sources" must be one of compromised, at_risk, targeted`},
		{"preview bad channel", append([]string{"notices", "preview", "--incident", "1", "--tier", "at_risk", "--channel", "fax"}, url...), `--channel: "fax" must be one of`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := cli(t, tc.args...)
			if !errors.Is(err, errUsage) {
				t.Errorf("err = %v, want errUsage", err)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
	t.Run("help lists the commands", func(t *testing.T) {
		out, _, err := cli(t, "help")
		if err != nil {
			t.Fatal(err)
		}
		wantLines(t, "help", out, "\toutbox ", "\tappeals ", "\tnotices ")
	})
	t.Run("server unreachable", func(t *testing.T) {
		_, _, err := cli(t, append([]string{"outbox", "--incident", "1"}, url...)...)
		if err == nil || errors.Is(err, errUsage) {
			t.Errorf("err = %v, want a connection error", err)
		}
	})
}
