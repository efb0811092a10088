// Command firebreak is the Firebreak binary: one executable, one file per
// subcommand. main wires the packages together; nothing else imports them
// all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

// errUsage marks errors already explained to the user with a usage hint.
var errUsage = errors.New("usage")

// exitError carries a specific exit status (replay's gate exits 3).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var ee *exitError
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, &ee):
		fmt.Fprintln(os.Stderr, "firebreak:", ee.err)
		os.Exit(ee.code)
	default:
		fmt.Fprintln(os.Stderr, "firebreak:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return NewServeCommand(stdout, stderr).Run(ctx, rest)
	case "demo":
		return NewDemoCommand(stdout, stderr).Run(ctx, rest)
	case "replay":
		return (&ReplayCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "simulate":
		return (&SimulateCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "bench":
		return (&BenchCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "operator":
		return (&OperatorCommand{stdout: stdout, stderr: stderr, stdin: os.Stdin}).Run(ctx, rest)
	case "plan":
		return (&PlanCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "run":
		return (&RunCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "outbox":
		return (&OutboxCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "appeals":
		return (&AppealsCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "notices":
		return (&NoticesCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "audit":
		return (&AuditCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "simidp":
		return (&SimIdPCommand{stdout: stdout, stderr: stderr}).Run(ctx, rest)
	case "version":
		fmt.Fprintf(stdout, "firebreak %s\n", Version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "firebreak: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

const usage = `Firebreak scores every login against the account's own history and keeps
account-security incidents small, targeted and reversible.

Usage:

	firebreak <command> [flags]

Commands:

	serve      run the API and dashboard on an embedded data directory
	demo       serve with simulated traffic and an attack, and print the URL
	replay     score a file of events offline and report quality and speed
	simulate   write a simulated, labelled population of logins as NDJSON
	bench      measure the HTTP API's throughput and latency on loopback
	operator   create operators and API tokens in a data directory (the first admin)
	plan       write, show and approve containment plans (through the API)
	run        start, watch, pause, resume, kill and roll back runs (through the API)
	outbox     list notices and count them by channel and state (through the API)
	appeals    list an incident's appeals and decide them (through the API)
	notices    show a notice, or preview one before a campaign (through the API)
	audit      verify or export the tamper-evident audit trail
	simidp     serve a simulated identity provider over HTTP, with injected faults
	version    print the version

Run 'firebreak <command> -h' for the flags of a command.
`

// newLogger returns the process logger: text for people, JSON for machines.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

// usageError prints a message and a "try:" hint, and returns errUsage.
func usageError(fs *flag.FlagSet, w io.Writer, format string, args ...any) error {
	fmt.Fprintf(w, "firebreak %s: %s\ntry: firebreak %s -h\n", fs.Name(), fmt.Sprintf(format, args...), fs.Name())
	return errUsage
}
