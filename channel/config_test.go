package channel_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"firebreak"
	"firebreak/channel"
)

func decode(t *testing.T, doc string) channel.Config {
	t.Helper()
	var cfg channel.Config
	if err := yaml.UnmarshalWithOptions([]byte(doc), &cfg, yaml.Strict()); err != nil {
		t.Fatal(yaml.FormatError(err, false, true))
	}
	return cfg
}

func TestConfigOpensEveryChannel(t *testing.T) {
	ms := startMailServer(t, true)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pemOf(ms), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "smtp-password")
	os.WriteFile(pw, []byte(testPassword+"\n"), 0o600)
	t.Setenv("TEST_SMS_SECRET", testSecret)
	t.Setenv("TEST_SLACK_URL", "https://hooks.slack.example/services/T0/B0/SECRETTOKEN")
	cfg := decode(t, `
email:
  host: 127.0.0.1
  port: `+strings.TrimPrefix(ms.addr(), "127.0.0.1:")+`
  from: "Example Security <security@example.com>"
  username: firebreak
  password_file: `+pw+`
  ca_file: `+ca+`
  rate: 100
  timeout: 5s
sms:
  url: https://sms.example.com/send
  secret_env: TEST_SMS_SECRET
  retry_unknown: false
slack:
  url_env: TEST_SLACK_URL
  workers: 1
inapp: {}
`)
	var logs bytes.Buffer
	rec := &recorder{}
	d, err := channel.Open(cfg, channel.NewMemoryFeed(), rec.on, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Enqueue(context.Background(), email("alice@example.org", "n-42")); err != nil {
		t.Fatal(err)
	}
	wait(t, d)
	if got := rec.final("n-42"); got.State != firebreak.DeliverySent {
		t.Fatalf("got %+v", got)
	}
	checkMail(t, ms.mails()[0].Data)
	for _, secret := range []string{testPassword, testSecret, "SECRETTOKEN"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret is in the log: %s", logs.String())
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Setenv("TEST_EMPTY", "")
	t.Setenv("TEST_SHORT", "short")
	for _, c := range []struct{ doc, field string }{
		{"email: {from: a@example.com}", "channels.email.host"},
		{"email: {host: smtp.example.com, from: nobody}", "channels.email.from"},
		{"email: {host: smtp.example.com, from: a@example.com, username: u}", "channels.email.password_env"},
		{"email: {host: smtp.example.com, from: a@example.com, tls: none}", "channels.email.tls"},
		{"email: {host: smtp.example.com, from: a@example.com, port: 70000}", "channels.email.port"},
		{"email: {host: smtp.example.com, from: a@example.com, auth: cram}", "channels.email.auth"},
		{"sms: {url: 'ftp://x', secret_env: X}", "channels.sms.url"},
		{"chat: {url: 'https://chat.example.com', secret_env: X, secret_file: y}", "channels.chat.secret_env"},
		{"chat: {url: 'https://chat.example.com', secret_env: TEST_EMPTY}", "channels.chat.secret_env"},
		{"chat: {url: 'https://chat.example.com', secret_env: TEST_SHORT}", "channels.chat.secret_env"},
		{"chat: {url: 'https://chat.example.com', secret_file: /nonexistent/secret}", "channels.chat.secret_file"},
		{"slack: {}", "channels.slack.url_env"},
		{"slack: {url_env: TEST_SHORT}", "channels.slack.url_env"},
		{"inapp: {rate: -1}", "channels.inapp.rate"},
		{"sms: {url: 'https://sms.example.com', secret_env: X, workers: 1000}", "channels.sms.workers"},
	} {
		cfg := decode(t, c.doc)
		_, _, err := cfg.Senders(channel.NewMemoryFeed())
		var fe *firebreak.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v, want a field error on %s", c.doc, err, c.field)
		}
		if err != nil && strings.Contains(err.Error(), "short") {
			t.Errorf("%s: the error shows the secret: %v", c.doc, err)
		}
	}
	var cfg channel.Config
	err := yaml.UnmarshalWithOptions([]byte("email: {hots: x}"), &cfg, yaml.Strict())
	if err == nil {
		t.Fatal("an unknown key was accepted")
	}
}
