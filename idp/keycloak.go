package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/maphash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"firebreak"
)

// Keycloak required actions and user attributes the connector uses.
const (
	kcUpdatePassword = "UPDATE_PASSWORD"
	kcConfigureTOTP  = "CONFIGURE_TOTP"
	kcResetMarker    = "firebreak_reset_requested" // when Firebreak required the reset
	kcLockedUntil    = "firebreak_locked_until"    // until when Firebreak disabled the account
)

// KeycloakConfig configures a Keycloak connector.
type KeycloakConfig struct {
	Name         string // "" means "keycloak"
	URL          string // Keycloak's base URL, e.g. https://sso.example.com
	Realm        string // the realm whose users Firebreak acts on
	ClientID     string // a confidential client with a service account holding
	ClientSecret string // realm-management's manage-users and view-users roles
	Client       *http.Client
}

// Keycloak acts on the users of one realm through the Keycloak Admin REST
// API. Targets are usernames. It cannot act on sources.
//
//   - revoke_sessions: POST /admin/realms/{realm}/users/{id}/logout
//   - force_password_reset: requiredActions += UPDATE_PASSWORD (and the
//     attribute firebreak_reset_requested, to tell a reset the person has
//     since done from one never required)
//   - require_step_up: requiredActions += CONFIGURE_TOTP
//   - temporary_lock: enabled=false, the attribute firebreak_locked_until
//
// Changes to a user are read-modify-write (GET the representation, PUT it
// back), serialised per user within the process.
type Keycloak struct {
	name, base, realm string
	clientID, secret  string
	hc                *http.Client
	tokMu             sync.Mutex
	token             string
	tokenExp          time.Time
	ids               sync.Map // username → user id
	seed              maphash.Seed
	locks             [64]sync.Mutex // per user, for read-modify-write
	now               func() time.Time
}

// NewKeycloak returns a Keycloak connector. It does not contact Keycloak.
func NewKeycloak(cfg KeycloakConfig) (*Keycloak, error) {
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	switch {
	case cfg.Realm == "":
		return nil, &firebreak.FieldError{Field: "realm", Reason: "required"}
	case cfg.ClientID == "":
		return nil, &firebreak.FieldError{Field: "client_id", Reason: "required"}
	case cfg.ClientSecret == "":
		return nil, &firebreak.FieldError{Field: "client_secret", Reason: "required"}
	}
	k := &Keycloak{name: cfg.Name, base: strings.TrimRight(cfg.URL, "/"), realm: cfg.Realm,
		clientID: cfg.ClientID, secret: cfg.ClientSecret, hc: cfg.Client, seed: maphash.MakeSeed(), now: time.Now}
	if k.name == "" {
		k.name = KindKeycloak
	}
	if k.hc == nil {
		k.hc = newHTTPClient(0)
	}
	return k, nil
}

// Name implements firebreak.Connector.
func (k *Keycloak) Name() string { return k.name }

// Apply implements firebreak.Connector.
func (k *Keycloak) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	return k.act(ctx, req, true)
}

// Revert implements firebreak.Connector.
func (k *Keycloak) Revert(ctx context.Context, req firebreak.ActionRequest) error {
	return k.act(ctx, req, false)
}

func (k *Keycloak) act(ctx context.Context, req firebreak.ActionRequest, apply bool) error {
	info, ok := req.Action.Info()
	switch {
	case !ok:
		return providerErr(firebreak.CallRejected, 0, "unknown action "+string(req.Action))
	case info.OnSource:
		return providerErr(firebreak.CallRejected, 0, "keycloak cannot block sources")
	case !apply && !info.Reversible:
		return providerErr(firebreak.CallRejected, 0, string(req.Action)+" cannot be undone")
	}
	return k.withUser(ctx, req.Target, func(id string) error {
		if req.Action == firebreak.ActionRevokeSessions {
			status, answer, err := k.admin(ctx, http.MethodPost, k.userPath(id)+"/logout", nil)
			return classify(status, answer, err, true)
		}
		return k.modify(ctx, id, func(u *kcUser) (bool, error) { return u.change(req, apply, k.now()) })
	})
}

