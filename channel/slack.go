package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"firebreak"
)

// SlackConfig configures a Slack sender.
type SlackConfig struct {
	// URL is the incoming webhook's URL. It is a secret (whoever has it
	// can post): configure it from an environment variable or a file.
	URL    string
	Client *http.Client // nil: a 10s timeout, no redirects, a pool for ~64 callers
}

// Slack posts operator messages to a Slack-compatible incoming webhook
// (Slack, Mattermost, Rocket.Chat): {"text": ..., "blocks": [...]}.
//
// The subject becomes a header block and the text a mrkdwn section; text
// is also sent as the plain fallback. &, < and > are escaped, so nothing
// in a message can mention @channel or forge a link.
//
// Slack answers 200 "ok"; errors come as plain-text bodies such as
// "invalid_payload" or "channel_is_archived" (refused for good), 429 with
// Retry-After (retry later); a 5xx may have posted the message.
type Slack struct {
	url string
	hc  *http.Client
}

var _ firebreak.Sender = (*Slack)(nil)

// NewSlack returns a Slack sender. A malformed URL is a
// *firebreak.FieldError (that does not repeat the URL).
func NewSlack(cfg SlackConfig) (*Slack, error) {
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	s := &Slack{url: cfg.URL, hc: cfg.Client}
	if s.hc == nil {
		s.hc = newHTTPClient(0)
	}
	return s, nil
}

// Kind implements firebreak.Sender.
func (s *Slack) Kind() firebreak.ChannelKind { return firebreak.ChannelSlack }

// Slack's limits for a header's text and a section's text.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
)

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks,omitempty"`
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// payload builds the body for m.
func slackBody(m firebreak.Message) slackPayload {
	text := slackEscape.Replace(m.Text)
	p := slackPayload{Text: text}
	if m.Subject != "" {
		p.Text = "*" + slackEscape.Replace(m.Subject) + "*\n" + text
		p.Blocks = append(p.Blocks, slackBlock{Type: "header",
			Text: slackText{Type: "plain_text", Text: clip(m.Subject, slackHeaderMax-3)}})
	}
	if len(text) <= slackSectionMax {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: slackText{Type: "mrkdwn", Text: text}})
	} else {
		p.Blocks = nil // too long for a section: the plain text alone carries it
	}
	return p
}

// Send implements firebreak.Sender.
func (s *Slack) Send(ctx context.Context, m firebreak.Message) error {
	if err := checkMessage(firebreak.ChannelSlack, &m); err != nil {
		return err
	}
	body, err := json.Marshal(slackBody(m))
	if err != nil {
		return providerErr(firebreak.CallRejected, 0, "encode message: "+err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return providerErr(firebreak.CallRejected, 0, "bad request") // the URL is a secret: not in the reason
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firebreak-channel/1")
	resp, err := s.hc.Do(req)
	if err != nil {
		return sendErr(ctx, err)
	}
	answer := readAnswer(resp)
	switch st := resp.StatusCode; {
	case st >= 200 && st < 300:
		return nil
	case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		return refusedBefore(resp, answerReason(answer, http.StatusText(st)))
	case st == http.StatusRequestTimeout || st >= 500:
		return providerErr(firebreak.CallUnknown, st, answerReason(answer, "Slack error; it may have posted"))
	case st >= 300 && st < 400:
		return providerErr(firebreak.CallRejected, st, "redirect not followed; check the webhook URL")
	}
	// 400 invalid_payload, 403 action_prohibited, 404 channel_not_found,
	// 410 channel_is_archived, ...: posting again will not help.
	return providerErr(firebreak.CallRejected, resp.StatusCode, answerReason(answer, http.StatusText(resp.StatusCode)))
}
