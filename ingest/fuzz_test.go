package ingest_test

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"
	"unicode/utf8"

	"firebreak"
	"firebreak/ingest"
)

func nativeSeeds(f *testing.F) {
	f.Add([]byte(fullLine))
	f.Add([]byte(agentLine))
	f.Add([]byte(`{"time":"2026-03-02T08:15:04.123Z","account":"u","outcome":"success","ip":"1.2.3.4","browser":"Chrome\u0020Mobile","browser_major":10000,"device_type":"tablet"}`))
	for _, tt := range nativeBad {
		f.Add([]byte(tt.line))
	}
	f.Add([]byte(`{"time":"2026-03-02T08:15:04+23:59","account":"u","outcome":"failure","ip":"::1","lat":-0,"lon":0.000000000000001}`))
	f.Add([]byte(`{"time":"2024-02-29T23:59:59.123456789Z","account":"u","outcome":"success","ip":"1.2.3.4","asn":4294967295}`))
	f.Add([]byte(`{"time":"2026-03-02T08:15:04.123Z","account":"u","outcome":"failure","ip":"1.2.3.4","device_id":"d-1","type":"mfa_remove"}`))
	f.Add([]byte(`{"type":"password_change","time":"2026-03-02T08:15:04.123Z","account":"u","outcome":"success","ip":"1.2.3.4","method":"password"}`))
	f.Add([]byte(`{"time":"2026-03-02T08:15:04.123Z","account":"u","outcome":"success","ip":"1.2.3.4","type":"recovery\u005fchange"}`))
	f.Add([]byte(`{"time":"2026-03-02T08:15:04.123Z","account":"u","outcome":"success","ip":"1.2.3.4","type":"login"}`))
}

// FuzzParseNative checks that ParseNative never panics and that whatever it
// accepts is valid and survives a round trip.
func FuzzParseNative(f *testing.F) {
	nativeSeeds(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		var e firebreak.Event
		if err := ingest.ParseNative(line, &e, time.Time{}); err != nil {
			if _, ok := err.(*firebreak.FieldError); !ok {
				t.Fatalf("error %v is %T, want *firebreak.FieldError", err, err)
			}
			return
		}
		if err := e.Validate(time.Time{}); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
		if err := ingest.CheckAgent(&e.Agent); err != nil {
			t.Fatalf("accepted an invalid agent: %v", err)
		}
		var back firebreak.Event
		if err := ingest.ParseNative(ingest.AppendNative(nil, &e), &back, time.Time{}); err != nil || !sameEvent(&e, &back) {
			t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, back, e)
		}
	})
}

// FuzzNativeDifferential holds the fast path to the encoding/json path: the
// same event, or the same error.
func FuzzNativeDifferential(f *testing.F) {
	nativeSeeds(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast, ref firebreak.Event
		errFast := ingest.ParseNative(line, &fast, now)
		errRef := ingest.ParseNativeReference(line, &ref, now)
		switch {
		case (errFast == nil) != (errRef == nil):
			t.Fatalf("fast error %v, reference error %v", errFast, errRef)
		case errFast != nil && errFast.Error() != errRef.Error():
			t.Fatalf("fast error %q, reference error %q", errFast, errRef)
		case errFast == nil && !sameEvent(&fast, &ref):
			t.Fatalf("fast %+v\nreference %+v", fast, ref)
		}
	})
}