// Observe implements firebreak.Connector. Keycloak keeps no time of the
// last revocation: a user with no session now counts as revoked now.
func (k *Keycloak) Observe(ctx context.Context, target string, source bool) (firebreak.TargetState, error) {
	if source {
		return firebreak.TargetState{}, providerErr(firebreak.CallRejected, 0, "keycloak cannot block sources")
	}
	var st firebreak.TargetState
	err := k.withUser(ctx, target, func(id string) error {
		u, err := k.getUser(ctx, id)
		if err != nil {
			return err
		}
		status, answer, err := k.admin(ctx, http.MethodGet, k.userPath(id)+"/sessions", nil)
		if err := classify(status, answer, err, false); err != nil {
			return err
		}
		var sessions []json.RawMessage
		if err := json.Unmarshal(answer, &sessions); err != nil {
			return garbled(status, "user sessions", err)
		}
		st = u.state()
		if len(sessions) == 0 {
			st.SessionsRevokedAt = k.now()
		}
		return nil
	})
	if firebreak.ProviderOutcome(err) == firebreak.CallRejected && isUnknownAccount(err) {
		return firebreak.TargetState{}, nil
	}
	return st, err
}

func (k *Keycloak) userPath(id string) string {
	return "/admin/realms/" + url.PathEscape(k.realm) + "/users/" + url.PathEscape(id)
}

// withUser runs fn with the user's id. An id from the cache that Keycloak
// no longer knows (the user was deleted and re-created) is looked up again
// once.
func (k *Keycloak) withUser(ctx context.Context, username string, fn func(id string) error) error {
	id, cached, err := k.userID(ctx, username)
	if err != nil {
		return err
	}
	err = fn(id)
	if cached && isUnknownAccount(err) {
		k.ids.Delete(username)
		if id, _, err = k.userID(ctx, username); err != nil {
			return err
		}
		err = fn(id)
	}
	return err
}

// userID finds a user's id by exact username, through the cache.
func (k *Keycloak) userID(ctx context.Context, username string) (id string, cached bool, err error) {
	if v, ok := k.ids.Load(username); ok {
		return v.(string), true, nil
	}
	q := url.Values{"username": {username}, "exact": {"true"}, "briefRepresentation": {"true"}}
	status, answer, err := k.admin(ctx, http.MethodGet, "/admin/realms/"+url.PathEscape(k.realm)+"/users?"+q.Encode(), nil)
	if err := classify(status, answer, err, false); err != nil {
		return "", false, err
	}
	var users []struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := json.Unmarshal(answer, &users); err != nil {
		return "", false, beforeMutation(garbled(status, "user search", err))
	}
	for _, u := range users {
		// Keycloak stores usernames in lower case.
		if strings.EqualFold(u.Username, username) && u.ID != "" {
			k.ids.Store(username, u.ID)
			return u.ID, false, nil
		}
	}
	return "", false, unknownAccount()
}

func unknownAccount() error {
	return providerErr(firebreak.CallRejected, http.StatusNotFound, "unknown account")
}

func isUnknownAccount(err error) bool {
	pe, ok := err.(*firebreak.ProviderError)
	return ok && pe.Outcome == firebreak.CallRejected && pe.Status == http.StatusNotFound
}

// modify reads a user, lets change edit it, and writes it back if changed.
func (k *Keycloak) modify(ctx context.Context, id string, change func(*kcUser) (bool, error)) error {
	mu := &k.locks[maphash.String(k.seed, id)%uint64(len(k.locks))]
	mu.Lock()
	defer mu.Unlock()
	u, err := k.getUser(ctx, id)
	if err != nil {
		return err
	}
	changed, err := change(u)
	if err != nil || !changed {
		return err
	}
	body, err := u.encode()
	if err != nil {
		return providerErr(firebreak.CallNotApplied, 0, "encode user: "+err.Error())
	}
	status, answer, err := k.admin(ctx, http.MethodPut, k.userPath(id), body)
	return classify(status, answer, err, true)
}

