package ingest_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"firebreak"
	"firebreak/ingest"
)

// step is one expected result of Decoder.Next: a valid event for account, or
// a field error.
type step struct {
	line    int
	account string
	field   string
	reason  string
}

func runDecoder(t *testing.T, input string, opt ingest.Options, steps []step) []firebreak.Event {
	t.Helper()
	d := ingest.NewDecoder(strings.NewReader(input), opt)
	var events []firebreak.Event
	for i, s := range steps {
		var e firebreak.Event
		err := d.Next(&e)
		if d.Line() != s.line {
			t.Fatalf("step %d: Line() = %d, want %d (err %v)", i, d.Line(), s.line, err)
		}
		if s.account == "" {
			wantFieldError(t, err, s.line, s.field, s.reason)
			continue
		}
		if err != nil || e.Account != s.account {
			t.Fatalf("step %d (line %d): got account %q, err %v; want account %q", i, s.line, e.Account, err, s.account)
		}
		events = append(events, e)
	}
	var e firebreak.Event
	if err := d.Next(&e); err != io.EOF {
		t.Fatalf("after last step: err = %v, want io.EOF", err)
	}
	return events
}

func nativeLine(account string) string {
	return `{"time":"2026-03-02T08:15:04.123Z","account":"` + account + `","outcome":"success","ip":"1.2.3.4","user_agent":"UA-` + account + `"}`
}

func TestDecoderNativeBadInput(t *testing.T) {
	var b strings.Builder
	var steps []step
	b.WriteString("\xEF\xBB\xBF" + nativeLine("first") + "\r\n\n  \n")
	steps = append(steps, step{line: 1, account: "first"})
	line := 4
	for _, tt := range nativeBad {
		b.WriteString(tt.line + "\n" + nativeLine("ok") + "\r\n")
		steps = append(steps, step{line: line, field: tt.field, reason: tt.reason}, step{line: line + 1, account: "ok"})
		line += 2
	}
	b.WriteString(nativeLine("last")) // no final newline
	steps = append(steps, step{line: line, account: "last"})
	runDecoder(t, b.String(), ingest.Options{Now: now}, steps)

	// Oversized lines are rejected and skipped, whatever the read buffer size.
	for _, n := range []int{128, 100 << 10} {
		long := `{"account":"` + strings.Repeat("x", n+10) + `"}`
		in := nativeLine("a") + "\n" + long + "\n" + nativeLine("b")
		runDecoder(t, in, ingest.Options{Now: now, MaxLineBytes: n}, []step{
			{line: 1, account: "a"}, {line: 2, reason: "longer than"}, {line: 3, account: "b"},
		})
	}
}

func TestDecoderOCSFBadInput(t *testing.T) {
	valid := `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"ok"},"src_endpoint":{"ip":"1.2.3.4"}}`
	var b strings.Builder
	steps := []step{{line: 1, account: "ok"}}
	b.WriteString("\xEF\xBB\xBF" + valid + "\r\n")
	line := 2
	for _, tt := range ocsfBad {
		b.WriteString(tt.line + "\n\n" + valid + "\n")
		steps = append(steps, step{line: line, field: tt.field, reason: tt.reason}, step{line: line + 2, account: "ok"})
		line += 3
	}
	runDecoder(t, b.String(), ingest.Options{Now: now}, steps)
}

const rbaHeader = "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN,User Agent String,Browser Name and Version,OS Name and Version,Device Type,Login Successful,Is Attack IP,Is Account Takeover\r\n"

