package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"firebreak"
	"firebreak/auth"
	"firebreak/ingest"
	"firebreak/sim"
)

// BenchCommand measures the HTTP API of a real server on loopback: durable
// ingestion throughput and synchronous scoring latency. The server runs
// in-process on a temporary data directory with fsync on, and shares the
// machine's cores with the load generator, as a sidecar would.
type BenchCommand struct {
	stdout, stderr io.Writer
	what           string
	duration       time.Duration
	rate           int
	workers        int
	batch          int
	accounts       int
	cpuProfile     string
	url            string
	token          string // bearer token of the server under load
	// contain
	targets int
	capRate float64
	kills   int
	latency time.Duration
}

func (c *BenchCommand) parseFlags(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to send load")
	fs.IntVar(&c.rate, "rate", 5000, "score: requests per second to offer (open loop)")
	fs.IntVar(&c.workers, "workers", 4, "ingest: concurrent senders")
	fs.IntVar(&c.batch, "batch", 1000, "ingest: events per request")
	fs.IntVar(&c.accounts, "accounts", 20000, "simulated accounts behind the traffic")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.StringVar(&c.url, "url", "", "load this running server (`URL`, open API) instead of starting one in-process")
	fs.IntVar(&c.targets, "targets", 1_000_000, "contain: accounts in the plan")
	fs.Float64Var(&c.capRate, "cap", 0, "contain: cap on provider calls per second (0: none)")
	fs.IntVar(&c.kills, "kills", 0, "contain: measure the kill switch over this many runs instead")
	fs.DurationVar(&c.latency, "latency", 0, "contain: simulated provider latency per call")
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak bench [flags] ingest|score|contain|notices\n\n  ingest   POST /api/v1/events with NDJSON batches; report events/s acknowledged\n  score    POST /api/v1/score at a fixed rate; report latency percentiles\n  contain  run a plan of --targets accounts against the simulated provider; report actions/s\n  notices  run a campaign of in-app notices to --targets accounts; report notices rendered and queued per second\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains([]string{"ingest", "score", "contain", "notices"}, fs.Arg(0)) {
		return usageError(fs, c.stderr, "name one benchmark: ingest, score, contain or notices")
	}
	if c.targets < 1 || c.capRate < 0 || c.kills < 0 {
		return usageError(fs, c.stderr, "--targets must be positive, --cap and --kills not negative")
	}
	c.what = fs.Arg(0)
	if c.duration <= 0 || c.duration > 10*time.Minute {
		return usageError(fs, c.stderr, "--duration %s: want (0, 10m]", c.duration)
	}
	if c.rate <= 0 || c.workers <= 0 || c.batch <= 0 || c.batch > 10000 {
		return usageError(fs, c.stderr, "--rate, --workers must be positive and --batch in [1, 10000]")
	}
	return nil
}

// Run starts a server, loads it and prints the figures.
func (c *BenchCommand) Run(ctx context.Context, args []string) error {
	if err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch c.what {
	case "contain":
		return c.benchContain(ctx)
	case "notices":
		return c.benchNotices(ctx)
	}
	url := c.url
	c.token = os.Getenv("FIREBREAK_TOKEN")
	if url == "" {
		token, err := auth.NewToken()
		if err != nil {
			return err
		}
		c.token = token
		dir, err := os.MkdirTemp("", "firebreak-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv := NewServeCommand(io.Discard, c.stderr)
		srv.Config.DataDir, srv.Config.Addr, srv.Config.LogLevel = dir, "127.0.0.1:0", "warn"
		srv.Config.Token = c.token
		if err := srv.Open(ctx); err != nil {
			srv.Close()
			return err
		}
		defer srv.Close()
		url = srv.Server.URL()
		fmt.Fprintf(c.stdout, "in-process server %s, data %s (fsync on)\n", url, dir)
	}
	lines, err := c.events()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "loading %s with %d simulated events\n", url, len(lines))
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.what == "ingest" {
		return c.ingest(ctx, url, lines)
	}
	return c.score(ctx, url, lines)
}

// events returns simulated events encoded as native NDJSON lines, re-timed
// to the last hours so that the server accepts them.
func (c *BenchCommand) events() ([][]byte, error) {
	cfg := sim.DefaultConfig()
	cfg.Accounts, cfg.Days = c.accounts, 7
	cfg.Start = time.Now().UTC().Add(-8 * 24 * time.Hour)
	var lines [][]byte
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		lines = append(lines, ingest.AppendNative(nil, e))
		return nil
	})
	return lines, err
}

func (c *BenchCommand) ingest(ctx context.Context, url string, lines [][]byte) error {
	var bodies [][]byte
	for i := 0; i+c.batch <= len(lines); i += c.batch {
		bodies = append(bodies, append(bytes.Join(lines[i:i+c.batch], []byte("\n")), '\n'))
	}
	if len(bodies) == 0 {
		return fmt.Errorf("not enough simulated events for one batch of %d", c.batch)
	}
	var accepted, refused, next atomic.Int64
	deadline := time.Now().Add(c.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				body := bodies[int(next.Add(1)-1)%len(bodies)]
				status, err := c.post(ctx, url+"/api/v1/events", "application/x-ndjson", body)
				switch {
				case err != nil:
					refused.Add(1)
				case status == http.StatusAccepted:
					accepted.Add(int64(c.batch))
				default:
					refused.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Fprintf(c.stdout, "ingest: %d events acknowledged durably in %s = %.0f events/s (batches of %d, %d senders); %d requests refused or failed\n",
		accepted.Load(), took.Round(time.Millisecond), float64(accepted.Load())/took.Seconds(), c.batch, c.workers, refused.Load())
	return nil
}

func (c *BenchCommand) score(ctx context.Context, url string, lines [][]byte) error {
	interval := time.Second / time.Duration(c.rate)
	total := int(c.duration / interval)
	lat := make([]time.Duration, total)
	var failed atomic.Int64
	// Open loop with a bounded pool: each request has a scheduled start
	// time, and its latency is measured from that time, so a request that
	// waited for a free sender counts its wait (no coordinated omission).
	due := make(chan int, total)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 128; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range due {
				scheduled := start.Add(time.Duration(i) * interval)
				status, err := c.post(ctx, url+"/api/v1/score", "application/json", lines[i%len(lines)])
				lat[i] = time.Since(scheduled)
				if err != nil || status != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		due <- i
	}
	close(due)
	wg.Wait()
	took := time.Since(start)
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(c.stdout, "score: %d requests in %s = %.0f req/s offered at %d/s; latency p50 %s p90 %s p99 %s max %s; %d failed\n",
		total, took.Round(time.Millisecond), float64(total)/took.Seconds(), c.rate, q(0.5), q(0.9), q(0.99), lat[len(lat)-1], failed.Load())
	return nil
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}

func (c *BenchCommand) post(ctx context.Context, url, contentType string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
