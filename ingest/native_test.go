package ingest_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/ingest"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const fullLine = `{"time":"2026-03-02T08:15:04.123Z","account":"u0012345","outcome":"success",` +
	`"ip":"81.23.4.56","user_agent":"Mozilla/5.0 (X11)","device_id":"d-9f3a",` +
	`"country":"NO","region":"Viken","city":"Oslo","asn":2119,"lat":59.91,"lon":10.75,` +
	`"method":"password","app":"web","failure_reason":"",` +
	`"label":{"ato":false,"attack":true,"cohort":"stuffing"}}`

// agentLine carries the optional parsed agent, as the journal writes it.
const agentLine = `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1",` +
	`"user_agent":"Mozilla/5.0 (X11)","device_type":"desktop","os":"Linux","browser":"Firefox","browser_major":123}`

func TestParseNative(t *testing.T) {
	base := firebreak.Event{
		Time: time.Date(2026, 3, 2, 8, 15, 4, 123e6, time.UTC), Account: "u1",
		Outcome: firebreak.OutcomeFailure, IP: netip.MustParseAddr("2001:db8::1"),
	}
	with := func(f func(e *firebreak.Event)) firebreak.Event { e := base; f(&e); return e }
	tests := []struct {
		name string
		line string
		want firebreak.Event
	}{
		{"design example", fullLine, firebreak.Event{
			Time: base.Time, Account: "u0012345", Outcome: firebreak.OutcomeSuccess,
			IP: netip.MustParseAddr("81.23.4.56"), UserAgent: "Mozilla/5.0 (X11)", DeviceID: "d-9f3a",
			Country: "NO", Region: "Viken", City: "Oslo", ASN: 2119, Lat: 59.91, Lon: 10.75, HasGeo: true,
			Method: "password", App: "web", Label: &firebreak.Label{Attack: true, Cohort: "stuffing"},
		}},
		{"required only", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1"}`, base},
		{"offset normalised to UTC", `{"time":"2026-03-02T09:15:04.123+01:00","account":"u1","outcome":"failure","ip":"2001:db8::1"}`, base},
		{"country upper-cased", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","country":"no"}`,
			with(func(e *firebreak.Event) { e.Country = "NO" })},
		{"null is absent", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","city":null,"asn":null,"label":null}`, base},
		{"unknown fields ignored", `{"x":{"y":[1,2,{"z":null}]},"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","extra":1e9}`, base},
		{"escapes", `{"time":"2026-03-02T08:15:04.123Z","account":"u\u00e9\"1","outcome":"failure","ip":"2001:db8::1"}`,
			with(func(e *firebreak.Event) { e.Account = `ué"1` })},
		{"whitespace", " {\t\"time\" : \"2026-03-02T08:15:04.123Z\" ,\"account\":\"u1\",\"outcome\":\"failure\",\"ip\":\"2001:db8::1\" } ", base},
		{"empty label", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","label":{}}`,
			with(func(e *firebreak.Event) { e.Label = &firebreak.Label{} })},
		{"parsed agent", agentLine, with(func(e *firebreak.Event) {
			e.UserAgent = "Mozilla/5.0 (X11)"
			e.Agent = firebreak.Agent{DeviceType: "desktop", OS: "Linux", Browser: "Firefox", Major: 123}
		})},
		{"agent escapes and zero major", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","os":"Mac\u0020OS X","browser":"Other","browser_major":0}`,
			with(func(e *firebreak.Event) { e.Agent = firebreak.Agent{OS: "Mac OS X", Browser: "Other"} })},
		{"agent null and empty are absent", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","device_type":"","os":null,"browser":null,"browser_major":null}`, base},
		{"account change", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","type":"mfa_remove"}`,
			with(func(e *firebreak.Event) { e.Type = firebreak.TypeMFARemove })},
		{"explicit login is a login", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","type":"login"}`, base},
		{"escaped login is a login", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","type":"log\u0069n"}`, base},
		{"type null is a login", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","type":null}`, base},
		{"empty type is a login", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"failure","ip":"2001:db8::1","type":""}`, base},
		{"formula-like account is data", `{"time":"2026-03-02T08:15:04.123Z","account":"=cmd|' /C calc'!A0","outcome":"failure","ip":"2001:db8::1"}`,
			with(func(e *firebreak.Event) { e.Account = "=cmd|' /C calc'!A0" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got firebreak.Event
			if err := ingest.ParseNative([]byte(tt.line), &got, now); err != nil {
				t.Fatalf("ParseNative: %v", err)
			}
			if !sameEvent(&got, &tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// nativeBad covers every class of bad input; the Decoder test reuses it.
var nativeBad = []struct {
	name, line, field, reason string
}{
	{"truncated", `{"time":"2026-03-02T08:15:04.123Z","account":"u1"`, "", "malformed JSON"},
	{"not an object", `[1,2]`, "", "not a JSON object"},
	{"invalid UTF-8", "{\"time\":\"2026-03-02T08:15:04.123Z\",\"account\":\"u\xff1\",\"outcome\":\"success\",\"ip\":\"1.2.3.4\"}", "", "invalid UTF-8"},
	{"deep nesting", `{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "", "exceeded max depth"},
	{"account wrong type", `{"time":"2026-03-02T08:15:04.123Z","account":12,"outcome":"success","ip":"1.2.3.4"}`, "account", "must be a string"},
	{"asn as string", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","asn":"2119"}`, "asn", "must be a number"},
	{"asn fraction", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","asn":2119.5}`, "asn", "integer"},
	{"asn negative", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","asn":-1}`, "asn", "integer"},
	{"label wrong type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","label":true}`, "label", "must be an object"},
	{"label.ato wrong type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","label":{"ato":"yes"}}`, "label.ato", "true or false"},
	{"missing time", `{"account":"u1","outcome":"success","ip":"1.2.3.4"}`, "time", "required"},
	{"missing account", `{"time":"2026-03-02T08:15:04.123Z","outcome":"success","ip":"1.2.3.4"}`, "account", "required"},
	{"missing outcome", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","ip":"1.2.3.4"}`, "outcome", "required"},
	{"missing ip", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success"}`, "ip", "required"},
	{"bad outcome", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"ok","ip":"1.2.3.4"}`, "outcome", "must be"},
	{"NaN", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","lat":NaN,"lon":1}`, "", "malformed JSON"},
	{"Infinity", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","lat":1,"lon":-Infinity}`, "", "malformed JSON"},
	{"huge number", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","lat":1e400,"lon":1}`, "lat", "number"},
	{"lat out of range", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","lat":91,"lon":1}`, "lat", "[-90, 90]"},
	{"lat without lon", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","lat":1}`, "lon", "together"},
	{"time far future", `{"time":"2027-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4"}`, "time", "future"},
	{"time before 2000", `{"time":"1999-12-31T23:59:59Z","account":"u1","outcome":"success","ip":"1.2.3.4"}`, "time", "before 2000"},
	{"time not RFC 3339", `{"time":"2026-03-02 08:15:04","account":"u1","outcome":"success","ip":"1.2.3.4"}`, "time", "RFC 3339"},
	{"time Feb 30", `{"time":"2026-02-30T08:15:04Z","account":"u1","outcome":"success","ip":"1.2.3.4"}`, "time", "RFC 3339"},
	{"ip zone", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"fe80::1%eth0"}`, "ip", "zone"},
	{"ip mapped", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"::ffff:1.2.3.4"}`, "ip", "IPv4-mapped"},
	{"ip garbage", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.256"}`, "ip", "not an IP"},
	{"ip leading zero", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"01.2.3.4"}`, "ip", "not an IP"},
	{"NUL byte raw", "{\"time\":\"2026-03-02T08:15:04.123Z\",\"account\":\"u\x001\",\"outcome\":\"success\",\"ip\":\"1.2.3.4\"}", "", "malformed JSON"},
	{"NUL byte escaped", `{"time":"2026-03-02T08:15:04.123Z","account":"u\u00001","outcome":"success","ip":"1.2.3.4"}`, "account", "control character"},
	{"control character", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","city":"a\nb"}`, "city", "control character"},
	{"BOM inside a line", "\xEF\xBB\xBF{\"time\":\"2026-03-02T08:15:04.123Z\"}", "", "malformed JSON"},
	{"duplicate key", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","account":"admin","outcome":"success","ip":"1.2.3.4"}`, "account", "duplicate key"},
	{"duplicate escaped key", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","\u0061ccount":"admin","outcome":"success","ip":"1.2.3.4"}`, "account", "duplicate key"},
	{"duplicate label key", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","label":{"ato":true,"ato":false}}`, "label.ato", "duplicate key"},
	{"bad country", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","country":"NOR"}`, "country", "ISO 3166"},
	{"bad method", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","method":"magic"}`, "method", "must be one of"},
	{"bad type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","type":"logout"}`, "type",
		"must be one of login, password_change, recovery_change, mfa_enroll, mfa_remove"},
	{"type is case-sensitive", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","type":"Login"}`, "type", "must be one of"},
	{"type wrong type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","type":{"kind":"mfa"}}`, "type", "must be a string"},
	{"duplicate type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","type":"login","type":"mfa_remove"}`, "type", "duplicate key"},
	{"account too long", `{"time":"2026-03-02T08:15:04.123Z","account":"` + strings.Repeat("a", 257) + `","outcome":"success","ip":"1.2.3.4"}`, "account", "longer than"},
	{"browser wrong type", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser":["Chrome"]}`, "browser", "must be a string"},
	{"browser_major as string", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser_major":"122"}`, "browser_major", "must be a number"},
	{"browser_major fraction", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser_major":122.5}`, "browser_major", "integer in [0, 10000]"},
	{"browser_major negative", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser_major":-1}`, "browser_major", "integer in [0, 10000]"},
	{"browser_major too large", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser_major":10001}`, "browser_major", "integer in [0, 10000]"},
	{"browser_major exponent", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser_major":1e2}`, "browser_major", "integer in [0, 10000]"},
	{"os too long", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","os":"` + strings.Repeat("o", 129) + `"}`, "os", "longer than 128 bytes"},
	{"device_type control character", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","device_type":"desk\u007ftop"}`, "device_type", "control character"},
	{"browser tab", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","browser":"Chrome\t1"}`, "browser", "control character"},
	{"duplicate agent key", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4","os":"iOS","os":"Android"}`, "os", "duplicate key"},
	{"agent checked after required fields", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","browser_major":-1}`, "ip", "required"},
	{"trailing garbage", `{"time":"2026-03-02T08:15:04.123Z","account":"u1","outcome":"success","ip":"1.2.3.4"} x`, "", "malformed JSON"},
}

func TestParseNativeBad(t *testing.T) {
	for _, tt := range nativeBad {
		t.Run(tt.name, func(t *testing.T) {
			var e firebreak.Event
			err := ingest.ParseNative([]byte(tt.line), &e, now)
			wantFieldError(t, err, 0, tt.field, tt.reason)
		})
	}
}

func TestAppendNative(t *testing.T) {
	e := firebreak.Event{
		Time: time.Date(2026, 3, 2, 8, 15, 4, 123456789, time.FixedZone("", 3600)), Account: "a\"b\\c",
		Outcome: firebreak.OutcomeSuccess, IP: netip.MustParseAddr("1.2.3.4"), Country: "NO",
		HasGeo: true, Lat: -0.5, Lon: 1e-7, Label: &firebreak.Label{ATO: true},
	}
	got := string(ingest.AppendNative(nil, &e))
	want := `{"time":"2026-03-02T07:15:04.123456789Z","account":"a\"b\\c","outcome":"success","ip":"1.2.3.4",` +
		`"country":"NO","lat":-0.5,"lon":1e-07,"label":{"ato":true,"attack":false}}`
	if got != want {
		t.Fatalf("AppendNative =\n%s\nwant\n%s", got, want)
	}
	e.Agent = firebreak.Agent{DeviceType: "mobile", OS: "iOS", Browser: "Mobile \"Safari\"", Major: 17}
	got = string(ingest.AppendNative(nil, &e))
	want = `{"time":"2026-03-02T07:15:04.123456789Z","account":"a\"b\\c","outcome":"success","ip":"1.2.3.4",` +
		`"device_type":"mobile","os":"iOS","browser":"Mobile \"Safari\"","browser_major":17,` +
		`"country":"NO","lat":-0.5,"lon":1e-07,"label":{"ato":true,"attack":false}}`
	if got != want {
		t.Fatalf("AppendNative with agent =\n%s\nwant\n%s", got, want)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf := make([]byte, 0, 512)
		_ = ingest.AppendNative(buf, &e)
	})
	if allocs > 1 { // the buffer itself
		t.Fatalf("AppendNative allocates %.0f times, want none beyond the buffer", allocs)
	}
}

func TestFastPathCoversTypicalLines(t *testing.T) {
	for i := range 50 {
		for _, e := range []firebreak.Event{benchEvent(i), journalEvent(i)} {
			if line := ingest.AppendNative(nil, &e); !ingest.FastPathTaken(line) {
				t.Fatalf("fast path not taken for %s", line)
			}
		}
	}
}

// parseAllocs is the allocations of parsing e's native line back.
func parseAllocs(t *testing.T, e firebreak.Event) float64 {
	line := ingest.AppendNative(nil, &e)
	var got firebreak.Event
	return testing.AllocsPerRun(100, func() {
		if err := ingest.ParseNative(line, &got, time.Time{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestParseNativeAgentAllocs: the journal writes the parsed agent on every
// line; reading common agents back must cost no allocations.
func TestParseNativeAgentAllocs(t *testing.T) {
	allocs := func(e firebreak.Event) float64 { return parseAllocs(t, e) }
	for i := range benchParsed {
		if with, without := allocs(journalEvent(i)), allocs(benchEvent(i)); with != without {
			t.Errorf("agent %+v: %.0f allocations with it, %.0f without", benchParsed[i], with, without)
		}
	}
}

// TestNativeTypeRoundTrip: the journal stores events with AppendNative and
// reads them back with ParseNative; every type must survive, and a login must
// be written without a type however it was spelled, byte for byte as before
// account changes existed.
func TestNativeTypeRoundTrip(t *testing.T) {
	login := benchEvent(7)
	loginLine := string(ingest.AppendNative(nil, &login))
	for _, typ := range firebreak.EventTypes {
		t.Run(typ, func(t *testing.T) {
			e := benchEvent(7)
			e.Type = typ
			line := ingest.AppendNative(nil, &e)
			if !ingest.FastPathTaken(line) {
				t.Errorf("fast path not taken for %s", line)
			}
			var got firebreak.Event
			if err := ingest.ParseNative(line, &got, now); err != nil {
				t.Fatalf("ParseNative(%s): %v", line, err)
			}
			want := e
			if typ == firebreak.TypeLogin {
				want.Type = ""
				if string(line) != loginLine {
					t.Errorf("explicit login written as\n%s\nwant\n%s", line, loginLine)
				}
			} else if !strings.Contains(string(line), `,"type":"`+typ+`"`) {
				t.Errorf("line %s does not carry the type", line)
			}
			if !sameEvent(&got, &want) {
				t.Fatalf("round trip of %s:\n got %+v\nwant %+v", line, got, want)
			}
		})
	}
}

// TestParseNativeTypeAllocs: an account change costs no allocation beyond
// what the same login costs; the type is one of the shared constants.
func TestParseNativeTypeAllocs(t *testing.T) {
	allocs := func(e firebreak.Event) float64 { return parseAllocs(t, e) }
	login := journalEvent(1)
	for _, typ := range firebreak.EventTypes {
		change := journalEvent(1)
		change.Type = typ
		if with, without := allocs(change), allocs(login); with != without {
			t.Errorf("type %s: %.0f allocations, a login %.0f", typ, with, without)
		}
	}
}
