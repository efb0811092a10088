package firebreak

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ChannelKind is the channel a Message goes over. It is the notice's
// Channel (notice.go: ChannelEmail, ChannelSMS, ChannelChat, ChannelSlack,
// ChannelInApp), under the name the senders use.
type ChannelKind = Channel

// ValidateChannel checks a channel name.
func ValidateChannel(field string, k ChannelKind) error {
	if !slices.Contains(Channels, k) {
		return &FieldError{Field: field, Reason: fmt.Sprintf("unknown channel %q; must be one of %s", k, names(Channels))}
	}
	return nil
}

// Limits of a Message, checked by Validate.
const (
	MaxMessageKey     = 200       // bytes of Key
	MaxMessageTo      = 254       // bytes of To (the longest e-mail address SMTP allows)
	MaxMessageSubject = 250       // bytes of Subject
	MaxMessageBody    = 256 << 10 // bytes of Text, and of HTML
	MaxMessageMeta    = 32        // entries in Meta
)

// Message is one rendered notice on its way to one recipient over one
// channel. Senders deliver it; the Dispatcher retries it.
type Message struct {
	Channel ChannelKind
	// To is the recipient: an e-mail address (email), an E.164 phone number
	// such as +4915123456789 (sms), a chat id (chat), an account id (inapp).
	// Slack messages go to the channel the webhook names; To is optional.
	To      string
	Subject string // one line; e-mail subject, Slack header, in-app title
	Text    string // plain text; required except for email with HTML
	HTML    string // optional HTML alternative (email, inapp)
	// Key identifies the message for idempotency, e.g. "n-<notice id>":
	// retries carry the same key, so receivers can drop duplicates. It
	// becomes the e-mail's Message-ID and the webhooks' Idempotency-Key.
	Key  string
	Meta map[string]string // small extra fields for webhook receivers and the feed
}

// Validate checks a message before it is queued. Errors are *FieldError
// naming the field.
func (m *Message) Validate() error {
	if err := ValidateChannel("channel", m.Channel); err != nil {
		return err
	}
	if err := ValidateRecipient(m.Channel, m.To); err != nil {
		return err
	}
	if err := validateKey(m.Key); err != nil {
		return err
	}
	switch {
	case len(m.Subject) > MaxMessageSubject:
		return &FieldError{Field: "subject", Reason: fmt.Sprintf("longer than %d bytes", MaxMessageSubject)}
	case !printable(m.Subject, false):
		return &FieldError{Field: "subject", Reason: "must be valid UTF-8 on one line, without control characters"}
	case len(m.Text) > MaxMessageBody:
		return &FieldError{Field: "text", Reason: fmt.Sprintf("longer than %d bytes", MaxMessageBody)}
	case len(m.HTML) > MaxMessageBody:
		return &FieldError{Field: "html", Reason: fmt.Sprintf("longer than %d bytes", MaxMessageBody)}
	case !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML):
		return &FieldError{Field: "text", Reason: "must be valid UTF-8"}
	case strings.TrimSpace(m.Text) == "" && (m.Channel != ChannelEmail || strings.TrimSpace(m.HTML) == ""):
		return &FieldError{Field: "text", Reason: "required"}
	}
	return validateMeta(m.Meta)
}

// ValidateRecipient checks a recipient for a channel; see Message.To.
func ValidateRecipient(k ChannelKind, to string) error {
	fe := func(reason string) error { return &FieldError{Field: "to", Reason: reason} }
	if len(to) > MaxMessageTo {
		return fe(fmt.Sprintf("longer than %d bytes", MaxMessageTo))
	}
	switch k {
	case ChannelEmail:
		a, err := mail.ParseAddress(to)
		if err != nil || a.Name != "" || a.Address != to || !printable(to, true) {
			return fe("must be a bare e-mail address such as name@example.com")
		}
	case ChannelSMS:
		if !isE164(to) {
			return fe("must be an E.164 phone number such as +4915123456789")
		}
	case ChannelChat, ChannelInApp:
		if to == "" || !printable(to, true) {
			return fe("required: an id without spaces or control characters")
		}
	case ChannelSlack:
		if !printable(to, false) {
			return fe("must not hold control characters")
		}
	}
	return nil
}

// isE164 reports whether s is "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validateKey allows the characters that are safe in a header and in a
// Message-ID: letters, digits and ._:-+=/@.
func validateKey(key string) error {
	if key == "" || len(key) > MaxMessageKey {
		return &FieldError{Field: "key", Reason: fmt.Sprintf("required: 1-%d bytes", MaxMessageKey)}
	}
	for _, c := range []byte(key) {
		if !isKeyByte(c) {
			return &FieldError{Field: "key", Reason: "may hold only letters, digits and . _ : - + = / @"}
		}
	}
	return nil
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-+=/@", c) >= 0
}

func validateMeta(meta map[string]string) error {
	if len(meta) > MaxMessageMeta {
		return &FieldError{Field: "meta", Reason: fmt.Sprintf("more than %d entries", MaxMessageMeta)}
	}
	for k, v := range meta {
		if k == "" || len(k) > 64 || !printable(k, true) {
			return &FieldError{Field: "meta", Reason: "keys must be 1-64 bytes without spaces or control characters"}
		}
		if len(v) > 1024 || !printable(v, false) {
			return &FieldError{Field: "meta." + k, Reason: "must be at most 1024 bytes of UTF-8 without control characters"}
		}
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters
// (and, if noSpace, without white space).
func printable(s string, noSpace bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || (noSpace && unicode.IsSpace(r)) ||
			r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// Sender delivers messages over one channel (package channel holds the
// built-in ones). Send makes one attempt; retries are the Dispatcher's.
// Methods are safe for concurrent use.
//
// Errors: a *ProviderError says whether the message may have been
// delivered. CallNotApplied: refused before acceptance (429, a temporary
// 4xx, 503; RetryAfter when the provider said when to come back);
// retrying is safe. CallRejected: can never succeed (a refused recipient, a
// malformed message). CallUnknown: it may have been delivered (a timeout,
// a connection dropped after the message was handed over). Any other
// error counts as CallUnknown.
type Sender interface {
	Kind() ChannelKind
	Send(ctx context.Context, m Message) error
}

// DeliveryState is where a message is on its way: queued, then sent or
// failed (with a reason).
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued DeliveryState = "queued" // waiting, or waiting for a retry
	DeliverySent   DeliveryState = "sent"   // the provider accepted it
	DeliveryFailed DeliveryState = "failed" // given up; Delivery.Reason says why
)

// Delivery reports a change of a message's state: for the outbox.
type Delivery struct {
	Key      string
	Channel  ChannelKind
	State    DeliveryState
	Reason   string // why it failed, or why the last attempt did (queued for a retry)
	Attempts int    // attempts made so far
	At       time.Time
}

// InAppEntry is one message in an account's in-app feed.
type InAppEntry struct {
	ID      int64 // increasing within the feed; the cursor for List
	Account string
	Message Message
	Created time.Time
}

// InAppFeed stores the in-app feed the platform's own app reads per
// account. Methods are safe for concurrent use.
type InAppFeed interface {
	// Append adds m to account's feed. It is idempotent on (account,
	// m.Key): appending a key again changes nothing and returns nil.
	Append(ctx context.Context, account string, m Message) error
	// List returns up to limit entries of account's feed with an ID
	// greater than after, oldest first.
	List(ctx context.Context, account string, after int64, limit int) ([]InAppEntry, error)
}
