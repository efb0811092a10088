package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	nethttp "net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
	"firebreak/mock"
)

// openServer starts a fixture's server on a free loopback port.
func openServer(t *testing.T, f *fixture) string {
	t.Helper()
	if err := f.server.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return f.server.URL()
}

// getStream opens the live stream with the fixture's token.
func getStream(url string) (*nethttp.Response, error) {
	req, err := nethttp.NewRequest("GET", url+"/api/v1/stream", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	return nethttp.DefaultClient.Do(req)
}

// readFrames reads n stats frames from a live stream.
func readFrames(t *testing.T, r *bufio.Reader, n int) []fbhttp.Frame {
	t.Helper()
	var frames []fbhttp.Frame
	for len(frames) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok {
			continue
		}
		var f fbhttp.Frame
		if err := json.Unmarshal([]byte(data), &f); err != nil {
			t.Fatalf("frame %q: %v", data, err)
		}
		frames = append(frames, f)
	}
	return frames
}

func TestStream(t *testing.T) {
	var events atomic.Int64
	f := newFixture(t, func(c *fbhttp.Config) { c.StreamInterval = 20 * time.Millisecond; c.Now = time.Now })
	f.engine.StatsFn = func() firebreak.EngineStats {
		return firebreak.EngineStats{Events: events.Add(100), Budget: 0.01, Ready: true}
	}
	url := openServer(t, f)
	resp, err := getStream(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("Content-Type = %q", got)
	}
	frames := readFrames(t, bufio.NewReader(resp.Body), 4)
	if frames[0].Events == 0 || frames[0].Budget != 0.01 {
		t.Errorf("first frame = %+v, want the engine's stats", frames[0])
	}
	last := frames[len(frames)-1]
	if last.Events <= frames[0].Events || last.EventsPerSecond <= 0 {
		t.Errorf("last frame: events %d, %.1f events/s; want growth and a positive rate", last.Events, last.EventsPerSecond)
	}
}

// The stream carries the incidents too: how many are open, and the newest.
func TestStreamCarriesIncidents(t *testing.T) {
	incidents := &mock.IncidentService{ListFn: func(_ context.Context, _ firebreak.IncidentFilter) (*firebreak.IncidentPage, error) {
		return &firebreak.IncidentPage{Incidents: []*firebreak.Incident{
			{ID: 3, Kind: firebreak.KindCredentialStuffing, State: firebreak.StateDetected, Title: "Credential stuffing (detection campaign C4)", Counts: firebreak.TierCounts{Compromised: 3, Targeted: 271}},
			{ID: 2, Kind: firebreak.KindBruteForce, State: firebreak.StateResolved},
			{ID: 1, Kind: firebreak.KindPasswordSpraying, State: firebreak.StateTriaged},
		}}, nil
	}}
	f := newFixture(t, func(c *fbhttp.Config) {
		c.StreamInterval, c.Now, c.Incidents = 20*time.Millisecond, time.Now, incidents
	})
	url := openServer(t, f)
	resp, err := getStream(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	frame := readFrames(t, bufio.NewReader(resp.Body), 2)[1]
	if frame.OpenIncidents == nil || *frame.OpenIncidents != 2 {
		t.Fatalf("open incidents = %v, want 2 (the resolved one does not count)", frame.OpenIncidents)
	}
	if len(frame.Incidents) != 3 || frame.Incidents[0].ID != 3 || frame.Incidents[0].Counts.Targeted != 271 {
		t.Errorf("incidents = %+v, want the newest first with their tier counts", frame.Incidents)
	}
}

// TestStreamEndsOnClose checks that Close does not wait for live streams,
// which would otherwise keep a graceful shutdown waiting forever.
func TestStreamEndsOnClose(t *testing.T) {
	f := newFixture(t, func(c *fbhttp.Config) { c.StreamInterval = 10 * time.Millisecond })
	url := openServer(t, f)
	resp, err := getStream(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	readFrames(t, r, 1)

	// A second subscriber that never reads must not hold anything up.
	idle, err := getStream(url)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Body.Close()
	readFrames(t, r, 3)

	start := time.Now()
	if err := f.server.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with open streams", d)
	}
	for {
		if _, err := r.ReadString('\n'); err != nil {
			break // the stream ended
		}
	}
}
