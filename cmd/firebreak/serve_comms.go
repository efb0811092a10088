package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"firebreak"
	"firebreak/comms"
	"firebreak/notice"
)

// CommsConfig is the communication part of ServeConfig.
type CommsConfig struct {
	// Org is the organisation's name as people know it, in every notice.
	Org string
	// TemplatesDir holds operators' notice templates, laid over the
	// embedded ones (see docs/notices.md); "" uses the embedded ones only.
	TemplatesDir string
	// SelfServiceTTL is how long the self-service link of an in-app notice stays valid.
	SelfServiceTTL time.Duration
}

// commsFlags registers the communication flags of serve.
func commsFlags(fs *flag.FlagSet, cfg *CommsConfig) {
	fs.StringVar(&cfg.Org, "org", cfg.Org, "the organisation's `name` as people know it, in every notice")
	fs.StringVar(&cfg.TemplatesDir, "templates", "", "`directory` of notice templates laid over the embedded ones (see docs/notices.md)")
	fs.DurationVar(&cfg.SelfServiceTTL, "self-service-ttl", cfg.SelfServiceTTL, "how long the self-service link in an in-app notice stays valid")
}

// openDesk creates the communication desk the dashboard and the API use;
// openNotifier completes it once the server listens.
func (c *ServeCommand) openDesk() {
	c.Desk = &comms.Desk{Incidents: c.Incidents, Notices: c.Notices, Appeals: c.appeals, Lifter: c.Contain,
		Auditor: c.Audit, Status: c.Status, OnPublished: c.statusPage.invalidate}
}

// openNotifier loads and lints the notice templates and starts the
// notifier that carries out campaigns of notices: containment runs whose
// notice actions queue one notice per account in the outbox, each
// announced on the status page first.
func (c *ServeCommand) openNotifier() error {
	base := c.statusBase()
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("public URL %q: not an absolute URL", base)
	}
	layers := []fs.FS{notice.Embedded()}
	if dir := c.Config.Comms.TemplatesDir; dir != "" {
		layers = append(layers, os.DirFS(dir))
	}
	set, err := notice.Load(notice.LintConfig{AllowedHosts: []string{u.Hostname()},
		Sample: notice.SampleData(c.Config.Comms.Org, base+"/incidents/42")}, layers...)
	if err != nil {
		return fmt.Errorf("notice templates: %w", err)
	}
	n, err := comms.New(comms.Config{Incidents: c.Incidents, Facts: c.appeals, Notices: c.Notices,
		Status: c.Status, Templates: set, Org: c.Config.Comms.Org, Logger: c.Logger, Channels: c.outboxChannels,
		StatusURL: func(id int64) string { return base + "/incidents/" + strconv.FormatInt(id, 10) }})
	if err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	c.notifier, c.Desk.Notifier = n, n
	c.Contain.Notifier, c.Contain.Announce = n, c.Desk.Announce
	return nil
}

// statusBase is the public URL of the status page, without a trailing slash.
func (c *ServeCommand) statusBase() string {
	if c.Config.PublicURL != "" {
		return strings.TrimSuffix(c.Config.PublicURL, "/")
	}
	return c.Server.URL() + "/status"
}

// publicBase is the public URL of this server's public pages (the status
// page's without its /status suffix).
func (c *ServeCommand) publicBase() string {
	return strings.TrimSuffix(c.statusBase(), "/status")
}

// linkingFeed is the in-app feed the outbox delivers to: each notice about
// an incident carries the person's signed, expiring link to their
// self-service page, made when it is delivered (never sent by e-mail).
type linkingFeed struct {
	firebreak.InAppFeed
	c *ServeCommand
}

// Append adds m to the account's feed with its self-service link.
func (f *linkingFeed) Append(ctx context.Context, account string, m firebreak.Message) error {
	if id, err := strconv.ParseInt(m.Meta["incident_id"], 10, 64); err == nil && id > 0 && f.c.SelfTokens != nil {
		tok, err := f.c.SelfTokens.Issue(account, id, f.c.Config.Comms.SelfServiceTTL)
		if err != nil {
			return err
		}
		meta := make(map[string]string, len(m.Meta)+1)
		for k, v := range m.Meta {
			meta[k] = v
		}
		meta["self_service"] = f.c.publicBase() + "/self-service/" + tok
		m.Meta = meta
	}
	return f.InAppFeed.Append(ctx, account, m)
}
