package http_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

// FuzzPlanBodies posts arbitrary bodies to POST /api/v1/incidents/{id}/plans
// and PUT /api/v1/plans/{id} on a real containment service. Whatever the
// body, the answer is never a 5xx: a plan (201 or 200) whose spec is valid,
// or an error response with a message.
//
// Background goroutines (SQLite, the audit trail's committer) make coverage
// vary from run to run, and the fuzzer spends its time minimizing inputs
// that only looked new: run it with a short minimization budget,
//
//	go test ./http/ -run XXX -fuzz FuzzPlanBodies -fuzztime 20s -fuzzminimizetime 100x
func FuzzPlanBodies(f *testing.F) {
	for _, seed := range []string{
		containBody,
		stepUpBody,
		`{"steps":[{"select":{"sources":true},"actions":["block_source","throttle_source"],"duration":"24h"}]}`,
		`{"steps":[{"select":{"accounts":["c0","r1"]},"actions":["temporary_lock"],"duration":"90m"}],` +
			`"stages":[0.5,1],"rate_limit":10,"concurrency":4,"halt_error_rate":0.1,"manual_stages":true,"note":"canary first"}`,
		`{"steps":[{"select":{"tier":"at_risk","min_confidence":0.6},"actions":["require_step_up"]}],"connector":""}`,
		`{"steps":[{"select":{},"actions":["require_step_up"]}]}`,
		`{"steps":[{"select":{"tier":"compromised"},"actions":["temporary_lock"],"duration":-1}]}`,
		`{"steps":[{"select":{"accounts":[""]},"actions":[null]}],"stages":[NaN]}`,
		`{"steps":null,"stages":[1e309]}`,
		`{"steps":[{"select":{"tier":"compromised"},"actions":["require_step_up"]}],"concurrency":99999999999999999999}`,
		`{"steps":[],"x":{}}`,
		`[{"steps":[]}]`,
		`"plan"`,
		`{`,
		"\xef\xbb\xbf{}",
		``,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	fx := newContainFixture(f)
	plan := fx.createPlan(f, stepUpBody)
	create := fmt.Sprintf("/api/v1/incidents/%d/plans", fx.incident.ID)
	revise := fmt.Sprintf("/api/v1/plans/%d", plan.ID)
	f.Fuzz(func(t *testing.T, body []byte, put bool) {
		method, target, ok := "POST", create, 201
		if put {
			method, target, ok = "PUT", revise, 200
		}
		w := fx.do(method, target, body, "Authorization", "Bearer "+fx.alice, "Content-Type", ctJSON)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: status %d %s", method, target, body, w.Code, w.Body)
		}
		if w.Code == ok {
			var p firebreak.Plan
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || len(p.Hash) != 64 || p.Version < 1 {
				t.Fatalf("%s with %q: %d %s", method, body, w.Code, w.Body)
			}
			if err := p.Spec.Validate(); err != nil {
				t.Fatalf("stored a plan whose spec is not valid (%v): %q", err, body)
			}
			return
		}
		var res fbhttp.ErrorResponse
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.Code == "" || res.Error == "" {
			t.Fatalf("%s with %q: status %d without an error message: %s", method, body, w.Code, w.Body)
		}
	})
}
