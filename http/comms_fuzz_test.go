package http_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"firebreak"
	fbhttp "firebreak/http"
)

// FuzzAppealDecision posts arbitrary bodies to the appeal decision, as the
// API's JSON (POST /api/v1/appeals/{id}/decision) or as the appeals page's
// form. Whatever the body, the answer is never a 5xx; the service is asked
// only for a decision that is "lift" or "reject" with a reason that is
// present, short enough and free of control characters, and then exactly
// as the body said it; every refusal leaves the service alone.
//
//	go test ./http/ -run XXX -fuzz FuzzAppealDecision -fuzztime 20s
func FuzzAppealDecision(f *testing.F) {
	for _, seed := range []string{
		`{"decision":"lift","reason":"Known device."}`,
		`{"decision":"reject","reason":"Login from a botnet.\nChecked twice."}`,
		`{"decision":"lift"}`,
		`{"decision":"lift","reason":""}`,
		`{"decision":"LIFT","reason":"x"}`,
		`{"decision":"lift","reason":"a\u0000b"}`,
		`{"decision":"lift","reason":"\xff"}`,
		`{"decision":["lift"],"reason":1}`,
		`{"decision":"lift","reason":"x","actor":"mallory"}`,
		`{"decision":"lift","reason":"x"}{}`,
		`[]`, `null`, `{`, ``,
		"decision=lift&reason=Known+device.",
		"decision=reject&reason=%00",
		"decision=lift&decision=reject&reason=x",
	} {
		f.Add([]byte(seed), strings.HasPrefix(seed, "decision="))
	}
	c := newComms()
	fx := newCommsFixture(f, c)
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		before := len(c.decided())
		target, ct, ok := "/api/v1/appeals/5/decision", ctJSON, 200
		if form {
			target, ct, ok = "/incidents/3/appeals/5/decide", "application/x-www-form-urlencoded", 303
		}
		w := fx.do("POST", target, body, "Content-Type", ct)
		if w.Code >= 500 {
			t.Fatalf("POST %s with %q: status %d %s", target, body, w.Code, w.Body)
		}
		calls := c.decided()[before:]
		if w.Code != ok {
			if len(calls) != 0 {
				t.Fatalf("refused %q (%d) but the service was asked %+v", body, w.Code, calls)
			}
			if !form {
				if res := decode[fbhttp.ErrorResponse](t, w); res.Code == "" || res.Error == "" {
					t.Fatalf("refusal of %q without code or message: %s", body, w.Body)
				}
			}
			return
		}
		if len(calls) != 1 {
			t.Fatalf("accepted %q with %d calls to the service", body, len(calls))
		}
		got := calls[0]
		checkDecisionReason(t, body, got.Reason)
		var sent struct{ Decision, Reason string }
		if form {
			v, _ := url.ParseQuery(string(body))
			sent.Decision, sent.Reason = v.Get("decision"), v.Get("reason")
		} else if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("accepted %q, which is not JSON: %v", body, err)
		}
		if got.ID != 5 || got.Reason != sent.Reason || got.Lift != (sent.Decision == "lift") ||
			(sent.Decision != "lift" && sent.Decision != "reject") {
			t.Fatalf("body %q reached the service as %+v", body, got)
		}
	})
}

// checkDecisionReason fails t unless reason is what a decision may carry.
func checkDecisionReason(t *testing.T, body []byte, reason string) {
	t.Helper()
	if reason == "" || len(reason) > firebreak.MaxTextLen || !utf8.ValidString(reason) {
		t.Fatalf("accepted %q with reason %q", body, reason)
	}
	for _, r := range reason {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			t.Fatalf("accepted %q with a control character %U in the reason", body, r)
		}
	}
}
