package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"firebreak"
	"firebreak/config"
	"firebreak/detect"
	"firebreak/engine"
	"firebreak/eval"
	"firebreak/ingest"
	"firebreak/risk"
	"firebreak/uap"
)

// ReplayCommand scores a file of events offline through the same pipeline
// as serve, in order and causally, and reports speed and quality.
type ReplayCommand struct {
	stdout, stderr io.Writer

	input, format, policyPath, scoresPath, reportFormat, baseline string
	maxChallenge                                                  float64
	policy                                                        firebreak.Policy
	decodeOnly                                                    bool
	cpuProfile                                                    string
	noDetect                                                      bool
	incidentsPath                                                 string
}

func (c *ReplayCommand) parseFlags(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.input, "input", "", "events `file` (- for stdin)")
	fs.StringVar(&c.format, "format", "auto", "auto, ndjson, ocsf or rba")
	fs.StringVar(&c.policyPath, "policy", "", "policy `file` (YAML)")
	fs.StringVar(&c.scoresPath, "scores", "", "write one JSON line per input event to `file`")
	fs.StringVar(&c.reportFormat, "report", "text", "text or json")
	fs.StringVar(&c.baseline, "baseline", "", "also run a baseline rule in the same pass: naive")
	fs.Float64Var(&c.maxChallenge, "max-challenge-rate", -1, "exit 3 when the legitimate challenge rate exceeds `R` (e.g. 0.01)")
	fs.BoolVar(&c.noDetect, "no-detect", false, "score only: skip campaign detection (to measure what it costs)")
	fs.StringVar(&c.incidentsPath, "incidents", "", "write the incidents found, with the account ids of each tier, as JSON to `file`")
	fs.BoolVar(&c.decodeOnly, "decode-only", false, "only read and decode the input and report the speed (the benchmark's yardstick)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile to `file`")
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak replay --input FILE [flags]\n\nScore events offline, in order, through the engine's code path, and report\nspeed, decisions and (with labels) quality. Exit status 3 means the\n--max-challenge-rate gate failed.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case c.input == "":
		return usageError(fs, c.stderr, "--input is required")
	case fs.NArg() > 0:
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	case c.reportFormat != "text" && c.reportFormat != "json":
		return usageError(fs, c.stderr, "--report %q: want text or json", c.reportFormat)
	case c.baseline != "" && c.baseline != "naive":
		return usageError(fs, c.stderr, "--baseline %q: want naive", c.baseline)
	case c.noDetect && c.incidentsPath != "":
		return usageError(fs, c.stderr, "--incidents needs detection; drop --no-detect")
	case c.maxChallenge > 1:
		return usageError(fs, c.stderr, "--max-challenge-rate %g: want a share in [0, 1]", c.maxChallenge)
	}
	switch ingest.Format(c.format) {
	case ingest.FormatAuto, ingest.FormatNDJSON, ingest.FormatOCSF, ingest.FormatRBA:
	default:
		return usageError(fs, c.stderr, "--format %q: want auto, ndjson, ocsf or rba", c.format)
	}
	c.policy = firebreak.DefaultPolicy()
	if c.policyPath != "" {
		p, err := config.LoadPolicy(c.policyPath)
		if err != nil {
			return err
		}
		c.policy = p
	}
	return nil
}

