package selfservice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"firebreak"
)

// MinKeyLen is the shortest signing key Tokens accepts, in bytes.
const MinKeyLen = 32

// MaxTokenLen bounds a token's text; longer ones are refused unread.
const MaxTokenLen = 512

// errBadToken is every reason a token does not verify: tampered, expired,
// malformed. Callers never tell them apart, and neither does the visitor.
var errBadToken = errors.New("invalid or expired token")

// Claims are what a valid token says: one account, one incident, until when.
type Claims struct {
	Account    string
	IncidentID int64
	Expires    time.Time
}

// Tokens issues and verifies self-service tokens: base64url (no padding)
// of version 1, incident id, expiry (Unix seconds), account, and an
// HMAC-SHA256 over all of it with the configured key.
type Tokens struct {
	key   []byte
	now   func() time.Time
	dummy []byte // a well-formed payload to sign when a token cannot be decoded
}

// NewTokens returns Tokens signing with key (at least MinKeyLen bytes, from
// configuration); now is the clock (nil: time.Now).
func NewTokens(key []byte, now func() time.Time) (*Tokens, error) {
	if len(key) < MinKeyLen {
		return nil, &firebreak.FieldError{Field: "self_service.key", Reason: fmt.Sprintf("must be at least %d bytes", MinKeyLen)}
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{key: append([]byte(nil), key...), now: now}
	t.dummy = payload("dummy-account-for-constant-work", 1, 0)
	return t, nil
}

func payload(account string, incidentID, expires int64) []byte {
	b := make([]byte, 17, 17+len(account)+sha256.Size)
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], uint64(incidentID))
	binary.BigEndian.PutUint64(b[9:], uint64(expires))
	return append(b, account...)
}

// Issue returns a token for account and incident valid for ttl (1 minute
// to 30 days). Hand it to the person only through the in-app feed (see
// Notice), never by e-mail: it is their key to the page.
func (t *Tokens) Issue(account string, incidentID int64, ttl time.Duration) (string, error) {
	switch {
	case account == "" || len(account) > firebreak.MaxAccountLen:
		return "", &firebreak.FieldError{Field: "account", Reason: fmt.Sprintf("required: 1 to %d bytes", firebreak.MaxAccountLen)}
	case incidentID <= 0:
		return "", &firebreak.FieldError{Field: "incident_id", Reason: "required"}
	case ttl < time.Minute || ttl > 30*24*time.Hour:
		return "", &firebreak.FieldError{Field: "ttl", Reason: "must be from 1m to 720h"}
	}
	p := payload(account, incidentID, t.now().Add(ttl).Unix())
	return base64.RawURLEncoding.EncodeToString(append(p, t.mac(p)...)), nil
}

// mac returns the MAC of p, in a new slice (never in p's spare capacity,
// which may hold the MAC being checked).
func (t *Tokens) mac(p []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(p)
	return m.Sum(nil)
}

// Verify returns the claims of a valid, unexpired token. Every other token
// gets the same error after the same work: a token that does not decode
// has a dummy payload signed in its place, and the MAC is compared in
// constant time.
func (t *Tokens) Verify(token string) (Claims, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	ok := err == nil && len(token) <= MaxTokenLen && len(raw) >= 17+sha256.Size && raw[0] == 1
	p, mac := t.dummy, make([]byte, sha256.Size)
	if ok {
		p, mac = raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	}
	want := t.mac(p)
	ok = hmac.Equal(mac, want) && ok
	c := Claims{
		IncidentID: int64(binary.BigEndian.Uint64(p[1:9])),
		Expires:    time.Unix(int64(binary.BigEndian.Uint64(p[9:17])), 0),
		Account:    string(p[17:]),
	}
	if !ok || !t.now().Before(c.Expires) || c.IncidentID <= 0 || c.Account == "" {
		return Claims{}, errBadToken
	}
	return c, nil
}

// Notice is the in-app feed message that carries a person's link: the
// page at baseURL + "/self-service/" + token. Append it to the account's
// feed (firebreak.InAppFeed); its key makes repeats harmless.
func (t *Tokens) Notice(account string, incidentID int64, ttl time.Duration, baseURL string) (firebreak.Message, error) {
	tok, err := t.Issue(account, incidentID, ttl)
	if err != nil {
		return firebreak.Message{}, err
	}
	return firebreak.Message{
		Channel: firebreak.ChannelInApp, To: account,
		Key:     fmt.Sprintf("selfservice-%d", incidentID),
		Subject: "Check what happened to your account",
		Text:    "We took steps to protect your account. See what was done, why, and what to do.",
		Meta:    map[string]string{"link": baseURL + "/self-service/" + tok},
	}, nil
}
