package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"firebreak"
	"firebreak/audit"
	"firebreak/comms"
	"firebreak/config"
	"firebreak/contain"
	"firebreak/detect"
	"firebreak/engine"
	fbhttp "firebreak/http"
	"firebreak/journal"
	"firebreak/selfservice"
	"firebreak/sqlite"
	"firebreak/uap"
)

// ServeConfig is everything `firebreak serve` needs.
type ServeConfig struct {
	DataDir    string
	Addr       string
	PolicyPath string
	Token      string
	LogLevel   string
	LogFormat  string
	Engine     engine.Config
	Contain    ContainConfig
	// ChannelsPath is a YAML file configuring the notice channels (see
	// docs/channels.md); the in-app feed is always on.
	ChannelsPath string
	// PublicURL is where people reach the status page (for links in its
	// feed and notices); default: this server's URL + /status.
	PublicURL string
	Comms     CommsConfig
}

// DefaultServeConfig returns the defaults of `firebreak serve`.
func DefaultServeConfig() ServeConfig {
	return ServeConfig{DataDir: "firebreak-data", Addr: "127.0.0.1:8080", LogLevel: "info", LogFormat: "text", Engine: engine.DefaultConfig(),
		Comms: CommsConfig{Org: "Firebreak demo", SelfServiceTTL: 7 * 24 * time.Hour}}
}

// ServeCommand runs the API, the dashboard and the scoring engine on a data
// directory. Open and Close are separate from Run so that demo and the
// end-to-end tests can drive a real server in-process.
type ServeCommand struct {
	Config ServeConfig
	Logger *slog.Logger

	stdout, stderr io.Writer
	db             *sqlite.DB
	journal        *journal.Journal
	Engine         *engine.Engine
	Server         *fbhttp.Server
	// Incidents is the store the engine opens incidents in.
	Incidents firebreak.IncidentService
	// Audit is the tamper-evident audit trail in DATA/audit.
	Audit *audit.Log
	// Contain plans, approves and runs containment.
	Contain *contain.Service
	// Status stores status page updates; the status page serves them.
	Status       firebreak.StatusService
	statusPage   *laterHandler
	stopReminder context.CancelFunc
	// SelfTokens signs the links to the self-service pages.
	SelfTokens  *selfservice.Tokens
	selfService nethttp.Handler
	// Notices is the outbox; Feed the in-app feed it delivers to.
	Notices    firebreak.NoticeService
	Feed       firebreak.InAppFeed
	stopOutbox func()
	// Desk serves the outbox, appeals, previews and communication metrics.
	Desk     *comms.Desk
	notifier *comms.Notifier
	// appeals stores appeals and answers what was done to an account.
	appeals *sqlite.AppealStore
	// outboxChannels are the channels the outbox delivers on.
	outboxChannels []firebreak.Channel

	statusSenders []firebreak.Sender // the channel senders; status subscribers' email goes through them
}

// NewServeCommand returns a command with default configuration.
func NewServeCommand(stdout, stderr io.Writer) *ServeCommand {
	return &ServeCommand{Config: DefaultServeConfig(), stdout: stdout, stderr: stderr}
}

// ParseFlags fills the configuration from the command line and environment.
func (c *ServeCommand) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&c.Config.DataDir, "data", c.Config.DataDir, "data `directory` (created if missing)")
	fs.StringVar(&c.Config.Addr, "addr", c.Config.Addr, "listen `address`")
	fs.StringVar(&c.Config.PolicyPath, "policy", "", "policy `file` (YAML); default: 1% challenge budget")
	fs.StringVar(&c.Config.LogLevel, "log-level", c.Config.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.Config.LogFormat, "log-format", c.Config.LogFormat, "text or json")
	containFlags(fs, &c.Config.Contain)
	fs.StringVar(&c.Config.ChannelsPath, "channels", "", "notice channels `file` (YAML: email, sms, chat, slack; see docs/channels.md)")
	fs.StringVar(&c.Config.PublicURL, "public-url", "", "public `URL` of the status page (default: this server's URL + /status)")
	commsFlags(fs, &c.Config.Comms)
	fs.Usage = func() {
		fmt.Fprint(c.stderr, "Usage: firebreak serve [flags]\n\nServe the API and dashboard. Operators sign in with the accounts that\n'firebreak operator add' creates; automation uses API tokens from\n'firebreak operator token'. A static admin token may be set in FIREBREAK_TOKEN.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	}
	c.Config.Token = os.Getenv("FIREBREAK_TOKEN")
	if c.Config.PolicyPath != "" {
		p, err := config.LoadPolicy(c.Config.PolicyPath)
		if err != nil {
			return err
		}
		c.Config.Engine.Policy = p
	}
	return nil
}

// Run parses flags, opens everything, serves until ctx ends, then closes.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	if err := c.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := c.Open(ctx); err != nil {
		c.Close()
		return err
	}
	fmt.Fprintf(c.stdout, "firebreak serving on %s (data in %s)\n", c.Server.URL(), c.Config.DataDir)
	<-ctx.Done()
	return c.Close()
}

