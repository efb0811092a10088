package channel

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", " 3 ", "-1", "1.5", "1e3", "99999999999999999999", "soon", "",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("%q: %v out of range", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: not ok but %v", v, d)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil && n <= 86400 && d != time.Duration(n)*time.Second {
			t.Fatalf("%q: got %v, want %ds", v, d, n)
		}
	})
}

// FuzzMessageID checks that any key a Message accepts gives a Message-ID
// of only the characters RFC 5322 allows, the same for the same key.
func FuzzMessageID(f *testing.F) {
	for _, s := range []string{"n-42", "n:42", "a@b", "x/y=z+", strings.Repeat("k", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		m := firebreak.Message{Channel: firebreak.ChannelEmail, To: "a@example.com", Key: key, Text: "x"}
		if m.Validate() != nil {
			return
		}
		id := messageID(key, "example.com")
		left, domain, ok := strings.Cut(id, "@")
		if !ok || domain != "example.com" || left == "" || strings.Contains(left, "..") || strings.HasSuffix(left, ".") {
			t.Fatalf("%q: Message-ID %q", key, id)
		}
		for _, c := range []byte(left) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_+=/", c) >= 0) {
				t.Fatalf("%q: Message-ID %q holds %q", key, id, c)
			}
		}
		if messageID(key, "example.com") != id {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzSlackBody checks that nothing in a message survives as Slack
// control syntax (<!channel>, <url|text>).
func FuzzSlackBody(f *testing.F) {
	f.Add("Overdue", "<!channel> & <https://evil.example|click>")
	f.Fuzz(func(t *testing.T, subject, text string) {
		p := slackBody(firebreak.Message{Channel: firebreak.ChannelSlack, Key: "k", Subject: subject, Text: text})
		check := []string{p.Text}
		for _, b := range p.Blocks {
			if b.Type != "header" { // header blocks are plain_text: Slack does not parse them
				check = append(check, b.Text.Text)
			}
		}
		for _, s := range check {
			if strings.ContainsAny(s, "<>") {
				t.Fatalf("unescaped: %q", s)
			}
		}
	})
}
