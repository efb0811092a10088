package idp

import (
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"firebreak"
)

// Connector kinds for Config.Kind.
const (
	KindSim      = "sim"      // in-process simulated provider
	KindSimHTTP  = "simhttp"  // a simulated provider over HTTP (firebreak simidp)
	KindWebhook  = "webhook"  // generic signed webhook
	KindKeycloak = "keycloak" // Keycloak Admin REST API
	KindKratos   = "kratos"   // Ory Kratos admin API
)

// Kinds lists every connector kind.
var Kinds = []string{KindSim, KindSimHTTP, KindWebhook, KindKeycloak, KindKratos}

// Config selects and configures one connector, as the "connector" section
// of a configuration file. Secrets are never written in it: SecretEnv
// names an environment variable and SecretFile a file that holds the
// secret (the webhook's signing secret, Keycloak's client secret, Kratos's
// API key).
type Config struct {
	Kind       string        `yaml:"kind"`
	Name       string        `yaml:"name,omitempty"`    // shown in plans; defaults to the kind
	URL        string        `yaml:"url,omitempty"`     // the provider's base URL (webhook: the endpoint)
	Timeout    time.Duration `yaml:"timeout,omitempty"` // per call; 0 means 10s
	SecretEnv  string        `yaml:"secret_env,omitempty"`
	SecretFile string        `yaml:"secret_file,omitempty"`
	Realm      string        `yaml:"realm,omitempty"`     // keycloak
	ClientID   string        `yaml:"client_id,omitempty"` // keycloak: a confidential client with a service account
	Faults     Faults        `yaml:"faults,omitempty"`    // sim: injected faults
}

// fieldErr names a field of the connector section.
func fieldErr(field, reason string) error {
	return &firebreak.FieldError{Field: "connector." + field, Reason: reason}
}

// Validate checks the fields the kind needs, without reading secrets.
func (c *Config) Validate() error {
	if !slices.Contains(Kinds, c.Kind) {
		return fieldErr("kind", "must be one of "+strings.Join(Kinds, ", "))
	}
	if c.Timeout < 0 || c.Timeout > 5*time.Minute {
		return fieldErr("timeout", "must be from 0 (10s) to 5m")
	}
	if c.SecretEnv != "" && c.SecretFile != "" {
		return fieldErr("secret_env", "name either secret_env or secret_file, not both")
	}
	switch c.Kind {
	case KindSim:
		if err := c.Faults.Validate(); err != nil {
			fe := err.(*firebreak.FieldError)
			return fieldErr("faults."+fe.Field, fe.Reason)
		}
		return nil
	case KindKeycloak:
		if c.Realm == "" || strings.ContainsAny(c.Realm, "/?#") {
			return fieldErr("realm", "required: the realm's name")
		}
		if c.ClientID == "" {
			return fieldErr("client_id", "required: a client with a service account allowed to manage users")
		}
	}
	if err := checkURL("connector.url", c.URL); err != nil {
		return err
	}
	if (c.Kind == KindWebhook || c.Kind == KindKeycloak) && c.SecretEnv == "" && c.SecretFile == "" {
		return fieldErr("secret_env", "required for "+c.Kind+": name the environment variable (or secret_file) that holds the secret")
	}
	return nil
}

// checkURL requires an absolute http(s) URL with a host.
func checkURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &firebreak.FieldError{Field: field, Reason: "must be an http(s) URL"}
	}
	if u.User != nil {
		return &firebreak.FieldError{Field: field, Reason: "must not hold credentials; use secret_env or secret_file"}
	}
	return nil
}

// secret reads the configured secret; "" when none is configured.
func (c *Config) secret() (string, error) {
	switch {
	case c.SecretEnv != "":
		v, ok := os.LookupEnv(c.SecretEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fieldErr("secret_env", "environment variable "+c.SecretEnv+" is not set or empty")
		}
		return strings.TrimSpace(v), nil
	case c.SecretFile != "":
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return "", fieldErr("secret_file", "cannot read "+c.SecretFile+": "+underlying(err))
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fieldErr("secret_file", c.SecretFile+" is empty")
	}
	return "", nil
}

// underlying drops the path from an *os.PathError's message.
func underlying(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Open validates cfg, reads its secret and returns the connector.
func Open(cfg Config) (firebreak.Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	secret, err := cfg.secret()
	if err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Kind
	}
	switch cfg.Kind {
	case KindSim:
		return NewSim(SimConfig{Faults: cfg.Faults}), nil
	case KindSimHTTP:
		return NewSimClient(cfg.URL, newHTTPClient(cfg.Timeout)), nil
	case KindWebhook:
		if len(secret) < 16 {
			return nil, fieldErr(secretField(cfg), "the secret must be at least 16 bytes")
		}
		return NewWebhook(WebhookConfig{Name: name, URL: cfg.URL, Secret: []byte(secret), Client: newHTTPClient(cfg.Timeout)})
	case KindKeycloak:
		return NewKeycloak(KeycloakConfig{Name: name, URL: cfg.URL, Realm: cfg.Realm, ClientID: cfg.ClientID,
			ClientSecret: secret, Client: newHTTPClient(cfg.Timeout)})
	default: // KindKratos
		return NewKratos(KratosConfig{Name: name, URL: cfg.URL, APIKey: secret, Client: newHTTPClient(cfg.Timeout)})
	}
}

func secretField(cfg Config) string {
	if cfg.SecretFile != "" {
		return "secret_file"
	}
	return "secret_env"
}
