package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"firebreak"
	"firebreak/ingest"
	"firebreak/sim"
)

// SimulateCommand writes a simulated, labelled population of logins.
type SimulateCommand struct {
	stdout, stderr io.Writer
	cfg            sim.Config
	out            string
}

func (c *SimulateCommand) parseFlags(args []string) error {
	c.cfg = sim.DefaultConfig()
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.IntVar(&c.cfg.Accounts, "accounts", c.cfg.Accounts, "number of accounts")
	fs.IntVar(&c.cfg.Days, "days", c.cfg.Days, "simulated days")
	fs.StringVar(&c.cfg.Scenario, "scenario", c.cfg.Scenario, "one of: "+strings.Join(sim.Scenarios(), ", "))
	fs.Uint64Var(&c.cfg.Seed, "seed", c.cfg.Seed, "random seed (same seed, same events)")
	fs.Float64Var(&c.cfg.AttackerChanges, "attacker-changes", c.cfg.AttackerChanges,
		"share (0-1) of manual takeovers in which the attacker, once in, enrolls a factor of their own\nor changes the recovery address; an assumption: no published figure gives it")
	fs.StringVar(&c.out, "out", "-", "output `file` (- for stdout)")
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak simulate [flags]\n\nWrite simulated, labelled login events and account changes as NDJSON in time order.\n\nScenarios:\n")
		for _, s := range sim.Scenarios() {
			doc, _ := sim.ScenarioDoc(s)
			fmt.Fprintf(c.stderr, "  %-11s %s\n", s, doc)
		}
		fmt.Fprint(c.stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	}
	if err := c.cfg.Validate(); err != nil {
		return usageError(fs, c.stderr, "%s", firebreak.ErrorMessage(err))
	}
	return nil
}

// Run generates the events.
func (c *SimulateCommand) Run(ctx context.Context, args []string) error {
	if err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	w := c.stdout
	if c.out != "-" {
		f, err := os.Create(c.out)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	start := time.Now()
	var n int64
	buf := make([]byte, 0, 512)
	err := sim.Generate(c.cfg, func(e *firebreak.Event) error {
		n++
		if n&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		buf = append(ingest.AppendNative(buf[:0], e), '\n')
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	took := time.Since(start)
	fmt.Fprintf(c.stderr, "simulated %d events (%d accounts, %d days, scenario %s, seed %d) in %s: %.0f events/s\n",
		n, c.cfg.Accounts, c.cfg.Days, c.cfg.Scenario, c.cfg.Seed, took.Round(time.Millisecond), float64(n)/took.Seconds())
	return nil
}
