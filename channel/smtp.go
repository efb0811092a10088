package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"firebreak"
)

// TLS modes for SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // STARTTLS is required; the default
	TLSNone     = "none"     // plain text; refused unless the host is a loopback address
)

// SMTP auth mechanisms for SMTPConfig.Auth. Both are only ever used over TLS.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// SMTPConfig configures an SMTP sender.
type SMTPConfig struct {
	Host     string
	Port     int    // 0: 587 (submission)
	From     string // "Firebreak <security@example.com>" or a bare address
	Username string // "": no SMTP AUTH
	Password string
	Auth     string // AuthPlain (the default) or AuthLogin
	TLS      string // TLSStartTLS (the default) or TLSNone (loopback only)
	// TLSConfig verifies the server; nil: the system's roots, with Host
	// as the server name.
	TLSConfig   *tls.Config
	Connections int           // connections kept open and reused; 0: 4
	Timeout     time.Duration // per connection set-up and per message; 0: 10s
	HELO        string        // the EHLO name; "": this machine's host name
}

// SMTP delivers e-mail over SMTP with STARTTLS and SMTP AUTH, reusing a
// pool of open connections: each message is one MAIL, RCPT, DATA
// transaction on a connection that stays open for the next.
//
// Each message is multipart/alternative (text and HTML) when both are
// given, and its Message-ID is derived from its key, so that a retry has
// the same Message-ID as the first attempt.
//
// Outcomes: a recipient or message the server refuses with a 5xx reply is
// CallRejected, with the server's reply as the reason; a 4xx reply, a
// connection or TLS or AUTH failure, and anything before DATA is
// CallNotApplied; a connection lost while the message is being handed
// over (after DATA, before the server's final reply) is CallUnknown.
type SMTP struct {
	dialer  *gomail.Client // dials, says EHLO, STARTTLS and AUTH; safe for concurrent use
	from    string         // the envelope sender, "<addr>"
	header  string         // the From header
	domain  string         // for Message-IDs
	timeout time.Duration

	idle  chan *smtpConn // open connections not in use
	slots chan struct{}  // one token per open connection

	mu     sync.Mutex
	closed bool
}

var _ firebreak.Sender = (*SMTP)(nil)

// smtpConn is one open connection of the pool.
type smtpConn struct {
	c     *gosmtp.Client
	used  time.Time
	fresh bool // not yet used for a message
}

// idleCheck is how long a connection may sit idle before a NOOP checks
// that the server has not closed it.
const idleCheck = 15 * time.Second

// NewSMTP returns an SMTP sender. Connections are opened on demand.
// Errors are *firebreak.FieldError naming the field.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	from, domain, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	opts, err := smtpOptions(cfg)
	if err != nil {
		return nil, err
	}
	dialer, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, &firebreak.FieldError{Field: "host", Reason: err.Error()}
	}
	n := cfg.Connections
	if n <= 0 {
		n = 4
	}
	s := &SMTP{dialer: dialer, from: "<" + from.Address + ">", header: from.String(), domain: domain,
		timeout: cfg.Timeout, idle: make(chan *smtpConn, n), slots: make(chan struct{}, n)}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	return s, nil
}

// smtpOptions checks cfg and turns it into go-mail options.
func smtpOptions(cfg SMTPConfig) ([]gomail.Option, error) {
	fe := func(field, reason string) error { return &firebreak.FieldError{Field: field, Reason: reason} }
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, "/: \t") && net.ParseIP(cfg.Host) == nil {
		return nil, fe("host", "required: a host name or IP address, without port")
	}
	port := cfg.Port
	if port == 0 {
		port = 587
	}
	if port < 1 || port > 65535 {
		return nil, fe("port", "must be from 1 to 65535")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout)}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	switch cfg.TLS {
	case "", TLSStartTLS:
		tc := cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tc))
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return nil, fe("tls", `"none" is allowed only for a loopback host (localhost, 127.0.0.1, ::1)`)
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fe("tls", "must be starttls or none")
	}
	mech := gomail.SMTPAuthPlain
	switch cfg.Auth {
	case "", AuthPlain:
	case AuthLogin:
		mech = gomail.SMTPAuthLogin
	default:
		return nil, fe("auth", "must be plain or login")
	}
	if cfg.Username == "" {
		return opts, nil
	}
	if cfg.Password == "" {
		return nil, fe("password", "required with a username")
	}
	// go-mail's PLAIN and LOGIN refuse to send the password without TLS.
	return append(opts, gomail.WithSMTPAuth(mech), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password)), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Kind implements firebreak.Sender.
