package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

// PlanCommand writes, shows and approves containment plans through the API
// of a running server: `firebreak plan create|show|list|approve|revise`.
type PlanCommand struct {
	stdout, stderr io.Writer
}

// RunCommand starts and steers containment runs through the API of a
// running server: `firebreak run start|show|items|pause|resume|kill|rollback`.
type RunCommand struct {
	stdout, stderr io.Writer
}

const planUsage = `Usage: firebreak plan <command> [flags]

Commands:
  create  --incident ID --step SPEC [--step SPEC]...  write a plan and show its preview
  revise  ID --step SPEC [--step SPEC]...             write a new version of a plan
  show    ID                                          a plan, its preview, approvals and runs
  list    --incident ID                               the plans of an incident
  approve ID [--comment TEXT]                         approve the latest version you were shown

A step is TIER:ACTION[,ACTION...][@DURATION], e.g.
  --step compromised:force_password_reset,revoke_sessions --step at_risk:require_step_up
  --step sources:block_source@24h --step compromised:notify_inapp
Tiers: compromised, at_risk, targeted, sources. Actions: ` + "require_step_up, revoke_sessions,\nforce_password_reset, temporary_lock (timed), throttle_source, block_source (timed),\nand the notices notify_inapp, notify_email, notify_sms, notify_chat (see firebreak outbox)." + `

The server is FIREBREAK_URL (default http://127.0.0.1:8080) or --url; the API
token is FIREBREAK_TOKEN.
`

const runUsage = `Usage: firebreak run <command> [flags]

Commands:
  start    PLAN [--watch]       run the latest version of a plan (approved if it must be)
  show     RUN [--watch]        a run's state and progress
  items    RUN [--state S]      a run's per-target outcomes
  pause    RUN                  stop dispatch; calls in flight finish
  resume   RUN                  go on with a paused or halted run
  kill     RUN                  stop for good (kill switch)
  rollback RUN [--stage N]      undo what a run did, where its actions allow

The server is FIREBREAK_URL (default http://127.0.0.1:8080) or --url; the API
token is FIREBREAK_TOKEN.
`

// apiFlags adds --url to fs and returns a function that builds the client.
func apiFlags(fs *flag.FlagSet) func() *fbhttp.Client {
	def := os.Getenv("FIREBREAK_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	u := fs.String("url", def, "server `URL`")
	return func() *fbhttp.Client { return fbhttp.NewClient(*u, os.Getenv("FIREBREAK_TOKEN")) }
}

// stepFlags collects repeated --step values.
type stepFlags []firebreak.PlanStep

func (s *stepFlags) String() string { return fmt.Sprint(len(*s)) }

func (s *stepFlags) Set(v string) error {
	step, err := parseStep(v)
	if err != nil {
		return err
	}
	*s = append(*s, step)
	return nil
}

// parseStep reads TIER:ACTION[,ACTION...][@DURATION].
func parseStep(v string) (firebreak.PlanStep, error) {
	var step firebreak.PlanStep
	who, what, ok := strings.Cut(v, ":")
	if !ok || what == "" {
		return step, fmt.Errorf("step %q: want TIER:ACTION[,ACTION...][@DURATION]", v)
	}
	if who == "sources" {
		step.Select.Sources = true
	} else {
		step.Select.Tier = firebreak.Tier(who)
	}
	if actions, dur, ok := strings.Cut(what, "@"); ok {
		d, err := time.ParseDuration(dur)
		if err != nil {
			return step, fmt.Errorf("step %q: duration %q: want e.g. 24h", v, dur)
		}
		step.Duration.Duration, what = d, actions
	}
	for _, a := range strings.Split(what, ",") {
		step.Actions = append(step.Actions, firebreak.ActionKind(strings.TrimSpace(a)))
	}
	return step, nil
}

// specFlags adds the flags of a plan spec to fs.
func specFlags(fs *flag.FlagSet, spec *firebreak.PlanSpec, steps *stepFlags) *string {
	fs.Var(steps, "step", "a step: TIER:ACTION[,ACTION...][@DURATION] (repeatable)")
	stages := fs.String("stages", "", "cumulative stage shares, e.g. 0.01,0.1,1 (default: 1% canary, 10%, all)")
	fs.Float64Var(&spec.RateLimit, "rate", 0, "cap on provider calls per second (0: none)")
	fs.IntVar(&spec.Concurrency, "concurrency", 0, "provider calls in flight (0: server default)")
	fs.Float64Var(&spec.HaltErrorRate, "halt-error-rate", 0, "halt when this share of a stage fails (0: server default 5%)")
	fs.BoolVar(&spec.ManualStages, "manual-stages", false, "wait for a resume before each stage after the canary")
	fs.StringVar(&spec.Connector, "connector", "", "identity provider connector (default: the server's)")
	fs.StringVar(&spec.Note, "note", "", "a note for reviewers")
	return stages
}

func parseStages(v string) ([]float64, error) {
	if v == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(v, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("--stages: %q is not a number", f)
		}
		out = append(out, x)
	}
	return out, nil
}

