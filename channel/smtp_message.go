package channel

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"firebreak"
)

// parseFrom reads the From address and returns its domain, for
// Message-IDs.
func parseFrom(from string) (*mail.Address, string, error) {
	a, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, "", &firebreak.FieldError{Field: "from", Reason: `must be an address such as "Firebreak <security@example.com>"`}
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	if domain == "" || strings.ContainsAny(domain, "[]") {
		return nil, "", &firebreak.FieldError{Field: "from", Reason: "the address must have a domain name"}
	}
	return a, domain, nil
}

// messageID derives a Message-ID (without the angle brackets) from a
// message key: "fb.<key>@<domain>" when the key holds only characters a
// Message-ID may, else "fb.h<hash of the key>@<domain>". A retry thus
// carries the same Message-ID, and mail clients show one message.
func messageID(key, domain string) string {
	safe := key != ""
	for _, c := range []byte(key) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_+=/", c) >= 0) {
			safe = false
			break
		}
	}
	if safe && len(key) <= 64 {
		return "fb." + key + "@" + domain
	}
	sum := sha256.Sum256([]byte(key))
	return "fb.h" + hex.EncodeToString(sum[:16]) + "@" + domain
}

// build turns m into a go-mail message.
func (s *SMTP) build(m firebreak.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.header); err != nil {
		return nil, providerErr(firebreak.CallRejected, 0, "from: "+err.Error())
	}
	if err := msg.To(m.To); err != nil {
		return nil, providerErr(firebreak.CallRejected, 0, "to: "+err.Error())
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(m.Key, s.domain))
	msg.SetDate()
	// Ask auto-responders (out-of-office replies) to stay quiet.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}
