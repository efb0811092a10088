package channel_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"firebreak"
	"firebreak/channel"
)

func newSMTP(t testing.TB, ms *mailServer, mod ...func(*channel.SMTPConfig)) *channel.SMTP {
	t.Helper()
	cfg := channel.SMTPConfig{Host: ms.host, Port: ms.port, From: "Example Security <security@example.com>",
		Username: testUser, Password: testPassword, TLSConfig: ms.tls, Timeout: 5 * time.Second, HELO: "firebreak.test"}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := channel.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func email(to, key string) firebreak.Message {
	return firebreak.Message{Channel: firebreak.ChannelEmail, To: to, Key: key,
		Subject: "Your account was signed out — here is why",
		Text:    "We signed you out everywhere after logins from an attack.\nNext update: 14:00 UTC.",
		HTML:    "<p>We signed you out <b>everywhere</b> after logins from an attack.</p>"}
}

func outcome(t *testing.T, err error) *firebreak.ProviderError {
	t.Helper()
	var pe *firebreak.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *firebreak.ProviderError", err)
	}
	return pe
}

func TestSMTPSendsMultipartOverTLSWithAuth(t *testing.T) {
	for _, auth := range []string{channel.AuthPlain, channel.AuthLogin} {
		t.Run(auth, func(t *testing.T) {
			ms := startMailServer(t, true)
			s := newSMTP(t, ms, func(c *channel.SMTPConfig) { c.Auth = auth })
			if err := s.Send(context.Background(), email("alice@example.org", "n-42")); err != nil {
				t.Fatal(err)
			}
			got := ms.mails()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			m := got[0]
			if !m.TLS || m.User != testUser || m.From != "security@example.com" || m.To != "alice@example.org" {
				t.Fatalf("got tls=%v user=%q from=%q to=%q", m.TLS, m.User, m.From, m.To)
			}
			checkMail(t, m.Data)
		})
	}
}

// checkMail reads the message as a mail client would: headers, then both
// parts of the multipart/alternative body.
func checkMail(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	for _, c := range []struct{ name, got, want string }{
		{"Message-ID", h.Get("Message-ID"), "<fb.n-42@example.com>"},
		{"Subject", subject, "Your account was signed out — here is why"},
		{"To", h.Get("To"), "<alice@example.org>"},
		{"From", h.Get("From"), `"Example Security" <security@example.com>`},
		{"Auto-Submitted", h.Get("Auto-Submitted"), "auto-generated"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", h.Get("Content-Type"))
	}
	parts := map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "Next update: 14:00 UTC.") {
		t.Errorf("text part: %q", parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], "<b>everywhere</b>") {
		t.Errorf("html part: %q", parts["text/html"])
	}
}

