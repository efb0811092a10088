package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goccy/go-yaml"

	"firebreak"
	"firebreak/audit"
	"firebreak/contain"
	"firebreak/idp"
	"firebreak/sqlite"
)

// killAfterCallsEnv makes `firebreak serve` SIGKILL itself right after its
// n-th successful provider call, before recording it: the crash test's way
// to hit the window between "provider applied" and "state recorded". Never
// set it outside tests.
const killAfterCallsEnv = "FIREBREAK_TEST_KILL_AFTER_CALLS"

// ContainConfig is the containment part of ServeConfig.
type ContainConfig struct {
	// ConnectorPath is a YAML file holding one idp.Config.
	ConnectorPath string
	// IdPURL connects to `firebreak simidp` at this URL (shorthand for a
	// simhttp connector file).
	IdPURL string
	// SimIdP contains against an in-process simulated provider.
	SimIdP bool
	// Sim is the in-process provider when SimIdP is set (created on Open
	// if nil), for demos and tests that inspect its effects.
	Sim     *idp.Sim
	Service contain.Config
}

// containFlags registers the containment flags of serve.
func containFlags(fs *flag.FlagSet, cfg *ContainConfig) {
	fs.StringVar(&cfg.ConnectorPath, "connector", "", "identity provider connector `file` (YAML; see docs/connectors.md)")
	fs.StringVar(&cfg.IdPURL, "idp-url", "", "contain through the simulated provider of 'firebreak simidp' at this `URL`")
	fs.BoolVar(&cfg.SimIdP, "sim-idp", false, "contain against an in-process simulated provider (demos only)")
	fs.Int64Var(&cfg.Service.ApprovalAbove, "approval-above", 100, "accounts a plan may act on without a second person's approval")
	fs.DurationVar(&cfg.Service.ApprovalTTL, "approval-ttl", time.Hour, "how long an approval stays valid")
	fs.Int64Var(&cfg.Service.MaxAccounts, "max-plan-accounts", 5_000_000, "most accounts one plan may act on")
}

// connector builds the configured connector, or nil when none is.
func (cfg *ContainConfig) connector() (firebreak.Connector, error) {
	set := 0
	for _, on := range []bool{cfg.ConnectorPath != "", cfg.IdPURL != "", cfg.SimIdP} {
		if on {
			set++
		}
	}
	switch {
	case set > 1:
		return nil, fmt.Errorf("name one connector: --connector, --idp-url or --sim-idp")
	case cfg.SimIdP:
		if cfg.Sim == nil {
			cfg.Sim = idp.NewSim(idp.SimConfig{})
		}
		return cfg.Sim, nil
	case cfg.IdPURL != "":
		return idp.Open(idp.Config{Kind: idp.KindSimHTTP, URL: cfg.IdPURL})
	case cfg.ConnectorPath != "":
		data, err := os.ReadFile(cfg.ConnectorPath)
		if err != nil {
			return nil, fmt.Errorf("read connector file: %w", err)
		}
		var ic idp.Config
		if err := yaml.UnmarshalWithOptions(data, &ic, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("connector file %s: %w", cfg.ConnectorPath, err)
		}
		c, err := idp.Open(ic)
		if err != nil {
			return nil, fmt.Errorf("connector file %s: %s", cfg.ConnectorPath, firebreak.ErrorMessage(err))
		}
		return c, nil
	}
	return nil, nil
}

// openContainment opens the audit trail and the containment service, and
// resumes the runs a stop interrupted.
func (c *ServeCommand) openContainment(ctx context.Context) error {
	log, err := audit.Open(filepath.Join(c.Config.DataDir, "audit"), audit.Options{Logger: c.Logger})
	if err != nil {
		return fmt.Errorf("open audit trail: %w", err)
	}
	c.Audit = log
	conn, err := c.Config.Contain.connector()
	if err != nil {
		return err
	}
	cfg := c.Config.Contain.Service
	if v := os.Getenv(killAfterCallsEnv); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%q: want a positive integer", killAfterCallsEnv, v)
		}
		var calls atomic.Int64
		cfg.AfterCall = func() {
			if calls.Add(1) == n {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way; record nothing more
			}
		}
	}
	svc := contain.NewService(cfg)
	svc.Incidents, svc.Store, svc.Auditor, svc.Logger = c.Incidents, sqlite.NewContainmentStore(c.db), log, c.Logger
	if conn != nil {
		svc.Connectors = map[string]firebreak.Connector{"": conn, conn.Name(): conn}
	} else {
		c.Logger.Warn("no identity provider connector configured: plans can be written and approved, not run (see --connector)")
	}
	svc.KnownAccounts = func(context.Context) (int64, error) { return int64(c.Engine.Stats().Accounts), nil }
	c.Contain = svc
	return nil
}
