package idp_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"firebreak"
	"firebreak/idp"
)

func TestOpenRefusesBadConfig(t *testing.T) {
	t.Setenv("FB_TEST_SHORT", "short")
	tests := []struct {
		name  string
		cfg   idp.Config
		field string
	}{
		{"no kind", idp.Config{}, "connector.kind"},
		{"unknown kind", idp.Config{Kind: "okta"}, "connector.kind"},
		{"not a URL", idp.Config{Kind: "simhttp", URL: "localhost:9090"}, "connector.url"},
		{"ftp URL", idp.Config{Kind: "kratos", URL: "ftp://kratos"}, "connector.url"},
		{"credentials in URL", idp.Config{Kind: "kratos", URL: "https://user:pw@kratos"}, "connector.url"},
		{"webhook without secret", idp.Config{Kind: "webhook", URL: "https://hooks.example.com/fb"}, "connector.secret_env"},
		{"secret unset", idp.Config{Kind: "webhook", URL: "https://h.example.com", SecretEnv: "FB_TEST_UNSET_VAR"}, "connector.secret_env"},
		{"secret too short", idp.Config{Kind: "webhook", URL: "https://h.example.com", SecretEnv: "FB_TEST_SHORT"}, "connector.secret_env"},
		{"secret file missing", idp.Config{Kind: "kratos", URL: "https://k.example.com", SecretFile: "/nonexistent/key"}, "connector.secret_file"},
		{"both secret sources", idp.Config{Kind: "kratos", URL: "https://k.example.com", SecretEnv: "A", SecretFile: "B"}, "connector.secret_env"},
		{"keycloak without realm", idp.Config{Kind: "keycloak", URL: "https://sso.example.com", ClientID: "fb", SecretEnv: "X"}, "connector.realm"},
		{"keycloak without client", idp.Config{Kind: "keycloak", URL: "https://sso.example.com", Realm: "acme", SecretEnv: "X"}, "connector.client_id"},
		{"negative timeout", idp.Config{Kind: "simhttp", URL: "http://127.0.0.1:9090", Timeout: -1}, "connector.timeout"},
		{"bad fault share", idp.Config{Kind: "sim", Faults: idp.Faults{ErrorRate: 2}}, "connector.faults.error_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := idp.Open(tt.cfg)
			var fe *firebreak.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Open = %v, want a field error on %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "short") { // FB_TEST_SHORT's value
				t.Fatalf("the secret leaked into the error: %v", err)
			}
		})
	}
}

func TestOpenEachKind(t *testing.T) {
	secret := "a-webhook-secret-of-some-length"
	t.Setenv("FB_TEST_SECRET", secret)
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
- kind: sim
  faults: {error_rate: 0.01, burst_every: 2s, burst_for: 200ms, latency: 2ms}
- kind: simhttp
  url: http://127.0.0.1:9090
  timeout: 5s
- kind: webhook
  name: soc-webhook
  url: https://hooks.example.com/firebreak
  secret_env: FB_TEST_SECRET
- kind: keycloak
  url: https://sso.example.com
  realm: acme
  client_id: firebreak
  secret_file: ` + file + `
- kind: kratos
  url: http://kratos:4434
`
	var cfgs []idp.Config
	if err := yaml.UnmarshalWithOptions([]byte(doc), &cfgs, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	want := []string{"sim", "simhttp", "soc-webhook", "keycloak", "kratos"}
	for i, cfg := range cfgs {
		c, err := idp.Open(cfg)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Kind, err)
		}
		if c.Name() != want[i] {
			t.Fatalf("Name = %q, want %q", c.Name(), want[i])
		}
	}
	if got := cfgs[0].Faults.BurstFor.Milliseconds(); got != 200 {
		t.Fatalf("faults.burst_for = %dms, want 200", got)
	}
}