func (k *Keycloak) getUser(ctx context.Context, id string) (*kcUser, error) {
	status, answer, err := k.admin(ctx, http.MethodGet, k.userPath(id), nil)
	if err := classify(status, answer, err, false); err != nil {
		return nil, err
	}
	u, err := decodeKCUser(answer)
	if err != nil {
		return nil, beforeMutation(garbled(status, "user", err))
	}
	return u, nil
}

// admin sends one Admin API request with the service account's token,
// fetching a new token once if Keycloak answers 401.
func (k *Keycloak) admin(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		token, err := k.accessToken(ctx, attempt > 0)
		if err != nil {
			return 0, nil, err
		}
		hreq, err := http.NewRequestWithContext(ctx, method, k.base+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, providerErr(firebreak.CallRejected, 0, "bad request: "+err.Error())
		}
		hreq.Header.Set("Authorization", "Bearer "+token)
		hreq.Header.Set("Accept", "application/json")
		if body != nil {
			hreq.Header.Set("Content-Type", "application/json")
		}
		resp, err := k.hc.Do(hreq)
		if err != nil {
			return 0, nil, sendErr(ctx, err)
		}
		answer, err := readAnswer(resp)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			continue // the token expired early or was revoked: one fresh try
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			return 0, nil, refusedBefore(resp, answer)
		}
		return resp.StatusCode, answer, nil
	}
}

// accessToken returns a cached token, or a new one from the realm's token
// endpoint (client credentials grant) when it is missing, near its expiry
// or force is set.
func (k *Keycloak) accessToken(ctx context.Context, force bool) (string, error) {
	k.tokMu.Lock()
	defer k.tokMu.Unlock()
	if !force && k.token != "" && k.now().Before(k.tokenExp) {
		return k.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {k.clientID}, "client_secret": {k.secret}}
	u := k.base + "/realms/" + url.PathEscape(k.realm) + "/protocol/openid-connect/token"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", providerErr(firebreak.CallNotApplied, 0, "bad token request: "+err.Error())
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := k.hc.Do(hreq)
	if err != nil {
		return "", beforeMutation(sendErr(ctx, err))
	}
	answer, err := readAnswer(resp)
	if err != nil {
		return "", beforeMutation(err)
	}
	if resp.StatusCode != http.StatusOK {
		// Wrong credentials are a configuration problem, not the target's:
		// the item stays retryable rather than skipped.
		return "", providerErr(firebreak.CallNotApplied, resp.StatusCode, "keycloak token: "+answerReason(answer, resp.Status))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(answer, &tok); err != nil || tok.AccessToken == "" {
		return "", providerErr(firebreak.CallNotApplied, resp.StatusCode, "keycloak token: no access_token in the answer")
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	k.token, k.tokenExp = tok.AccessToken, k.now().Add(life-min(30*time.Second, life/10))
	return k.token, nil
}

// classify turns an Admin API answer into an error. Failures of a call
// that changes nothing (mutating false) are never CallUnknown.
func classify(status int, answer []byte, err error, mutating bool) error {
	switch {
	case err != nil && !mutating:
		return beforeMutation(err)
	case err != nil:
		return err
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusNotFound:
		return unknownAccount()
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return providerErr(firebreak.CallNotApplied, status, "the provider refused Firebreak's credentials: "+answerReason(answer, http.StatusText(status)))
	case status >= 400 && status < 500:
		return providerErr(firebreak.CallRejected, status, answerReason(answer, http.StatusText(status)))
	case mutating:
		return providerErr(firebreak.CallUnknown, status, "server error; the change may have been made: "+answerReason(answer, http.StatusText(status)))
	}
	return providerErr(firebreak.CallNotApplied, status, answerReason(answer, "server error"))
}

// beforeMutation reclassifies the failure of a call that changes nothing
// (a lookup before the change): whatever happened, nothing was applied.
func beforeMutation(err error) error {
	if pe, ok := err.(*firebreak.ProviderError); ok && pe.Outcome == firebreak.CallUnknown {
		return &firebreak.ProviderError{Outcome: firebreak.CallNotApplied, Status: pe.Status, RetryAfter: pe.RetryAfter, Reason: pe.Reason}
	}
	return err
}