// Run dispatches a plan subcommand.
func (c *PlanCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, planUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("plan "+args[0], flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprint(c.stderr, planUsage, "\nFlags:\n"); fs.PrintDefaults() }
	client := apiFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	switch args[0] {
	case "create", "revise":
		var spec firebreak.PlanSpec
		var steps stepFlags
		stages := specFlags(fs, &spec, &steps)
		incident := fs.Int64("incident", 0, "incident `ID` (create)")
		id, err := parseIDAndFlags(fs, c.stderr, args[0], args[1:], args[0] == "revise")
		if err != nil {
			return err
		}
		if spec.Stages, err = parseStages(*stages); err != nil {
			return usageError(fs, c.stderr, "%v", err)
		}
		spec.Steps = steps
		if len(spec.Steps) == 0 {
			return usageError(fs, c.stderr, "name at least one --step")
		}
		var p *firebreak.Plan
		if args[0] == "create" {
			if *incident < 1 {
				return usageError(fs, c.stderr, "--incident: required")
			}
			p, err = client().CreatePlan(ctx, *incident, spec)
		} else {
			p, err = client().RevisePlan(ctx, id, spec)
		}
		if err != nil {
			return apiError(err)
		}
		return c.printPlan(&fbhttp.PlanDetail{Plan: p}, *asJSON)
	case "show":
		id, err := parseIDAndFlags(fs, c.stderr, "show", args[1:], true)
		if err != nil {
			return err
		}
		d, err := client().Plan(ctx, id)
		if err != nil {
			return apiError(err)
		}
		return c.printPlan(d, *asJSON)
	case "list":
		incident := fs.Int64("incident", 0, "incident `ID`")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *incident < 1 {
			return usageError(fs, c.stderr, "--incident: required")
		}
		plans, err := client().Plans(ctx, *incident)
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, plans)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PLAN\tVERSION\tAUTHOR\tACCOUNTS\tAPPROVAL\tCREATED")
		for _, p := range plans {
			need := "not needed"
			if p.Preview.NeedsApproval {
				need = "needed"
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\n", p.ID, p.Version, p.Author, p.Preview.Accounts, need, p.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "approve":
		comment := fs.String("comment", "", "a comment for the timeline")
		version := fs.Int("version", 0, "the version you reviewed (default: the latest, shown before approving)")
		hash := fs.String("hash", "", "the hash of the version you reviewed (default: the latest's)")
		id, err := parseIDAndFlags(fs, c.stderr, "approve", args[1:], true)
		if err != nil {
			return err
		}
		cl := client()
		d, err := cl.Plan(ctx, id)
		if err != nil {
			return apiError(err)
		}
		if err := c.printPlan(d, false); err != nil {
			return err
		}
		bind := fbhttp.BindRequest{Version: d.Plan.Version, Hash: d.Plan.Hash, Comment: *comment}
		if *version > 0 {
			bind.Version = *version
		}
		if *hash != "" {
			bind.Hash = *hash
		}
		a, err := cl.Approve(ctx, id, bind)
		if err != nil {
			return apiError(err)
		}
		fmt.Fprintf(c.stdout, "\nApproved plan %d v%d as %s; valid until %s.\n", a.PlanID, a.Version, a.Approver, a.ExpiresAt.Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(c.stderr, "firebreak plan: unknown command %q\n\n%s", args[0], planUsage)
	return errUsage
}

// printPlan shows a plan's preview in words.
func (c *PlanCommand) printPlan(d *fbhttp.PlanDetail, asJSON bool) error {
	if asJSON {
		return printJSON(c.stdout, d)
	}
	p := d.Plan
	fmt.Fprintf(c.stdout, "Plan %d v%d for incident %d, by %s (hash %s)\n", p.ID, p.Version, p.IncidentID, p.Author, p.Hash)
	fmt.Fprintf(c.stdout, "Acts on %d accounts and %d sources, in stages reaching %v targets.\n", p.Preview.Accounts, p.Preview.Sources, p.Preview.StageSizes)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tTARGETS\tLIKELY CLEAN\tUNDO")
	for _, a := range p.Preview.Actions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", a.Action, a.Count, a.LikelyClean, a.Undo)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.Preview.NeedsApproval {
		fmt.Fprintf(c.stdout, "Needs a second person's approval: %s.\n", p.Preview.Why)
	}
	for _, a := range d.Approvals {
		fmt.Fprintf(c.stdout, "Approved v%d by %s at %s (expires %s).\n", a.Version, a.Approver, a.CreatedAt.Format(time.RFC3339), a.ExpiresAt.Format(time.RFC3339))
	}
	for _, r := range d.Runs {
		fmt.Fprintf(c.stdout, "Run %d (%s): %s, %d of %d done.\n", r.ID, r.Kind, r.State, r.Counts.Done(), r.Total)
	}
	return nil
}

// Run dispatches a run subcommand.
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, runUsage)
		return errUsage
	}
	verb := args[0]
	fs := flag.NewFlagSet("run "+verb, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprint(c.stderr, runUsage, "\nFlags:\n"); fs.PrintDefaults() }
	client := apiFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	watch := fs.Bool("watch", false, "follow progress until the run stops")
	stage := fs.Int("stage", -1, "rollback: undo stages 0..N only (default: the whole run)")
	state := fs.String("state", "", "items: only items in this state")
	switch verb {
	case "start", "show", "items", "pause", "resume", "kill", "rollback":
	default:
		fmt.Fprintf(c.stderr, "firebreak run: unknown command %q\n\n%s", verb, runUsage)
		return errUsage
	}
	id, err := parseIDAndFlags(fs, c.stderr, verb, args[1:], true)
	if err != nil {
		return err
	}
	cl := client()
	var run *firebreak.Run
	switch verb {
	case "start":
		d, err := cl.Plan(ctx, id)
		if err != nil {
			return apiError(err)
		}
		run, err = cl.StartRun(ctx, id, fbhttp.BindRequest{Version: d.Plan.Version, Hash: d.Plan.Hash})
		if err != nil {
			return apiError(err)
		}
	case "show":
		if run, err = cl.Run(ctx, id); err != nil {
			return apiError(err)
		}
	case "items":
		page, err := cl.RunItems(ctx, id, firebreak.ItemFilter{State: firebreak.ItemState(*state), Limit: firebreak.MaxPageLimit})
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, page)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tACTION\tTARGET\tSTATE\tATTEMPTS\tREASON")
		for _, it := range page.Items {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", it.Seq, it.Action, it.Target, it.State, it.Attempts, it.Reason)
		}
		return tw.Flush()
	case "pause", "resume", "kill":
		if run, err = cl.ControlRun(ctx, id, verb); err != nil {
			return apiError(err)
		}
	case "rollback":
		var st *int
		if *stage >= 0 {
			st = stage
		}
		if run, err = cl.Rollback(ctx, id, st); err != nil {
			return apiError(err)
		}
	}
	if *watch {
		return c.watch(ctx, cl, run.ID)
	}
	if *asJSON {
		return printJSON(c.stdout, run)
	}
	printRun(c.stdout, run)
	return nil
}