// Open opens the store, the journal and the engine, then starts listening.
func (c *ServeCommand) Open(ctx context.Context) error {
	if c.Logger == nil {
		log, err := newLogger(c.stderr, c.Config.LogLevel, c.Config.LogFormat)
		if err != nil {
			return err
		}
		c.Logger = log
	}
	if err := os.MkdirAll(c.Config.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	c.db = sqlite.NewDB(filepath.Join(c.Config.DataDir, "firebreak.db"))
	if err := c.db.Open(ctx); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	j, err := journal.Open(filepath.Join(c.Config.DataDir, "journal"), journal.Options{Logger: c.Logger})
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	c.journal = j
	logins := sqlite.NewLoginStore(c.db)
	cfg := c.Config.Engine
	cfg.Logger = c.Logger
	if cfg.Detect == nil {
		dc := detect.DefaultConfig()
		cfg.Detect = &dc
	}
	c.Incidents = sqlite.NewIncidentStore(c.db)
	cfg.Incidents = c.Incidents
	c.Engine = engine.New(cfg, j, journal.SnapshotDir(filepath.Join(c.Config.DataDir, "snapshots")), logins)
	if err := c.Engine.Open(); err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	if err := c.openContainment(ctx); err != nil {
		return err
	}
	c.openStatusStore()
	if err := c.openSelfService(); err != nil {
		return err
	}
	if err := c.openOutbox(ctx); err != nil {
		return err
	}
	c.openDesk()
	agents, err := uap.New(100_000)
	if err != nil {
		return fmt.Errorf("load user agent parser: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c.Server = fbhttp.NewServer(fbhttp.Config{
		Ingest: c.Engine, Logins: logins, Incidents: c.Incidents, Agents: agents, Logger: c.Logger,
		Registry: reg, Token: c.Config.Token, Operators: sqlite.NewOperatorStore(c.db),
		Auditor: c.Audit, AuditLog: c.Audit, Containment: c.Contain,
		Status: c.Status, StatusPage: c.statusPage, OnStatusPublished: c.statusPage.invalidate,
		SelfService: c.selfService, Feed: c.Feed, Communication: c.Desk,
	})
	if err := c.Server.Open(c.Config.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", c.Config.Addr, err)
	}
	if err := c.openStatusPage(ctx); err != nil {
		return err
	}
	if err := c.openNotifier(); err != nil {
		return err
	}
	// Resume the runs a stop interrupted, once everything they report to is open.
	if err := c.Contain.Start(ctx); err != nil {
		return fmt.Errorf("resume containment runs: %w", err)
	}
	c.Logger.Info("serving", "url", c.Server.URL(), "data", c.Config.DataDir, "policy", policySummary(cfg.Policy))
	return nil
}

// Close shuts down in reverse order: stop taking requests, finish scoring
// and snapshot, then close the journal and the store.
func (c *ServeCommand) Close() error {
	var errs []error
	if c.Server != nil {
		errs = append(errs, c.Server.Close())
	}
	if c.stopReminder != nil {
		c.stopReminder()
	}
	if c.stopOutbox != nil {
		c.stopOutbox()
	}
	if c.Contain != nil {
		errs = append(errs, c.Contain.Close())
	}
	if c.notifier != nil {
		errs = append(errs, c.notifier.Close())
	}
	if c.Engine != nil {
		errs = append(errs, c.Engine.Close())
	}
	if c.journal != nil {
		errs = append(errs, c.journal.Close())
	}
	if c.Audit != nil {
		errs = append(errs, c.Audit.Close())
	}
	if c.db != nil {
		errs = append(errs, c.db.Close())
	}
	return errors.Join(errs...)
}

func policySummary(p firebreak.Policy) string {
	if p.Fixed != nil {
		return fmt.Sprintf("fixed thresholds challenge=%g deny=%g", p.Fixed.Challenge, p.Fixed.Deny)
	}
	return fmt.Sprintf("challenge budget %g%%, deny budget %g%%, warm-up %d logins", p.ChallengeBudget*100, p.DenyBudget*100, p.WarmUp)
}
