package channel

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"firebreak"
)

// Config is the "channels" section of the configuration file: one entry
// per channel in use. Secrets never appear in it: *_env names an
// environment variable and *_file a file that holds the secret.
//
//	channels:
//	  email:
//	    host: smtp.example.com
//	    from: "Example Security <security@example.com>"
//	    username: firebreak
//	    password_env: FIREBREAK_SMTP_PASSWORD
//	    rate: 50
//	  sms:
//	    url: https://sms-gateway.example.com/send
//	    secret_env: FIREBREAK_SMS_SECRET
//	  slack:
//	    url_env: FIREBREAK_SLACK_WEBHOOK_URL
//	  inapp: {}
type Config struct {
	Email *EmailConfig       `yaml:"email,omitempty"`
	SMS   *WebhookConfigFile `yaml:"sms,omitempty"`
	Chat  *WebhookConfigFile `yaml:"chat,omitempty"`
	Slack *SlackConfigFile   `yaml:"slack,omitempty"`
	InApp *InAppConfig       `yaml:"inapp,omitempty"`
}

// Limits are the Dispatcher's policy for one channel (see Policy).
type Limits struct {
	Rate         float64       `yaml:"rate,omitempty"`          // messages per second; 0: unlimited
	Burst        int           `yaml:"burst,omitempty"`         // default max(1, rate)
	Workers      int           `yaml:"workers,omitempty"`       // concurrent sends; default 4
	MaxAttempts  int           `yaml:"max_attempts,omitempty"`  // default 5
	RetryUnknown *bool         `yaml:"retry_unknown,omitempty"` // default true
	Timeout      time.Duration `yaml:"timeout,omitempty"`       // per attempt; default 10s
}

// EmailConfig configures the SMTP sender.
type EmailConfig struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port,omitempty"` // default 587
	From         string `yaml:"from"`
	Username     string `yaml:"username,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	Auth         string `yaml:"auth,omitempty"`    // plain (default) or login
	TLS          string `yaml:"tls,omitempty"`     // starttls (default) or none (loopback only)
	CAFile       string `yaml:"ca_file,omitempty"` // PEM roots to trust instead of the system's
	Connections  int    `yaml:"connections,omitempty"`
	Limits       `yaml:",inline"`
}

// WebhookConfigFile configures an SMS or chat webhook.
type WebhookConfigFile struct {
	URL        string `yaml:"url"`
	SecretEnv  string `yaml:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
	Limits     `yaml:",inline"`
}

// SlackConfigFile configures the Slack webhook. Its URL is a secret.
type SlackConfigFile struct {
	URLEnv  string `yaml:"url_env,omitempty"`
	URLFile string `yaml:"url_file,omitempty"`
	Limits  `yaml:",inline"`
}

// InAppConfig configures the in-app feed (its store comes from Open).
type InAppConfig struct {
	Limits `yaml:",inline"`
}

// fieldErr names a field of the channels section.
func fieldErr(field, reason string) error {
	return &firebreak.FieldError{Field: "channels." + field, Reason: reason}
}

// Validate checks the configuration without reading secrets.
func (c *Config) Validate() error {
	if c.Email != nil {
		if err := c.Email.validate(); err != nil {
			return err
		}
	}
	for _, w := range []struct {
		name string
		cfg  *WebhookConfigFile
	}{{"sms", c.SMS}, {"chat", c.Chat}} {
		if w.cfg == nil {
			continue
		}
		if err := checkURL("channels."+w.name+".url", w.cfg.URL); err != nil {
			return err
		}
		if err := checkSecretRef(w.name, "secret", w.cfg.SecretEnv, w.cfg.SecretFile); err != nil {
			return err
		}
		if err := w.cfg.Limits.validate(w.name); err != nil {
			return err
		}
	}
	if c.Slack != nil {
		if err := checkSecretRef("slack", "url", c.Slack.URLEnv, c.Slack.URLFile); err != nil {
			return err
		}
		if err := c.Slack.Limits.validate("slack"); err != nil {
			return err
		}
	}
	if c.InApp != nil {
		return c.InApp.Limits.validate("inapp")
	}
	return nil
}

