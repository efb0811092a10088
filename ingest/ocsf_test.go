package ingest_test

import (
	"net/netip"
	"testing"
	"time"

	"firebreak"
	"firebreak/ingest"
)

const ocsfLine = `{"class_uid":3002,"category_uid":3,"activity_id":1,"time":1772439304123,` +
	`"status_id":2,"status":"Failure","status_code":"0xC000006A","status_detail":"bad password",` +
	`"auth_protocol_id":5,"is_mfa":false,"user":{"name":"alice","uid":"S-1-5-21"},` +
	`"src_endpoint":{"ip":"81.23.4.56","uid":"d-9f3a","location":{"country":"no","region":"Viken","city":"Oslo","coordinates":[10.75,59.91]},` +
	`"autonomous_system":{"number":2119}},"http_request":{"user_agent":"Mozilla/5.0 (X11)"},` +
	`"device":{"uid":"server-7"},"service":{"name":"web"}}`

// ocsfChangeLine is an Account Change: MFA factor removed from alice's
// account by a session at 81.23.4.56. actor is the session's user, user the
// changed account.
const ocsfChangeLine = `{"class_uid":3001,"category_uid":3,"activity_id":11,"time":1772439304123,` +
	`"status_id":1,"status":"Success","actor":{"user":{"name":"helpdesk"}},"user":{"name":"alice","uid":"S-1-5-21"},` +
	`"src_endpoint":{"ip":"81.23.4.56","uid":"d-9f3a","location":{"country":"no","city":"Oslo"}},` +
	`"http_request":{"user_agent":"Mozilla/5.0 (X11)"},"service":{"name":"web"}}`

