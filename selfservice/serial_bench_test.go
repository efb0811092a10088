package selfservice_test

import (
	"net/http"
	"testing"
)

// BenchmarkPage measures one page answer (valid token, no latency floor),
// through the handler on loopback.
//
//	go test ./selfservice -run XXX -bench 'Page$' -count 3
func BenchmarkPage(b *testing.B) {
	cfg := open
	cfg.MinLatency = -1
	f := newFixture(b, cfg)
	u := f.srv.URL + "/self-service/" + f.token(b, "c0")
	for b.Loop() {
		res, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
	}
}