func (e *EmailConfig) validate() error {
	if e.Host == "" {
		return fieldErr("email.host", "required: the SMTP server's host name")
	}
	if _, _, err := parseFrom(e.From); err != nil {
		return fieldErr("email.from", err.(*firebreak.FieldError).Reason)
	}
	if e.Username != "" {
		if err := checkSecretRef("email", "password", e.PasswordEnv, e.PasswordFile); err != nil {
			return err
		}
	} else if e.PasswordEnv != "" || e.PasswordFile != "" {
		return fieldErr("email.username", "required with a password")
	}
	if e.Connections < 0 || e.Connections > 64 {
		return fieldErr("email.connections", "must be from 0 (4) to 64")
	}
	// The remaining fields are checked by NewSMTP; run it with a dummy
	// password so that their errors come out here, named.
	_, err := NewSMTP(e.smtpConfig("x", nil))
	if fe, ok := err.(*firebreak.FieldError); ok {
		return fieldErr("email."+fe.Field, fe.Reason)
	}
	return e.Limits.validate("email")
}

func (e *EmailConfig) smtpConfig(password string, roots *x509.CertPool) SMTPConfig {
	cfg := SMTPConfig{Host: e.Host, Port: e.Port, From: e.From, Username: e.Username, Password: password,
		Auth: e.Auth, TLS: e.TLS, Connections: e.Connections, Timeout: e.Timeout}
	if roots != nil {
		cfg.TLSConfig = &tls.Config{ServerName: e.Host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return cfg
}

// checkSecretRef requires exactly one of name_env and name_file.
func checkSecretRef(channel, name, env, file string) error {
	switch {
	case env != "" && file != "":
		return fieldErr(channel+"."+name+"_env", "name either "+name+"_env or "+name+"_file, not both")
	case env == "" && file == "":
		return fieldErr(channel+"."+name+"_env", "required: the environment variable (or "+name+"_file) that holds the "+name)
	}
	return nil
}

func (l *Limits) validate(channel string) error {
	switch {
	case l.Rate < 0 || l.Rate > 100000:
		return fieldErr(channel+".rate", "must be from 0 (unlimited) to 100000 messages per second")
	case l.Burst < 0 || l.Burst > 100000:
		return fieldErr(channel+".burst", "must be from 0 to 100000")
	case l.Workers < 0 || l.Workers > 256:
		return fieldErr(channel+".workers", "must be from 0 (4) to 256")
	case l.MaxAttempts < 0 || l.MaxAttempts > 50:
		return fieldErr(channel+".max_attempts", "must be from 0 (5) to 50")
	case l.Timeout < 0 || l.Timeout > 5*time.Minute:
		return fieldErr(channel+".timeout", "must be from 0 (10s) to 5m")
	}
	return nil
}

// policy turns limits into the Dispatcher's policy.
func (l *Limits) policy() Policy {
	p := Policy{Rate: l.Rate, Burst: l.Burst, Workers: l.Workers, MaxAttempts: l.MaxAttempts,
		RetryUnknown: l.RetryUnknown == nil || *l.RetryUnknown, Timeout: l.Timeout}
	if p.Timeout > 0 {
		p.Timeout += 5 * time.Second // the sender's own timeout fires first
	}
	return p
}

// readSecret reads a secret from an environment variable or a file. Errors
// name the variable or file, never the value.
func readSecret(field, env, file string) (string, error) {
	if env != "" {
		v, ok := os.LookupEnv(env)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fieldErr(field+"_env", "environment variable "+env+" is not set or empty")
		}
		return strings.TrimSpace(v), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fieldErr(field+"_file", "cannot read "+file+": "+underlying(err))
	}
	if v := strings.TrimSpace(string(b)); v != "" {
		return v, nil
	}
	return "", fieldErr(field+"_file", file+" is empty")
}

func underlying(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Senders validates the configuration, reads its secrets and returns the
// senders and their policies. feed stores the in-app feed; it is required
// when inapp is configured.
func (c *Config) Senders(feed firebreak.InAppFeed) ([]firebreak.Sender, map[firebreak.ChannelKind]Policy, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	var senders []firebreak.Sender
	policies := make(map[firebreak.ChannelKind]Policy)
	add := func(s firebreak.Sender, l Limits) {
		senders = append(senders, s)
		policies[s.Kind()] = l.policy()
	}
	if e := c.Email; e != nil {
		s, err := e.open()
		if err != nil {
			return nil, nil, err
		}
		add(s, e.Limits)
	}
	for _, w := range []struct {
		kind firebreak.ChannelKind
		cfg  *WebhookConfigFile
	}{{firebreak.ChannelSMS, c.SMS}, {firebreak.ChannelChat, c.Chat}} {
		if w.cfg == nil {
			continue
		}
		s, err := w.cfg.open(w.kind)
		if err != nil {
			return nil, nil, err
		}
		add(s, w.cfg.Limits)
	}
	if c.Slack != nil {
		url, err := readSecret("slack.url", c.Slack.URLEnv, c.Slack.URLFile)
		if err != nil {
			return nil, nil, err
		}
		s, err := NewSlack(SlackConfig{URL: url, Client: newHTTPClient(c.Slack.Timeout)})
		if err != nil {
			// Name the source, not the URL: it is a secret.
			return nil, nil, fieldErr(secretField("slack.url", c.Slack.URLEnv), "the Slack webhook URL "+err.(*firebreak.FieldError).Reason)
		}
		add(s, c.Slack.Limits)
	}
	if c.InApp != nil {
		if feed == nil {
			return nil, nil, fieldErr("inapp", "configured, but no feed store was given")
		}
		add(NewInApp(feed), c.InApp.Limits)
	}
	return senders, policies, nil
}

func secretField(field, env string) string {
	if env != "" {
		return field + "_env"
	}
	return field + "_file"
}

func (e *EmailConfig) open() (*SMTP, error) {
	var password string
	if e.Username != "" {
		var err error
		if password, err = readSecret("email.password", e.PasswordEnv, e.PasswordFile); err != nil {
			return nil, err
		}
	}
	var roots *x509.CertPool
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fieldErr("email.ca_file", "cannot read "+e.CAFile+": "+underlying(err))
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fieldErr("email.ca_file", e.CAFile+" holds no PEM certificate")
		}
	}
	s, err := NewSMTP(e.smtpConfig(password, roots))
	if fe, ok := err.(*firebreak.FieldError); ok {
		return nil, fieldErr("email."+fe.Field, fe.Reason)
	}
	return s, err
}