func TestParseOCSF(t *testing.T) {
	tests := []struct {
		name, line string
		want       firebreak.Event
	}{
		{"full", ocsfLine, firebreak.Event{
			Time: time.UnixMilli(1772439304123).UTC(), Account: "alice", Outcome: firebreak.OutcomeFailure,
			IP: netip.MustParseAddr("81.23.4.56"), UserAgent: "Mozilla/5.0 (X11)", DeviceID: "d-9f3a",
			Country: "NO", Region: "Viken", City: "Oslo", ASN: 2119, Lat: 59.91, Lon: 10.75, HasGeo: true,
			Method: "sso", App: "web", FailureReason: "bad_password",
		}},
		{"uid, status text, time_dt, device.uid, mfa",
			`{"class_uid":3002,"time_dt":"2026-03-02T08:15:04.123Z","status":"success","is_mfa":true,` +
				`"user":{"uid":"S-1-5-21"},"src_endpoint":{"ip":"2001:db8::1"},"device":{"uid":"server-7"}}`,
			firebreak.Event{Time: time.Date(2026, 3, 2, 8, 15, 4, 123e6, time.UTC), Account: "S-1-5-21",
				Outcome: firebreak.OutcomeSuccess, IP: netip.MustParseAddr("2001:db8::1"), DeviceID: "server-7", Method: "mfa"}},
		{"locked account by detail",
			`{"class_uid":3002,"time":1772439304123,"status_id":2,"status_detail":"Account locked out","user":{"name":"bob"},"src_endpoint":{"ip":"1.2.3.4"},"auth_protocol":"Kerberos"}`,
			firebreak.Event{Time: time.UnixMilli(1772439304123).UTC(), Account: "bob", Outcome: firebreak.OutcomeFailure,
				IP: netip.MustParseAddr("1.2.3.4"), Method: "password", FailureReason: "locked"}},
		{"account change: MFA factor disable", ocsfChangeLine, firebreak.Event{
			Time: time.UnixMilli(1772439304123).UTC(), Account: "alice", Outcome: firebreak.OutcomeSuccess,
			IP: netip.MustParseAddr("81.23.4.56"), UserAgent: "Mozilla/5.0 (X11)", DeviceID: "d-9f3a",
			Country: "NO", City: "Oslo", App: "web", Type: firebreak.TypeMFARemove,
		}},
		{"account change: refused password change has no failure reason",
			`{"class_uid":3001,"activity_id":3,"time":1772439304123,"status_id":2,"status_detail":"new password too short",` + ocsfOK + `}`,
			change(firebreak.TypePasswordChange, firebreak.OutcomeFailure)},
		{"account change: password reset", `{"class_uid":3001,"activity_id":4,"time":1772439304123,"status":"success",` + ocsfOK + `}`,
			change(firebreak.TypePasswordChange, firebreak.OutcomeSuccess)},
		{"account change: MFA factor enable", `{"class_uid":3001,"activity_id":10,"time":1772439304123,"status_id":1,` + ocsfOK + `}`,
			change(firebreak.TypeMFAEnroll, firebreak.OutcomeSuccess)},
		{"account change: uid when no name", `{"class_uid":3001,"activity_id":10,"time":1772439304123,"status_id":1,` +
			`"actor":{"user":{"name":"admin"}},"user":{"uid":"u1"},"src_endpoint":{"ip":"1.2.3.4"}}`,
			change(firebreak.TypeMFAEnroll, firebreak.OutcomeSuccess)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got firebreak.Event
			if err := ingest.ParseOCSF([]byte(tt.line), &got, now); err != nil {
				t.Fatalf("ParseOCSF: %v", err)
			}
			if !sameEvent(&got, &tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

const ocsfOK = `"user":{"name":"u1"},"src_endpoint":{"ip":"1.2.3.4"}`

// change is the account change of ocsfOK at 1772439304123.
func change(typ string, outcome firebreak.Outcome) firebreak.Event {
	return firebreak.Event{Time: time.UnixMilli(1772439304123).UTC(), Account: "u1", Outcome: outcome,
		IP: netip.MustParseAddr("1.2.3.4"), Type: typ}
}

var ocsfBad = []struct {
	name, line, field, reason string
}{
	{"truncated", `{"class_uid":3002,"time":`, "", "malformed JSON"},
	{"not an object", `"x"`, "", "not a JSON object"},
	{"invalid UTF-8", "{\"class_uid\":3002,\"time\":1772439304123,\"status_id\":1,\"user\":{\"name\":\"u\xfe\"},\"src_endpoint\":{\"ip\":\"1.2.3.4\"}}", "", "invalid UTF-8"},
	{"deep nesting", `{"class_uid":3002,"unmapped":` + repeat("[", 20000) + repeat("]", 20000) + `}`, "", "exceeded max depth"},
	{"missing class", `{"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "class_uid",
		"required: OCSF Authentication (3002) or Account Change (3001)"},
	{"other class", `{"class_uid":3005,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "class_uid",
		"class 3005 is not OCSF Authentication (3002) or Account Change (3001)"},
	{"account deleted", `{"class_uid":3001,"activity_id":6,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "activity_id",
		"account change 6 (delete) is not a security-settings change; Firebreak reads 3, 4, 10, 11"},
	{"account change without activity", `{"class_uid":3001,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "activity_id",
		"account change 0 (unknown) is not"},
	{"account change of an unlisted activity", `{"class_uid":3001,"activity_id":42,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "activity_id",
		"account change 42 is not a security-settings change"},
	{"account change logoff id is not special", `{"class_uid":3001,"activity_id":2,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "activity_id",
		"account change 2 (enable)"},
	{"account change needs the changed user", `{"class_uid":3001,"activity_id":3,"time":1772439304123,"status_id":1,` +
		`"actor":{"user":{"name":"u1"}},"src_endpoint":{"ip":"1.2.3.4"}}`, "account", "required"},
	{"account change needs a status", `{"class_uid":3001,"activity_id":3,"time":1772439304123,` + ocsfOK + `}`, "status_id", "must be 1"},
	{"account change needs the session ip", `{"class_uid":3001,"activity_id":11,"time":1772439304123,"status_id":1,"user":{"name":"u1"}}`,
		"src_endpoint.ip", "required"},
	{"logoff", `{"class_uid":3002,"activity_id":2,"time":1772439304123,"status_id":1,` + ocsfOK + `}`, "activity_id", "logoff"},
	{"wrong type", `{"class_uid":3002,"time":1772439304123,"status_id":"1",` + ocsfOK + `}`, "status_id", "must be a number"},
	{"nested wrong type", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":7},"src_endpoint":{"ip":"1.2.3.4"}}`, "user.name", "must be a string"},
	{"missing time", `{"class_uid":3002,"status_id":1,` + ocsfOK + `}`, "time", "required"},
	{"time not integer", `{"class_uid":3002,"time":1.5e12,"status_id":1,` + ocsfOK + `}`, "time", "milliseconds"},
	{"time before 2000", `{"class_uid":3002,"time":900000000000,"status_id":1,` + ocsfOK + `}`, "time", "before 2000"},
	{"time far future", `{"class_uid":3002,"time":1900000000000,"status_id":1,` + ocsfOK + `}`, "time", "future"},
	{"unknown status", `{"class_uid":3002,"time":1772439304123,"status_id":99,` + ocsfOK + `}`, "status_id", "must be 1"},
	{"missing account", `{"class_uid":3002,"time":1772439304123,"status_id":1,"src_endpoint":{"ip":"1.2.3.4"}}`, "account", "required"},
	{"missing ip", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"u1"}}`, "src_endpoint.ip", "required"},
	{"ip zone", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"u1"},"src_endpoint":{"ip":"fe80::1%eth0"}}`, "ip", "zone"},
	{"ip mapped", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"u1"},"src_endpoint":{"ip":"::ffff:1.2.3.4"}}`, "ip", "IPv4-mapped"},
	{"ip garbage", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"u1"},"src_endpoint":{"ip":"not-an-ip"}}`, "src_endpoint.ip", "not an IP"},
	{"NaN", `{"class_uid":3002,"time":NaN}`, "", "malformed JSON"},
	{"NUL byte", "{\"class_uid\":3002,\"time\":1772439304123,\"status_id\":1,\"user\":{\"name\":\"u\\u0000\"},\"src_endpoint\":{\"ip\":\"1.2.3.4\"}}", "account", "control character"},
	{"bad coordinates", `{"class_uid":3002,"time":1772439304123,"status_id":1,"user":{"name":"u1"},"src_endpoint":{"ip":"1.2.3.4","location":{"coordinates":[1]}}}`, "src_endpoint.location.coordinates", "[lon, lat]"},
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

func TestParseOCSFBad(t *testing.T) {
	for _, tt := range ocsfBad {
		t.Run(tt.name, func(t *testing.T) {
			var e firebreak.Event
			wantFieldError(t, ingest.ParseOCSF([]byte(tt.line), &e, now), 0, tt.field, tt.reason)
		})
	}
}
