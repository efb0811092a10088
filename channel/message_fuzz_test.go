package channel_test

import (
	"net/mail"
	"strings"
	"testing"

	"firebreak"
)

// FuzzMessageValidate checks that what Message.Validate accepts is safe to
// put in headers and on the wire: one line, recipients of the channel's
// shape.
func FuzzMessageValidate(f *testing.F) {
	f.Add("email", "alice@example.org", "Subject", "n-1", "text")
	f.Add("email", "Alice <alice@example.org>", "a\r\nBcc: x@y", "n 1", "")
	f.Add("sms", "+4915123456789", "", "n-2", "hi")
	f.Add("chat", "@alice", "", "n-3", "hi")
	f.Add("inapp", "acct-7", "t", "n-4", "hi")
	f.Fuzz(func(t *testing.T, ch, to, subject, key, text string) {
		m := firebreak.Message{Channel: firebreak.ChannelKind(ch), To: to, Subject: subject, Key: key, Text: text}
		if m.Validate() != nil {
			return
		}
		for _, s := range []string{to, subject, key} {
			if strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("accepted a line break or NUL: %q", s)
			}
		}
		if strings.ContainsAny(key, " <>\"") {
			t.Fatalf("key %q", key)
		}
		switch m.Channel {
		case firebreak.ChannelEmail:
			a, err := mail.ParseAddress(to)
			if err != nil || a.Address != to {
				t.Fatalf("email %q: %v", to, err)
			}
		case firebreak.ChannelSMS:
			if to[0] != '+' || len(to) < 9 || strings.Trim(to[1:], "0123456789") != "" {
				t.Fatalf("sms %q", to)
			}
		}
	})
}