// Run replays the input and writes the report.
func (c *ReplayCommand) Run(ctx context.Context, args []string) error {
	if err := c.parseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	in, size, err := openInput(c.input)
	if err != nil {
		return err
	}
	defer in.Close()
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var scores *bufio.Writer
	if c.scoresPath != "" {
		f, err := os.Create(c.scoresPath)
		if err != nil {
			return fmt.Errorf("create scores file: %w", err)
		}
		defer f.Close()
		scores = bufio.NewWriterSize(f, 1<<20)
	}
	agents, err := uap.New(100_000)
	if err != nil {
		return fmt.Errorf("load user agent parser: %w", err)
	}
	r := &replayer{
		scores: scores,
		model:  &eval.Report{Name: "firebreak"},
		stderr: c.stderr,
	}
	cfg := risk.Config{Policy: c.policy}
	if !c.noDetect {
		// Detection feeds source reputation back into the score, as in serve.
		r.det = detect.New(detect.DefaultConfig())
		cfg.Reputation = r.det
	}
	r.pipe = engine.NewPipeline(risk.New(cfg))
	if c.baseline == "naive" {
		r.naive = eval.NewNaiveRule(5, time.Hour)
		r.naiveReport = &eval.Report{Name: r.naive.String()}
	}
	in = withProgress(in, size, c.stderr)
	dec := ingest.NewDecoder(in, ingest.Options{Format: ingest.Format(c.format), Agents: agents})
	if c.decodeOnly {
		return decodeOnly(dec, c.stdout)
	}
	start := time.Now()
	if err := r.run(ctx, dec); err != nil {
		return err
	}
	r.model.Elapsed = time.Since(start)
	if scores != nil {
		if err := scores.Flush(); err != nil {
			return fmt.Errorf("write scores file: %w", err)
		}
	}
	if r.det != nil {
		campaigns := r.det.Campaigns()
		r.incidents = newIncidentReport(campaigns, &r.truth)
		if c.incidentsPath != "" {
			if err := writeIncidents(c.incidentsPath, campaigns); err != nil {
				return err
			}
		}
	}
	if err := c.writeReport(r); err != nil {
		return err
	}
	if c.maxChallenge >= 0 {
		if err := r.model.Gate(c.maxChallenge); err != nil {
			return &exitError{code: 3, err: err}
		}
	}
	return nil
}

func (c *ReplayCommand) writeReport(r *replayer) error {
	if c.reportFormat == "json" {
		out := map[string]any{"model": r.model, "rejected": r.rejected, "thresholds": r.pipe.Model().Thresholds()}
		if r.det != nil {
			out["incidents"] = r.incidents
		}
		if r.naiveReport != nil {
			r.naiveReport.Elapsed = r.model.Elapsed
			out["baseline"] = r.naiveReport
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	t := r.pipe.Model().Thresholds()
	fmt.Fprintf(c.stdout, "rejected lines:  %d\nthresholds:      challenge %.4f, deny %.4f (%s, %d scores observed)\n\n", r.rejected, t.Challenge, t.Deny, t.Source, t.Observed)
	var err error
	if r.naiveReport != nil {
		r.naiveReport.Elapsed = r.model.Elapsed
		err = eval.WriteComparison(c.stdout, r.model, r.naiveReport)
	} else {
		err = r.model.WriteText(c.stdout)
	}
	if r.det != nil {
		r.incidents.writeText(c.stdout)
	}
	return err
}

func openInput(path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open input: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open input: %w", err)
	}
	return f, st.Size(), nil
}

// withProgress wraps r with a progress bar on stderr when stderr is a
// terminal; otherwise it returns r unchanged.
func withProgress(r io.ReadCloser, size int64, stderr io.Writer) io.ReadCloser {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return r
	}
	bar := progressbar.DefaultBytes(size, "replaying")
	pr := progressbar.NewReader(r, bar)
	return struct {
		io.Reader
		io.Closer
	}{&pr, r}
}

// scoreLine appends one --scores line.
func scoreLine(dst []byte, i int, a *firebreak.Assessment) []byte {
	dst = append(dst, `{"i":`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendFloat(dst, a.Score, 'g', 6, 64)
	dst = append(dst, `,"decision":"`...)
	dst = append(dst, a.Decision.String()...)
	dst = append(dst, `","reasons":[`...)
	for j, reason := range a.Reasons {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, reason)
	}
	return append(dst, "]}\n"...)
}

// decodeOnly reads and decodes every event, scoring nothing: the yardstick
// against which replay's own speed is judged.
func decodeOnly(dec *ingest.Decoder, stdout io.Writer) error {
	start := time.Now()
	var ev firebreak.Event
	var n, bad int64
	for {
		ev = firebreak.Event{}
		err := dec.Next(&ev)
		var fe *firebreak.FieldError
		switch {
		case err == io.EOF:
			took := time.Since(start)
			fmt.Fprintf(stdout, "decoded %d events (%d rejected) in %s: %.0f events/s\n", n, bad, took.Round(time.Millisecond), float64(n)/took.Seconds())
			return nil
		case errors.As(err, &fe):
			bad++
		case err != nil:
			return fmt.Errorf("read input at line %d: %w", dec.Line(), err)
		default:
			n++
		}
	}
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