func TestSMTPRefusedRecipient(t *testing.T) {
	ms := startMailServer(t, true)
	ms.refuseRcpt("gone@example.org", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"})
	ms.refuseRcpt("full@example.org", &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"})
	s := newSMTP(t, ms)
	ctx := context.Background()

	pe := outcome(t, s.Send(ctx, email("gone@example.org", "n-1")))
	if pe.Outcome != firebreak.CallRejected || !strings.Contains(pe.Reason, "550 5.1.1 No such user here") {
		t.Fatalf("refused recipient: got %+v, want CallRejected with the server's reply", pe)
	}
	pe = outcome(t, s.Send(ctx, email("full@example.org", "n-2")))
	if pe.Outcome != firebreak.CallNotApplied || !strings.Contains(pe.Reason, "452 4.2.2 Mailbox full") {
		t.Fatalf("temporary refusal: got %+v, want CallNotApplied 452", pe)
	}
	// The connection survives a refusal (RSET) and carries the next message.
	if err := s.Send(ctx, email("alice@example.org", "n-3")); err != nil {
		t.Fatal(err)
	}
	if got := len(ms.mails()); got != 1 {
		t.Fatalf("server received %d messages, want 1", got)
	}
	if got := ms.sessions.Load(); got != 1 {
		t.Fatalf("%d SMTP sessions, want 1 (the connection is reused)", got)
	}
}

func TestSMTPConnectionDroppedMidDataIsUnknown(t *testing.T) {
	ms := startMailServer(t, true)
	s := newSMTP(t, ms)
	ms.dropData.Store(true)
	pe := outcome(t, s.Send(context.Background(), email("alice@example.org", "n-1")))
	if pe.Outcome != firebreak.CallUnknown {
		t.Fatalf("got %+v, want CallUnknown", pe)
	}
	// The broken connection is dropped; the next message gets a new one.
	ms.dropData.Store(false)
	if err := s.Send(context.Background(), email("alice@example.org", "n-1")); err != nil {
		t.Fatal(err)
	}
	if got := ms.sessions.Load(); got != 2 {
		t.Fatalf("%d sessions, want 2", got)
	}
}

func TestSMTPSetupFailuresAreNotApplied(t *testing.T) {
	ms := startMailServer(t, true)
	plain := startMailServer(t, true, func(s *smtp.Server) { s.TLSConfig = nil; s.AllowInsecureAuth = true })
	for _, c := range []struct {
		name string
		ms   *mailServer
		mod  func(*channel.SMTPConfig)
		want string
	}{
		{"wrong password", ms, func(c *channel.SMTPConfig) { c.Password = "wrong" }, "AUTH"},
		{"untrusted certificate", ms, func(c *channel.SMTPConfig) { c.TLSConfig = &tls.Config{ServerName: "127.0.0.1"} }, "certificate"},
		{"no STARTTLS offered", plain, func(c *channel.SMTPConfig) { c.TLSConfig = plain.tls }, "STARTTLS"},
		{"nothing listening", ms, func(c *channel.SMTPConfig) { c.Port = 1 }, "connect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSMTP(t, c.ms, c.mod)
			pe := outcome(t, s.Send(context.Background(), email("alice@example.org", "n-1")))
			if pe.Outcome != firebreak.CallNotApplied || !strings.Contains(pe.Reason, c.want) {
				t.Fatalf("got %+v, want CallNotApplied mentioning %q", pe, c.want)
			}
			if strings.Contains(pe.Error(), testPassword) {
				t.Fatal("the error holds the password")
			}
		})
	}
	if got := len(plain.mails()) + len(ms.mails()); got != 0 {
		t.Fatalf("%d messages delivered, want 0", got)
	}
}

func TestSMTPPlainTextOnlyOnLoopback(t *testing.T) {
	_, err := channel.NewSMTP(channel.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: channel.TLSNone})
	var fe *firebreak.FieldError
	if !errors.As(err, &fe) || fe.Field != "tls" {
		t.Fatalf("got %v, want a field error on tls", err)
	}
	plain := startMailServer(t, true, func(s *smtp.Server) { s.TLSConfig = nil; s.AllowInsecureAuth = true })
	s := newSMTP(t, plain, func(c *channel.SMTPConfig) { c.TLS = channel.TLSNone; c.Username = ""; c.Password = "" })
	pe := outcome(t, s.Send(context.Background(), email("alice@example.org", "n-1")))
	// The test server wants AUTH; without it MAIL is refused: a
	// configuration problem, retryable once fixed.
	if pe.Outcome != firebreak.CallNotApplied || !strings.Contains(pe.Reason, "502 5.7.0") {
		t.Fatalf("got %+v, want CallNotApplied 502", pe)
	}
}

func TestSMTPPoolBoundsConnections(t *testing.T) {
	ms := startMailServer(t, false)
	s := newSMTP(t, ms, func(c *channel.SMTPConfig) { c.Connections = 3 })
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Go(func() { errs <- s.Send(context.Background(), email("alice@example.org", "n-"+string(rune('a'+i%26)))) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, sessions := ms.count.Load(), ms.sessions.Load(); got != 60 || sessions > 3 {
		t.Fatalf("delivered %d over %d sessions, want 60 over at most 3", got, sessions)
	}
}

func TestSMTPRefusesBadMessages(t *testing.T) {
	ms := startMailServer(t, true)
	s := newSMTP(t, ms)
	for name, m := range map[string]firebreak.Message{
		"header injection": {Channel: firebreak.ChannelEmail, To: "alice@example.org", Key: "n-1", Subject: "hi\r\nBcc: eve@example.org", Text: "x"},
		"display name":     {Channel: firebreak.ChannelEmail, To: "Alice <alice@example.org>", Key: "n-1", Text: "x"},
		"wrong channel":    {Channel: firebreak.ChannelSMS, To: "+4915123456789", Key: "n-1", Text: "x"},
	} {
		pe := outcome(t, s.Send(context.Background(), m))
		if pe.Outcome != firebreak.CallRejected {
			t.Errorf("%s: got %+v, want CallRejected", name, pe)
		}
	}
	if got := ms.sessions.Load(); got != 0 {
		t.Fatalf("%d sessions opened for bad messages, want 0", got)
	}
}

func TestSMTPReconnectsWhenTheServerClosedAnIdleConnection(t *testing.T) {
	ms := startMailServer(t, true, func(s *smtp.Server) { s.ReadTimeout = 150 * time.Millisecond })
	s := newSMTP(t, ms, func(c *channel.SMTPConfig) { c.Connections = 1 })
	if err := s.Send(context.Background(), email("alice@example.org", "n-1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server drops the idle connection
	if err := s.Send(context.Background(), email("alice@example.org", "n-2")); err != nil {
		t.Fatalf("after the server closed the idle connection: %v", err)
	}
	if got, sessions := len(ms.mails()), ms.sessions.Load(); got != 2 || sessions != 2 {
		t.Fatalf("%d messages over %d connections, want 2 over 2", got, sessions)
	}
}
