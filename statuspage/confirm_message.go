package statuspage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"firebreak"
)

// Subscribed queues the confirmation message of a new or renewed
// subscription, whose plain-text Token is set: pass it as
// Config.OnSubscribe. It never waits, so that the subscription page answers
// as fast for a new target as for a known one. When the queue is full the
// confirmation is dropped and logged; subscribing again sends a new one.
func (f *Fanout) Subscribed(_ context.Context, sub firebreak.Subscription) {
	if reason := f.unreachable(sub.Kind); reason != "" {
		f.log.Warn("status subscriptions cannot be confirmed: "+reason, "kind", sub.Kind, "subscription", sub.ID)
		return
	}
	select {
	case f.confirms[sub.Kind] <- sub:
	default:
		f.log.Warn("status subscription confirmation dropped: the queue is full", "kind", sub.Kind, "subscription", sub.ID)
	}
}

// unreachable says why no sender reaches subscriptions of kind, or "".
func (f *Fanout) unreachable(kind firebreak.SubscriptionKind) string {
	switch {
	case kind == firebreak.SubscribeEmail && f.cfg.Email == nil:
		return "no email channel is configured"
	case kind == firebreak.SubscribeWebhook && f.cfg.Webhook == nil:
		return "no webhook sender is configured"
	}
	return ""
}

// runConfirmations sends the confirmations queued until ctx ends.
func (f *Fanout) runConfirmations(ctx context.Context, queue <-chan firebreak.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case sub := <-queue:
			f.confirm(ctx, sub)
		}
	}
}

// confirm keeps sub's token, sealed, for the unsubscribe links of later
// messages, then sends the confirmation, retrying temporary failures. The
// confirmation is not durable: if it is lost, the target subscribes again.
func (f *Fanout) confirm(ctx context.Context, sub firebreak.Subscription) {
	defer func() {
		if p := recover(); p != nil {
			f.log.Error("status subscription confirmation: panic", "panic", p)
		}
	}()
	if err := f.storeToken(ctx, sub); err != nil {
		if ctx.Err() == nil {
			f.log.Error("status subscription confirmation not sent", "subscription", sub.ID, "err", err)
		}
		return
	}
	j, err := f.newJob(sub, sub.Token, confirmMessage(f.cfg.Page, sub))
	if err != nil {
		f.log.Warn("status subscription confirmation not sent", "subscription", sub.ID, "err", err)
		return
	}
	// A few attempts only: a target that cannot be reached now may
	// subscribe again, and a worker is not held up for long.
	j.limit = min(j.limit, maxConfirmAttempts)
	_ = f.retry(ctx, f.sendAll(ctx, []*job{j}))
}

// maxConfirmAttempts bounds the attempts at one confirmation.
const maxConfirmAttempts = 3

// confirmMessage asks the target to confirm the subscription: the confirm
// link, and the link that cancels the request. Plain words and the page's
// own links only.
func confirmMessage(h *Handler, sub firebreak.Subscription) firebreak.Message {
	confirm, unsubscribe := h.ConfirmURL(sub.Token), h.UnsubscribeURL(sub.Token)
	title := oneLine(h.cfg.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "Someone, probably you, asked for this %s to receive every update of the status page %q:\n%s\n\n",
		kindNoun(sub.Kind), title, h.absURL("/"))
	fmt.Fprintf(&b, "To confirm, open this link and press Confirm:\n%s\n\n", confirm)
	b.WriteString("Nothing is sent to you until you confirm. If you did not ask for this, ignore this message.\n\n")
	fmt.Fprintf(&b, "To cancel the request, open this link and press Unsubscribe:\n%s\n", unsubscribe)
	return firebreak.Message{
		Subject: clip("Confirm your subscription to "+title, firebreak.MaxMessageSubject),
		Text:    b.String(),
		Key:     "sc-" + strconv.FormatInt(sub.ID, 10) + "-" + strconv.FormatInt(sub.CreatedAt.UnixNano(), 10),
		Meta: map[string]string{"type": "subscription_confirmation", "subscription_id": strconv.FormatInt(sub.ID, 10),
			"confirm_url": confirm, "unsubscribe_url": unsubscribe},
	}
}

func kindNoun(k firebreak.SubscriptionKind) string {
	if k == firebreak.SubscribeWebhook {
		return "webhook"
	}
	return "address"
}

// tokenKey is the meta key of a subscription's sealed token.
func tokenKey(id int64) string { return "statuspage.token." + strconv.FormatInt(id, 10) }

// tokenAAD binds a sealed token to one subscription as it was created: a
// renewed subscription (new CreatedAt) or a reused ID cannot open the token
// of another.
func tokenAAD(sub firebreak.Subscription) []byte {
	return []byte(strconv.FormatInt(sub.ID, 10) + "|" + sub.CreatedAt.UTC().Format(time.RFC3339Nano))
}

// storeToken seals sub.Token under the fan-out's key and stores it. The
// store itself keeps only the token's hash, so this is how later messages
// carry the unsubscribe link; a copy of the database alone reveals nothing.
func (f *Fanout) storeToken(ctx context.Context, sub firebreak.Subscription) error {
	nonce := make([]byte, f.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	sealed := f.aead.Seal(nonce, nonce, []byte(sub.Token), tokenAAD(sub))
	if err := f.cfg.Meta.SetMeta(ctx, tokenKey(sub.ID), base64.RawURLEncoding.EncodeToString(sealed)); err != nil {
		return fmt.Errorf("store subscription token: %w", err)
	}
	return nil
}

// errNoToken marks a subscription whose token was never stored (or was
// stored for an earlier subscription): it cannot be given an unsubscribe
// link, so it is sent nothing until it subscribes again.
var errNoToken = errors.New("no token stored for the subscription; it must subscribe again")

// token returns sub's plain-text token, errNoToken if there is none for it.
func (f *Fanout) token(ctx context.Context, sub firebreak.Subscription) (string, error) {
	v, err := f.cfg.Meta.GetMeta(ctx, tokenKey(sub.ID))
	if firebreak.ErrorCode(err) == firebreak.ENOTFOUND {
		return "", errNoToken
	} else if err != nil {
		return "", fmt.Errorf("read subscription token: %w", err)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(sealed) < f.aead.NonceSize() {
		return "", errNoToken
	}
	n := f.aead.NonceSize()
	plain, err := f.aead.Open(nil, sealed[:n], sealed[n:], tokenAAD(sub))
	if err != nil {
		return "", errNoToken
	}
	return string(plain), nil
}

// newAEAD returns AES-256-GCM under key, which must be 32 bytes.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("config Key: %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// oneLine replaces line breaks and control characters with spaces, for a
// subject or a webhook's meta field.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