func (w *WebhookConfigFile) open(kind firebreak.ChannelKind) (*Webhook, error) {
	name := string(kind)
	secret, err := readSecret(name+".secret", w.SecretEnv, w.SecretFile)
	if err != nil {
		return nil, err
	}
	s, err := NewWebhook(WebhookConfig{Kind: kind, URL: w.URL, Secret: []byte(secret), Client: newHTTPClient(w.Timeout)})
	if fe, ok := err.(*firebreak.FieldError); ok {
		if fe.Field == "secret" {
			return nil, fieldErr(secretField(name+".secret", w.SecretEnv), "the secret "+fe.Reason)
		}
		return nil, fieldErr(name+"."+fe.Field, fe.Reason)
	}
	return s, err
}

// Open validates cfg, reads its secrets and starts a Dispatcher over the
// configured channels. onDelivery receives every state change (see
// DispatcherConfig.OnDelivery).
func Open(cfg Config, feed firebreak.InAppFeed, onDelivery func(firebreak.Delivery), logger *slog.Logger) (*Dispatcher, error) {
	senders, policies, err := cfg.Senders(feed)
	if err != nil {
		return nil, err
	}
	d, err := NewDispatcher(DispatcherConfig{Senders: senders, Policies: policies, OnDelivery: onDelivery, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("start dispatcher: %w", err)
	}
	return d, nil
}