// watch prints a run's progress every second until it stops moving.
func (c *RunCommand) watch(ctx context.Context, cl *fbhttp.Client, id int64) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		run, err := cl.Run(ctx, id)
		if err != nil {
			return apiError(err)
		}
		printRun(c.stdout, run)
		if run.State != firebreak.RunRunning {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func printRun(w io.Writer, r *firebreak.Run) {
	pct := 0.0
	if r.Total > 0 {
		pct = 100 * float64(r.Counts.Done()) / float64(r.Total)
	}
	fmt.Fprintf(w, "Run %d (%s of plan %d v%d): %s, stage %d of %d, %d/%d done (%.1f%%): %d confirmed, %d failed, %d skipped, %d in flight",
		r.ID, r.Kind, r.PlanID, r.Version, r.State, r.Stage+1, len(r.Spec.Stages), r.Counts.Done(), r.Total, pct,
		r.Counts.Confirmed, r.Counts.Failed, r.Counts.Skipped, r.Counts.Sent)
	if r.Reason != "" {
		fmt.Fprintf(w, " — %s", r.Reason)
	}
	fmt.Fprintln(w)
}

// parseFlags parses args into fs. The flag package has already printed what
// was wrong and the usage, so a bad flag (a step without actions, a
// non-numeric --incident) is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// leadingID reads a positive integer id as the first argument when
// required, and returns the arguments after it.
func leadingID(verb string, args []string, required bool) (int64, []string, error) {
	if !required {
		return 0, args, nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return 0, nil, fmt.Errorf("%s: name the id first", verb)
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id < 1 {
		return 0, nil, fmt.Errorf("%s: id %q must be a positive integer", verb, args[0])
	}
	return id, args[1:], nil
}

// parseIDAndFlags reads the id that leads verb's arguments (when
// required), then the flags after it.
func parseIDAndFlags(fs *flag.FlagSet, stderr io.Writer, verb string, args []string, required bool) (int64, error) {
	id, rest, err := leadingID(verb, args, required)
	if err != nil {
		return 0, usageError(fs, stderr, "%v", err)
	}
	return id, parseFlags(fs, rest)
}

// apiError turns an API error into what the command prints.
func apiError(err error) error {
	var fe *firebreak.Error
	if errors.As(err, &fe) {
		return fmt.Errorf("%s (%s)", fe.Message, fe.Code)
	}
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