func (s *SMTP) Kind() firebreak.ChannelKind { return firebreak.ChannelEmail }

// Send implements firebreak.Sender.
func (s *SMTP) Send(ctx context.Context, m firebreak.Message) error {
	if err := checkMessage(firebreak.ChannelEmail, &m); err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	// A reused connection the server has closed fails at MAIL, before
	// anything was handed over: try once more on a fresh one.
	for try := 0; ; try++ {
		pc, err := s.get(ctx)
		if err != nil {
			return err
		}
		fresh := pc.fresh
		err, keep := s.transact(ctx, pc, m.To, msg)
		pc.fresh = false
		if keep {
			s.put(pc) // pc belongs to the pool from here on
		} else {
			s.discard(pc)
		}
		if errors.Is(err, errStale) {
			if !fresh && try == 0 {
				continue
			}
			return providerErr(firebreak.CallNotApplied, 0, "connection lost before the message was sent: "+err.Error())
		}
		return err
	}
}

// errStale marks a connection that failed before a transaction began.
var errStale = errors.New("stale connection")

// transact runs one MAIL, RCPT, DATA transaction. keep says whether the
// connection can be reused.
func (s *SMTP) transact(ctx context.Context, pc *smtpConn, rcpt string, msg *gomail.Msg) (err error, keep bool) {
	c := pc.c
	d := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	if d <= 0 || c.UpdateDeadline(d) != nil {
		return providerErr(firebreak.CallNotApplied, 0, "no time left to send"), true
	}
	if !pc.fresh && time.Since(pc.used) > idleCheck {
		if err := c.Noop(); err != nil {
			return fmt.Errorf("%w: %w", errStale, err), false
		}
	}
	if err := c.Mail(s.from); err != nil {
		// 421: the server is closing the connection (an idle timeout).
		if code, text, ok := smtpReply(err); ok && code != 421 {
			// The sender refused: a configuration problem, not the recipient's.
			return providerErr(firebreak.CallNotApplied, 0, fmt.Sprintf("sender refused: %d %s", code, text)), s.reset(c)
		}
		return fmt.Errorf("%w: %w", errStale, err), false
	}
	if err := c.Rcpt("<" + rcpt + ">"); err != nil {
		return s.refused("recipient refused", err, c)
	}
	w, err := c.Data()
	if err != nil {
		return s.refused("DATA refused", err, c)
	}
	if _, err := msg.WriteTo(w); err != nil {
		return providerErr(firebreak.CallUnknown, 0, "connection lost during DATA: "+err.Error()), false
	}
	if err := w.Close(); err != nil {
		if code, text, ok := smtpReply(err); ok {
			// The transaction is over; the connection is still good.
			return replyErr("message refused", code, text), code != 421
		}
		return providerErr(firebreak.CallUnknown, 0, "no reply to the message: "+err.Error()), false
	}
	return nil, true
}

// refused is the error for a failed RCPT or DATA command, before the
// message was handed over: nothing was delivered.
func (s *SMTP) refused(what string, err error, c *gosmtp.Client) (error, bool) {
	if code, text, ok := smtpReply(err); ok {
		return replyErr(what, code, text), code != 421 && s.reset(c)
	}
	return providerErr(firebreak.CallNotApplied, 0, "connection lost before the message was sent: "+err.Error()), false
}

// reset aborts a transaction; it reports whether the connection is still
// usable.
func (s *SMTP) reset(c *gosmtp.Client) bool { return c.Reset() == nil }

// smtpReply returns the code and text of an SMTP error reply.
func smtpReply(err error) (code int, text string, ok bool) {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 400 && te.Code < 600 {
		return te.Code, clip(oneLine(te.Msg), 300), true
	}
	return 0, "", false
}

// replyErr classifies an SMTP error reply: 5xx is for good, 4xx is
// temporary.
func replyErr(what string, code int, text string) error {
	// Status is for HTTP; the SMTP reply code is in the reason.
	reason := fmt.Sprintf("%s: %d %s", what, code, text)
	if code >= 500 {
		return providerErr(firebreak.CallRejected, 0, reason)
	}
	return providerErr(firebreak.CallNotApplied, 0, reason)
}