// FuzzRoundTrip builds an event from fuzzed fields; when it is valid,
// ParseNative(AppendNative(e)) must give it back exactly.
func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(1772439304123456789), "u1", true, []byte{81, 23, 4, 56}, "Mozilla/5.0", "desktop", "Windows", "Chrome", 122,
		"d-1", "NO", "Viken", "Oslo", uint32(2119), 59.91, 10.75, true, "password", "web", "", true, "stuffing", "")
	f.Add(int64(946684800000000000), "a\"\\\u00e9", false, []byte{32: 0}, "", "", "Mac \"OS\" X", "", 0,
		"", "", "", "", uint32(0), 0.0, 0.0, false, "", "", "bad_password", false, "", "mfa_enroll")
	f.Add(int64(1772439304123000000), "u2", true, []byte{10, 0, 0, 1}, "", "", "", "", 0,
		"", "", "", "", uint32(0), 0.0, 0.0, false, "", "", "", false, "", "login")
	f.Fuzz(func(t *testing.T, ns int64, account string, success bool, ip []byte, ua, devType, os, browser string, major int,
		dev, country, region, city string, asn uint32, lat, lon float64, geo bool, method, app, reason string, label bool, cohort,
		typ string) {
		e := firebreak.Event{
			Time: time.Unix(0, ns).UTC(), Account: account, Outcome: firebreak.OutcomeFailure,
			UserAgent: ua, Agent: firebreak.Agent{DeviceType: devType, OS: os, Browser: browser, Major: major},
			DeviceID: dev, Country: country, Region: region, City: city, ASN: asn,
			HasGeo: geo, Method: method, App: app, FailureReason: reason, Type: typ,
		}
		if success {
			e.Outcome = firebreak.OutcomeSuccess
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			e.IP = a
		}
		if geo {
			e.Lat, e.Lon = lat, lon
		}
		if label {
			e.Label = &firebreak.Label{ATO: len(cohort)%2 == 0, Attack: success, Cohort: cohort}
		}
		// Validate does not check the label's cohort; AppendNative writes
		// invalid UTF-8 there as U+FFFD, so such an event cannot come back.
		if e.Validate(time.Time{}) != nil || ingest.CheckAgent(&e.Agent) != nil || !utf8.ValidString(cohort) {
			return
		}
		line := ingest.AppendNative(nil, &e)
		var got firebreak.Event
		if err := ingest.ParseNative(line, &got, time.Time{}); err != nil {
			t.Fatalf("ParseNative(%s): %v", line, err)
		}
		// An explicit "login" is written as a login and comes back as "".
		if e.IsLogin() {
			e.Type = ""
		}
		if !sameEvent(&got, &e) {
			t.Fatalf("round trip of %s:\n got %+v\nwant %+v", line, got, e)
		}
	})
}

// FuzzParseOCSF checks that ParseOCSF never panics and only returns field
// errors or valid events.
func FuzzParseOCSF(f *testing.F) {
	f.Add([]byte(ocsfLine))
	f.Add([]byte(ocsfChangeLine))
	for _, tt := range ocsfBad {
		f.Add([]byte(tt.line))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var e firebreak.Event
		if err := ingest.ParseOCSF(line, &e, time.Time{}); err != nil {
			if _, ok := err.(*firebreak.FieldError); !ok {
				t.Fatalf("error %v is %T, want *firebreak.FieldError", err, err)
			}
			return
		}
		if err := e.Validate(time.Time{}); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
	})
}

// FuzzDecodeRBA runs the Decoder over fuzzed CSV after a fixed header: it
// must terminate, never panic, report only line errors with a sane line, and
// return only valid events.
func FuzzDecodeRBA(f *testing.F) {
	f.Add([]byte("0,2020-02-03 12:43:30.772,-1,,10.0.65.171,NO,-,-,29695,\"Mozilla,\n5.0\",Firefox 20.0,iOS 13.4,mobile,False,False,False\n"))
	f.Add([]byte("1,2020-02-03 12:43:30.772,=1+1,,::1,NO,\"a\"\"b\",-,1,ua,Chrome 1,Windows 10,desktop,True,True,True"))
	f.Add([]byte("\"unterminated\n\n1,2,3\r\n,,,,\"\"\"\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		input := append([]byte(rbaHeader), body...)
		d := ingest.NewDecoder(bytes.NewReader(input), ingest.Options{Format: ingest.FormatRBA, MaxLineBytes: 256})
		lines := bytes.Count(input, []byte("\n")) + 1
		for range lines + 1 {
			var e firebreak.Event
			err := d.Next(&e)
			if err == io.EOF {
				return
			}
			if err != nil {
				fe, ok := err.(*firebreak.FieldError)
				if !ok || fe.Line < 2 || fe.Line > lines {
					t.Fatalf("error %v (%T): want a field error on a line in [2, %d]", err, err, lines)
				}
				continue
			}
			if err := e.Validate(time.Time{}); err != nil {
				t.Fatalf("line %d: accepted an invalid event: %v", d.Line(), err)
			}
		}
		t.Fatalf("Decoder did not reach io.EOF within %d calls", lines+1)
	})
}