func TestDecoderRBABadInput(t *testing.T) {
	row := func(i, ts, user, ip, ua string) string {
		return i + "," + ts + "," + user + ",," + ip + ",NO,-,-,29695," + ua + ",Chrome Mobile 81.0.4044,Android 10,mobile,True,False,False\n"
	}
	ok := func(user string) string {
		return row("0", "2020-02-03 12:43:30.772", user, "10.0.65.171", "Mozilla/5.0")
	}
	in := "\xEF\xBB\xBF" + rbaHeader + // line 1
		ok("u1") + // 2
		row("2", "2020-02-03 12:43:30.772", "\"=HYPERLINK(\"\"x\"\")\"", "10.0.0.1", "\"multi\nline, agent\"") + // 3-4
		row("3", "2020-02-03 12:43:30.772", "+1", "10.0.0.1", "@SUM(A1)") + // 5
		"\"4\n\",2020-02-03 12:43:30,-42,\"12\r\n,3\",10.0.0.1,NO,-,-,29695,ua,Chrome 20200101,Android 10,mobile,True,False,False\n" + // 6-8
		row("5", "02/03/2020 12:43", "u5", "10.0.0.1", "ua") + // 9
		row("6", "2099-01-01 00:00:00.000", "u6", "10.0.0.1", "ua") + // 10
		row("7", "1999-01-01 00:00:00.000", "u7", "10.0.0.1", "ua") + // 11
		row("8", "2020-02-03 12:43:30.772", "u8", "fe80::1%eth0", "ua") + // 12
		row("9", "2020-02-03 12:43:30.772", "u9", "::ffff:1.2.3.4", "ua") + // 13
		row("10", "2020-02-03 12:43:30.772", "u10", "garbage", "ua") + // 14
		row("11", "2020-02-03 12:43:30.772", "", "10.0.0.1", "ua") + // 15
		"12,2020-02-03 12:43:30.772,u12\n" + // 16 too few fields
		row("13", "2020-02-03 12:43:30.772", "u1\"3", "10.0.0.1", "ua") + // 17 bare quote
		row("14", "2020-02-03 12:43:30.772", "u\xff", "10.0.0.1", "ua") + // 18
		row("15", "2020-02-03 12:43:30.772", "u\x00", "10.0.0.1", "ua") + // 19
		row("16", "2020-02-03 12:43:30.772", "u16", "10.0.0.1", strings.Repeat("x", 600)) + // 20
		ok("u17") + // 21
		"17,2020-02-03 12:43:30.772,u17,,10.0.0.1,NO,-,-,29695,ua,\"Chrome\n81\",Android 10,mobile,True,False,False\n" + // 22-23
		row("18", "2020-02-03 12:43:30.772", "u18", "10.0.0.1", "\"never closed") + // 24
		ok("lost") // 25, inside the open quote
	events := runDecoder(t, in, ingest.Options{Now: now, MaxLineBytes: 512}, []step{
		{line: 2, account: "u1"},
		{line: 3, field: "user_agent", reason: "control character"},
		{line: 5, account: "+1"},
		{line: 6, account: "-42"},
		{line: 9, field: "Login Timestamp", reason: "not a time"},
		{line: 10, field: "time", reason: "future"},
		{line: 11, field: "time", reason: "before 2000"},
		{line: 12, field: "ip", reason: "zone"},
		{line: 13, field: "ip", reason: "IPv4-mapped"},
		{line: 14, field: "IP Address", reason: "not an IP"},
		{line: 15, field: "account", reason: "required"},
		{line: 16, reason: "record has 3 fields, header has 16"},
		{line: 17, reason: "malformed CSV"},
		{line: 18, field: "account", reason: "invalid UTF-8"},
		{line: 19, field: "account", reason: "control character"},
		{line: 20, reason: "record longer than 512 bytes"},
		{line: 21, account: "u17"},
		{line: 22, field: "browser", reason: "control character"}, // the journal could not read it back
		{line: 24, reason: "malformed CSV"},
	})
	if got, want := events[1].UserAgent, "@SUM(A1)"; got != want {
		t.Errorf("formula: UserAgent = %q, want %q", got, want)
	}
	// A version that cannot be a major version (a date) is unknown, not an
	// error: the login itself is fine.
	if got, want := events[2].Agent, (firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Chrome"}); got != want {
		t.Errorf("multi-line record: Agent = %+v, want %+v", got, want)
	}
}

func TestDecoderRBABadHeader(t *testing.T) {
	d := ingest.NewDecoder(strings.NewReader("index,Login Timestamp,IP Address\n0,2020-02-03 12:43:30.772,1.2.3.4\n"), ingest.Options{})
	var e firebreak.Event
	for range 2 { // fatal: returned again on every call
		err := d.Next(&e)
		var fe *firebreak.FieldError
		if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), `column "User ID" missing`) {
			t.Fatalf("err = %v, want a fatal error naming the missing column", err)
		}
	}
}

