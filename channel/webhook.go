package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"firebreak"
	"firebreak/idp"
)

// WebhookConfig configures a Webhook sender.
type WebhookConfig struct {
	Kind   firebreak.ChannelKind // ChannelSMS or ChannelChat
	URL    string                // where every message is POSTed
	Secret []byte                // signs every request (HMAC-SHA256); at least 16 bytes
	Client *http.Client          // nil: a 10s timeout, no redirects, a pool for ~64 callers
}

// Webhook delivers SMS and chat messages through a gateway: it POSTs each
// message as signed JSON to one URL.
//
// The body is {"channel", "to", "subject", "text", "html", "key", "meta"}.
// Every request carries Idempotency-Key (the message's key: the gateway
// must not deliver one key twice) and idp.SignatureHeader, signed afresh
// for every attempt, exactly like the identity-provider webhook, so one
// receiver library verifies both.
//
// The gateway answers 2xx when it has taken the message. 429 and 503 mean
// "not taken, retry" (with Retry-After); 401 and 403 mean it refused the
// signature (not taken; retryable once the secret is fixed); 408, any
// other 5xx, a timeout or a dropped connection mean "may have been taken";
// any other 4xx refuses the message for good, its reason read from a JSON
// {"reason"} or a short plain-text body. Redirects are not followed.
type Webhook struct {
	kind   firebreak.ChannelKind
	url    string
	secret []byte
	hc     *http.Client
}

var _ firebreak.Sender = (*Webhook)(nil)

// NewWebhook returns a Webhook sender. A malformed URL or a short secret
// is a *firebreak.FieldError.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.Kind != firebreak.ChannelSMS && cfg.Kind != firebreak.ChannelChat {
		return nil, &firebreak.FieldError{Field: "kind", Reason: "a webhook carries sms or chat"}
	}
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	if len(cfg.Secret) < 16 {
		return nil, &firebreak.FieldError{Field: "secret", Reason: "must be at least 16 bytes"}
	}
	w := &Webhook{kind: cfg.Kind, url: cfg.URL, secret: cfg.Secret, hc: cfg.Client}
	if w.hc == nil {
		w.hc = newHTTPClient(0)
	}
	return w, nil
}

// Kind implements firebreak.Sender.
func (w *Webhook) Kind() firebreak.ChannelKind { return w.kind }

// webhookBody is the JSON body of every request.
type webhookBody struct {
	Channel firebreak.ChannelKind `json:"channel"`
	To      string                `json:"to"`
	Subject string                `json:"subject,omitempty"`
	Text    string                `json:"text"`
	HTML    string                `json:"html,omitempty"`
	Key     string                `json:"key"`
	Meta    map[string]string     `json:"meta,omitempty"`
}

// Send implements firebreak.Sender.
func (w *Webhook) Send(ctx context.Context, m firebreak.Message) error {
	if err := checkMessage(w.kind, &m); err != nil {
		return err
	}
	body, err := json.Marshal(webhookBody{Channel: m.Channel, To: m.To, Subject: m.Subject,
		Text: m.Text, HTML: m.HTML, Key: m.Key, Meta: m.Meta})
	if err != nil {
		return providerErr(firebreak.CallRejected, 0, "encode message: "+err.Error())
	}
	// The body is wrapped so that net/http cannot rewind it and silently
	// resend on a broken keep-alive connection (see idp/webhook.go).
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return providerErr(firebreak.CallRejected, 0, "bad request: "+err.Error())
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firebreak-channel/1")
	req.Header.Set("Idempotency-Key", m.Key)
	req.Header.Set(idp.SignatureHeader, idp.Sign(w.secret, body, time.Now()))
	resp, err := w.hc.Do(req)
	if err != nil {
		return sendErr(ctx, err)
	}
	return classifyWebhook(resp, readAnswer(resp))
}

// classifyWebhook turns a gateway's answer into nil or a ProviderError.
func classifyWebhook(resp *http.Response, answer []byte) error {
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return refusedBefore(resp, answerReason(answer, http.StatusText(s)))
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return providerErr(firebreak.CallNotApplied, s, "the gateway refused the signature: "+answerReason(answer, "check the secret"))
	case s == http.StatusRequestTimeout || s >= 500:
		return providerErr(firebreak.CallUnknown, s, answerReason(answer, "gateway error; it may have taken the message"))
	case s >= 300 && s < 400:
		return providerErr(firebreak.CallRejected, s, "redirect not followed; configure the final URL")
	case s >= 400:
		return providerErr(firebreak.CallRejected, s, answerReason(answer, http.StatusText(s)))
	}
	return providerErr(firebreak.CallUnknown, resp.StatusCode, "unexpected answer "+resp.Status)
}

// checkMessage validates m for a sender of kind; a message that fails is
// rejected for good.
func checkMessage(kind firebreak.ChannelKind, m *firebreak.Message) error {
	if m.Channel != kind {
		return providerErr(firebreak.CallRejected, 0, "a "+string(m.Channel)+" message given to the "+string(kind)+" sender")
	}
	if err := m.Validate(); err != nil {
		return providerErr(firebreak.CallRejected, 0, "invalid message: "+err.Error())
	}
	return nil
}
