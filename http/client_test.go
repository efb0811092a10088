package http_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

func clientEvents(n int) []firebreak.Event {
	events := make([]firebreak.Event, n)
	for i := range events {
		events[i] = firebreak.Event{
			Time: now.Add(-time.Duration(n-i) * time.Second), Account: fmt.Sprintf("u%05d", i), Outcome: firebreak.OutcomeSuccess,
			IP: netip.AddrFrom4([4]byte{81, 23, byte(i >> 8), byte(i)}), UserAgent: "Mozilla/5.0 \"quoted\" \u00e9",
			Country: "NO", ASN: 2119, Lat: 59.91, Lon: 10.75, HasGeo: true, Method: "password",
		}
	}
	return events
}

func TestClientIngest(t *testing.T) {
	f := newFixture(t, func(c *fbhttp.Config) { c.Token = "tok" })
	var sizes []int
	inner := f.engine.IngestFn
	f.engine.IngestFn = func(ctx context.Context, events []firebreak.Event) error {
		sizes = append(sizes, len(events))
		return inner(ctx, events)
	}
	c := fbhttp.NewClient(openServer(t, f), "tok")
	want := clientEvents(2500)
	if err := c.Ingest(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{1000, 1000, 500}) {
		t.Errorf("batch sizes = %v, want 1000, 1000, 500", sizes)
	}
	got := f.ingested
	if len(got) != len(want) {
		t.Fatalf("server got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Agent = firebreak.Agent{}
		if !g.Time.Equal(w.Time) || g.Account != w.Account || g.IP != w.IP || g.UserAgent != w.UserAgent || g.Lat != w.Lat || g.HasGeo != w.HasGeo || g.Method != w.Method {
			t.Fatalf("event %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	withToken := func(c *fbhttp.Config) { c.Token = "tok" }

	t.Run("wrong token", func(t *testing.T) {
		url := openServer(t, newFixture(t, withToken))
		err := fbhttp.NewClient(url, "nope").Ingest(ctx, clientEvents(1))
		if got, want := firebreak.ErrorCode(err), firebreak.EUNAUTHORIZED; got != want {
			t.Errorf("code = %q (%v), want %q", got, err, want)
		}
	})
	t.Run("overload", func(t *testing.T) {
		f := newFixture(t, withToken)
		f.engine.IngestFn = func(context.Context, []firebreak.Event) error {
			return firebreak.Errorf(firebreak.ETOOMANYREQUEST, "Queue full.")
		}
		url := openServer(t, f)
		err := fbhttp.NewClient(url, "tok").Ingest(ctx, clientEvents(3))
		if got, want := firebreak.ErrorCode(err), firebreak.ETOOMANYREQUEST; got != want || firebreak.ErrorMessage(err) != "Queue full." {
			t.Errorf("error = %v, want %q with the server's message", err, want)
		}
	})
	t.Run("rejected event", func(t *testing.T) {
		events := clientEvents(3)
		events[1].Country = "norway"
		url := openServer(t, newFixture(t, withToken))
		err := fbhttp.NewClient(url, "tok").Ingest(ctx, events)
		if got, want := firebreak.ErrorCode(err), firebreak.EINVALID; got != want || !strings.Contains(err.Error(), "event 1: field country") {
			t.Errorf("error = %v, want %q naming event 1 and its field", err, want)
		}
	})
}

func TestClientScoreAndStats(t *testing.T) {
	f := newFixture(t)
	want := firebreak.Assessment{Score: 0.42, Decision: firebreak.Deny, Reasons: []string{"new device"}}
	f.engine.ScoreFn = func(_ context.Context, e firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
		if e.Account != "u00000" {
			t.Errorf("scored account %q", e.Account)
		}
		return want, firebreak.Thresholds{Challenge: 0.3, Deny: 0.4, Source: "fixed"}, nil
	}
	f.engine.StatsFn = func() firebreak.EngineStats { return firebreak.EngineStats{Events: 77, JournalSeq: 77, Ready: true} }
	c := fbhttp.NewClient(openServer(t, f)+"/", testToken)

	got, th, err := c.Score(context.Background(), clientEvents(1)[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.Score != want.Score || got.Decision != want.Decision || !slices.Equal(got.Reasons, want.Reasons) || th.Source != "fixed" {
		t.Errorf("Score = %+v %+v, want %+v", got, th, want)
	}
	if st := c.Stats(); st.Events != 77 || !st.Ready {
		t.Errorf("Stats = %+v", st)
	}
}

// TestClientStatsUnreachable checks the documented fallback of Stats, whose
// signature has no error: zero stats, and the error from FetchStats.
func TestClientStatsUnreachable(t *testing.T) {
	c := fbhttp.NewClient("http://127.0.0.1:1", "")
	if st := c.Stats(); st.Ready || st.Events != 0 {
		t.Errorf("Stats of an unreachable server = %+v, want zero", st)
	}
	if _, err := c.FetchStats(context.Background()); err == nil {
		t.Errorf("FetchStats of an unreachable server: no error")
	}
}