func TestDecoderRBAHead(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "rba", "rba-dataset-head.csv")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("RBA data set head %s not present; skipping", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := ingest.NewDecoder(f, ingest.Options{Agents: panicAgents{}})
	var events []firebreak.Event
	for {
		var e firebreak.Event
		err := d.Next(&e)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", d.Line(), err)
		}
		events = append(events, e)
	}
	if d.Format() != ingest.FormatRBA || len(events) != 19 {
		t.Fatalf("format %q, %d events; want rba, 19", d.Format(), len(events))
	}
	var success, attack int
	for _, e := range events {
		if e.Outcome == firebreak.OutcomeSuccess {
			success++
		}
		if e.Label.Attack {
			attack++
		}
	}
	if success != 7 || attack != 2 {
		t.Errorf("%d successes, %d attack IPs; want 7 and 2 (SOURCE.md)", success, attack)
	}
	first := events[0]
	if got := first.Time.Format("2006-01-02 15:04:05.000"); got != "2020-02-03 12:43:30.772" || first.Account != "-4324475583306591935" ||
		first.Country != "NO" || first.Region != "" || first.ASN != 29695 ||
		first.Agent != (firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Firefox", Major: 20}) {
		t.Errorf("first event = %+v", first)
	}
}

// panicAgents fails the test if the decoder asks it for an agent the format
// already provides.
type panicAgents struct{}

func (panicAgents) Parse(string) firebreak.Agent { panic("agent parser called for RBA") }

type fakeAgents struct{}

func (fakeAgents) Parse(ua string) firebreak.Agent {
	return firebreak.Agent{DeviceType: "desktop", Browser: ua}
}

func TestDecoderAgentsAndDetection(t *testing.T) {
	tests := []struct {
		name, input string
		want        ingest.Format
	}{
		{"ndjson", "\n" + nativeLine("a") + "\n", ingest.FormatNDJSON},
		{"rba without agent columns", "\xEF\xBB\xBF\nLogin Timestamp,User ID,IP Address,Login Successful,User Agent String\r\n\r\n\n2020-02-03 12:43:30.772,a,1.2.3.4,True,UA-a", ingest.FormatRBA},
		{"ocsf", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"a"},"src_endpoint":{"ip":"1.2.3.4"},"http_request":{"user_agent":"UA-a"}}`, ingest.FormatOCSF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ingest.NewDecoder(strings.NewReader(tt.input), ingest.Options{Agents: fakeAgents{}})
			var e firebreak.Event
			if err := d.Next(&e); err != nil {
				t.Fatal(err)
			}
			if d.Format() != tt.want || e.Agent.Browser != "UA-a" {
				t.Fatalf("format %q, agent %+v; want %q and the parser's agent", d.Format(), e.Agent, tt.want)
			}
		})
	}
}

// TestDecoderKeepsCarriedAgent: a journal line carries the agent it was
// accepted with (for RBA it came from columns and cannot be re-derived from
// the user agent), so the Decoder must not parse the user agent over it.
func TestDecoderKeepsCarriedAgent(t *testing.T) {
	carried := firebreak.Agent{DeviceType: "desktop", OS: "Linux", Browser: "Firefox", Major: 123}
	tests := []struct {
		name, line string
		want       firebreak.Agent
	}{
		{"carried agent kept", agentLine, carried},
		{"only browser_major carried", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"1.2.3.4","user_agent":"UA-a","browser_major":7}`,
			firebreak.Agent{Major: 7}},
		{"no agent: parsed", nativeLine("a"), firebreak.Agent{DeviceType: "desktop", Browser: "UA-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ingest.NewDecoder(strings.NewReader(tt.line), ingest.Options{Now: now, Agents: fakeAgents{}})
			var e firebreak.Event
			if err := d.Next(&e); err != nil {
				t.Fatal(err)
			}
			if e.Agent != tt.want {
				t.Fatalf("Agent = %+v, want %+v", e.Agent, tt.want)
			}
		})
	}
}

// TestJournalRoundTripRBA: an RBA event written with AppendNative and read
// back with a user agent parser keeps the data set's agent.
func TestJournalRoundTripRBA(t *testing.T) {
	in := rbaHeader + "0,2020-02-03 12:43:30.772,-1,,10.0.65.171,NO,-,-,29695,Mozilla/5.0 (X11),Chrome Mobile WebView 85.0.4183,Android 2.2,mobile,False,True,False\n"
	d := ingest.NewDecoder(strings.NewReader(in), ingest.Options{})
	var e firebreak.Event
	if err := d.Next(&e); err != nil {
		t.Fatal(err)
	}
	line := ingest.AppendNative(nil, &e)
	d = ingest.NewDecoder(strings.NewReader(string(line)), ingest.Options{Agents: fakeAgents{}})
	var got firebreak.Event
	if err := d.Next(&got); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := firebreak.Agent{DeviceType: "mobile", OS: "Android", Browser: "Chrome Mobile WebView", Major: 85}
	if got.Agent != want || !sameEvent(&got, &e) {
		t.Fatalf("read back %+v\nwant %+v (agent %+v)", got, e, want)
	}
}
