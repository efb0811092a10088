package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"firebreak"
	"firebreak/sim"
)

// DemoCommand serves on a fresh data directory and feeds it simulated
// traffic with an attack, in accelerated time.
type DemoCommand struct {
	stdout, stderr io.Writer
	serve          *ServeCommand
	accounts, days int
	speed          float64
	duration       time.Duration
	seed           uint64
}

// NewDemoCommand returns the demo with its defaults.
func NewDemoCommand(stdout, stderr io.Writer) *DemoCommand {
	return &DemoCommand{stdout: stdout, stderr: stderr, serve: NewServeCommand(stdout, stderr), accounts: 3000, days: 14, speed: 1800, seed: 1}
}

func (c *DemoCommand) parseFlags(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.serve.Config.Addr, "addr", c.serve.Config.Addr, "listen `address` (use 127.0.0.1:0 for any free port)")
	fs.StringVar(&c.serve.Config.DataDir, "data", "", "data `directory` (default: a new temporary one)")
	fs.IntVar(&c.accounts, "accounts", c.accounts, "simulated accounts")
	fs.IntVar(&c.days, "days", c.days, "simulated days; the first 60% are loaded at once as history")
	fs.Float64Var(&c.speed, "speed", c.speed, "simulated seconds per real second for the live part")
	fs.DurationVar(&c.duration, "duration", 0, "stop after this long (default: run until interrupted)")
	fs.Uint64Var(&c.seed, "seed", c.seed, "simulation seed")
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak demo [flags]\n\nServe Firebreak on a fresh data directory and feed it a simulated population\nwith false-positive traps and attacks in accelerated time; open the printed URL.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	}
	if c.speed <= 0 {
		return usageError(fs, c.stderr, "--speed %g: must be positive", c.speed)
	}
	return nil
}

// Run starts the server and plays the simulation until ctx ends.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	if err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if c.serve.Config.DataDir == "" {
		dir, err := os.MkdirTemp("", "firebreak-demo-")
		if err != nil {
			return fmt.Errorf("create demo data directory: %w", err)
		}
		c.serve.Config.DataDir = dir
	}
	c.serve.Config.LogLevel = "warn"
	c.serve.Config.Engine.Policy.WarmUp = 2000
	events, err := c.simulate()
	if err != nil {
		return err
	}
	// Measured on the simulated times, before play re-times the live part.
	bulk, clean := bulkResetRadius(events)
	sim, stopIdP, err := c.startDemoIdP()
	if err != nil {
		return err
	}
	defer stopIdP()
	operator, password, err := demoOperator(ctx, c.serve.Config.DataDir, c.stderr)
	if err != nil {
		return err
	}
	ops, err := c.demoOperators(ctx)
	if err != nil {
		return err
	}
	if err := c.serve.Open(ctx); err != nil {
		c.serve.Close()
		return err
	}
	defer c.serve.Close()
	fmt.Fprintf(c.stdout, "Firebreak demo: open %s/ in a browser and sign in as %s with password %s (data in %s). Ctrl-C stops.\n",
		c.serve.Server.URL(), operator, password, c.serve.Config.DataDir)
	fmt.Fprintf(c.stdout, "Two more operators act in the demo: %s (responder, password %s) writes and runs the plan, %s (approver, password %s) approves it.\n",
		demoResponder, ops[demoResponder], demoApprover, ops[demoApprover])
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	err = c.play(ctx, events)
	if err == nil {
		if err := c.contain(ctx, bulk, clean, sim); err != nil && ctx.Err() == nil {
			// The dashboard is still worth a look: say why and keep serving.
			fmt.Fprintf(c.stdout, "the demo could not walk an incident to contained: %v\n", err)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	<-ctx.Done()
	return nil
}

// simulate generates the whole period with timestamps shifted so that it
// ends now.
func (c *DemoCommand) simulate() ([]firebreak.Event, error) {
	cfg := sim.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Seed = c.accounts, c.days, c.seed
	cfg.Start = time.Now().UTC().Add(-time.Duration(c.days) * 24 * time.Hour).Truncate(time.Hour)
	var events []firebreak.Event
	err := sim.Generate(cfg, func(e *firebreak.Event) error {
		ev := *e
		if e.Label != nil {
			// The simulator reuses its label; keep a copy per event.
			l := *e.Label
			ev.Label = &l
		}
		events = append(events, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return events, nil
}

// play loads the first 60% as history, then sends the rest at c.speed,
// re-timed so that every event is stamped with the moment it is sent.
func (c *DemoCommand) play(ctx context.Context, events []firebreak.Event) error {
	split := len(events) * 6 / 10
	for i := 0; i < split; i += 1000 {
		if err := c.serve.Engine.Ingest(ctx, events[i:min(i+1000, split)]); err != nil {
			return fmt.Errorf("load history: %w", err)
		}
	}
	fmt.Fprintf(c.stdout, "loaded %d events of history; playing %d more at %gx speed\n", split, len(events)-split, c.speed)
	live := events[split:]
	if len(live) == 0 {
		return nil
	}
	simStart, wallStart := live[0].Time, time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for sent < len(live) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		simNow := simStart.Add(time.Duration(float64(time.Since(wallStart)) * c.speed))
		end := sent
		for end < len(live) && !live[end].Time.After(simNow) {
			live[end].Time = time.Now().UTC()
			end++
		}
		if end > sent {
			if err := c.serve.Engine.Ingest(ctx, live[sent:end]); err != nil && firebreak.ErrorCode(err) != firebreak.ETOOMANYREQUEST {
				return fmt.Errorf("send events: %w", err)
			}
			sent = end
		}
	}
	fmt.Fprintln(c.stdout, "simulation finished; the server keeps running until interrupted")
	return nil
}
