package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"firebreak"
	"firebreak/idp"
)

// SimIdPCommand serves a simulated identity provider over HTTP, with
// injected faults, for trying containment runs and connectors without a
// real provider.
type SimIdPCommand struct {
	stdout, stderr io.Writer

	addr   string
	faults idp.Faults
}

func (c *SimIdPCommand) parseFlags(args []string) error {
	fs := flag.NewFlagSet("simidp", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var burst string
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9090", "listen `address` (port 0 picks a free port)")
	fs.Float64Var(&c.faults.ErrorRate, "error-rate", 0, "share of calls answered 5xx before acting, e.g. 0.01")
	fs.StringVar(&burst, "burst-429", "", "answer 429 with Retry-After for `FOR/EVERY`, e.g. 200ms/2s")
	fs.DurationVar(&c.faults.Latency, "latency", 0, "delay every call by `D`")
	fs.DurationVar(&c.faults.Jitter, "jitter", 0, "add a random delay up to `D`")
	fs.Float64Var(&c.faults.ResetRate, "reset-rate", 0, "share of calls that act, then reset the connection, e.g. 0.01")
	fs.Uint64Var(&c.faults.Seed, "seed", 1, "random seed for the faults")
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak simidp [flags]\n\nServe a simulated identity provider over HTTP until interrupted, then print\nthe effects it carried out. Connect Firebreak to it with connector kind\n\"simhttp\"; docs/connectors.md describes its API.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	}
	if burst != "" {
		var err error
		if c.faults.BurstFor, c.faults.BurstEvery, err = parseBurst(burst); err != nil {
			return usageError(fs, c.stderr, "--burst-429 %q: %v", burst, err)
		}
	}
	if err := c.faults.Validate(); err != nil {
		var fe *firebreak.FieldError
		if errors.As(err, &fe) {
			return usageError(fs, c.stderr, "--%s: %s", strings.ReplaceAll(fe.Field, "_", "-"), fe.Reason)
		}
		return usageError(fs, c.stderr, "%v", err)
	}
	return nil
}

// parseBurst reads "FOR/EVERY", e.g. "200ms/2s".
func parseBurst(s string) (burstFor, every time.Duration, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("want FOR/EVERY, e.g. 200ms/2s")
	}
	if burstFor, err = time.ParseDuration(a); err == nil {
		every, err = time.ParseDuration(b)
	}
	switch {
	case err != nil:
		return 0, 0, errors.New("want two durations, e.g. 200ms/2s")
	case burstFor <= 0 || every <= 0 || burstFor > every:
		return 0, 0, errors.New("want 0 < FOR <= EVERY")
	}
	return burstFor, every, nil
}

// Run serves until ctx is done, then prints the effect statistics.
func (c *SimIdPCommand) Run(ctx context.Context, args []string) error {
	if err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	sim := idp.NewSim(idp.SimConfig{Faults: c.faults})
	srv := &http.Server{Handler: idp.NewSimHandler(sim), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(c.stdout, "simidp: serving a simulated identity provider on http://%s\n", ln.Addr())
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	writeSimStats(c.stdout, sim.Stats())
	return nil
}

func writeSimStats(w io.Writer, st idp.SimStats) {
	fmt.Fprintf(w, "effects:    %d applied, %d reverted, on %d targets\n", st.Applies, st.Reverts, st.Targets)
	fmt.Fprintf(w, "repeats:    %d (target, action) pairs applied more than once\n", st.Repeats)
	fmt.Fprintf(w, "faults:     %d 5xx, %d 429, %d reset after the effect\n", st.Errors5xx, st.Throttled429, st.Resets)
	fmt.Fprintf(w, "calls:      %d apply/revert (busiest second %d, mean %.0f/s), %d observe, %d rejected\n",
		st.Rate.Calls, st.Rate.MaxPerSecond, st.Rate.Mean, st.Observes, st.Rejected)
}
