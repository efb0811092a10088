package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/channel"
)

func operatorMessage() firebreak.Message {
	return firebreak.Message{Channel: firebreak.ChannelSlack, Key: "r-3", Subject: "Status update overdue: incident 3",
		Text: "The update promised for 14:00 is late. <!channel> & <https://evil.example|click>"}
}

func TestSlackPostsEscapedBlocks(t *testing.T) {
	var got struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := channel.NewSlack(channel.SlackConfig{URL: srv.URL + "/services/T000/B000/XXXX"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), operatorMessage()); err != nil {
		t.Fatal(err)
	}
	if len(got.Blocks) != 2 || got.Blocks[0].Type != "header" || got.Blocks[0].Text.Text != "Status update overdue: incident 3" ||
		got.Blocks[1].Text.Type != "mrkdwn" {
		t.Fatalf("blocks: %+v", got.Blocks)
	}
	for _, s := range []string{got.Text, got.Blocks[1].Text.Text} {
		if strings.Contains(s, "<!channel>") || strings.Contains(s, "<https") || !strings.Contains(s, "&lt;!channel&gt; &amp;") {
			t.Fatalf("not escaped: %q", s)
		}
	}
}

func TestSlackErrors(t *testing.T) {
	for _, c := range []struct {
		status int
		header string
		body   string
		want   firebreak.CallOutcome
		reason string
	}{
		{429, "30", "rate_limited", firebreak.CallNotApplied, "rate_limited"},
		{404, "", "channel_not_found", firebreak.CallRejected, "channel_not_found"},
		{410, "", "channel_is_archived", firebreak.CallRejected, "channel_is_archived"},
		{400, "", "invalid_payload", firebreak.CallRejected, "invalid_payload"},
		{500, "", "rollup_error", firebreak.CallUnknown, "rollup_error"},
	} {
		t.Run(c.body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			s, _ := channel.NewSlack(channel.SlackConfig{URL: srv.URL})
			pe := outcome(t, s.Send(context.Background(), operatorMessage()))
			if pe.Outcome != c.want || pe.Reason != c.reason {
				t.Fatalf("got %+v, want %d %q", pe, c.want, c.reason)
			}
			if c.status == 429 && pe.RetryAfter != 30*time.Second {
				t.Fatalf("RetryAfter %v, want 30s", pe.RetryAfter)
			}
		})
	}
}

func TestSlackURLStaysSecret(t *testing.T) {
	const url = "https://hooks.slack.com/services/T000/B000/SECRETTOKEN"
	s, err := channel.NewSlack(channel.SlackConfig{URL: url, Client: &http.Client{Transport: failing{}}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), operatorMessage())
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("got %v, want an error without the URL", err)
	}
	_, err = channel.NewSlack(channel.SlackConfig{URL: "hooks.slack.com/services/SECRETTOKEN"})
	var fe *firebreak.FieldError
	if !errors.As(err, &fe) || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("got %v, want a field error without the URL", err)
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection reset")
}
