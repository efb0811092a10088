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

// Keys Firebreak keeps in a Kratos identity's metadata_admin. Kratos has
// no "reset at next login" or "step up at next login" of its own: the
// application reads these flags after login and sends the person to the
// settings (password) or MFA flow. After a password change the
// application sets firebreak_reset_done_at and removes
// firebreak_reset_required.
const (
	krResetRequired  = "firebreak_reset_required"
	krResetDoneAt    = "firebreak_reset_done_at"
	krStepUpRequired = "firebreak_step_up_required"
	krLockedUntil    = "firebreak_locked_until"
)

// KratosConfig configures a Kratos connector.
type KratosConfig struct {
	Name   string // "" means "kratos"
	URL    string // the admin API's base URL, e.g. http://kratos:4434
	APIKey string // sent as a bearer token; "" for an admin API behind a private network
	Client *http.Client
}

// Kratos acts on identities through the Ory Kratos admin API. Targets are
// identity ids. It cannot act on sources.
//
//   - revoke_sessions: DELETE /admin/identities/{id}/sessions
//   - temporary_lock: PATCH state "inactive" (Kratos refuses logins), and
//     metadata_admin.firebreak_locked_until; revert sets "active"
//   - force_password_reset, require_step_up: flags in metadata_admin,
//     enforced by the application (see the constants above)
type Kratos struct {
	name, base, apiKey string
	hc                 *http.Client
	seed               maphash.Seed
	locks              [64]sync.Mutex // per identity, for read-modify-write
	now                func() time.Time
}

// NewKratos returns a Kratos connector. It does not contact Kratos.
func NewKratos(cfg KratosConfig) (*Kratos, error) {
	if err := checkURL("url", cfg.URL); err != nil {
		return nil, err
	}
	k := &Kratos{name: cfg.Name, base: strings.TrimRight(cfg.URL, "/"), apiKey: cfg.APIKey, hc: cfg.Client,
		seed: maphash.MakeSeed(), now: time.Now}
	if k.name == "" {
		k.name = KindKratos
	}
	if k.hc == nil {
		k.hc = newHTTPClient(0)
	}
	return k, nil
}

// Name implements firebreak.Connector.
func (k *Kratos) Name() string { return k.name }

// Apply implements firebreak.Connector.
func (k *Kratos) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	return k.act(ctx, req, true)
}

// Revert implements firebreak.Connector.
func (k *Kratos) Revert(ctx context.Context, req firebreak.ActionRequest) error {
	return k.act(ctx, req, false)
}

func (k *Kratos) act(ctx context.Context, req firebreak.ActionRequest, apply bool) error {
	info, ok := req.Action.Info()
	switch {
	case !ok:
		return providerErr(firebreak.CallRejected, 0, "unknown action "+string(req.Action))
	case info.OnSource:
		return providerErr(firebreak.CallRejected, 0, "kratos cannot block sources")
	case !apply && !info.Reversible:
		return providerErr(firebreak.CallRejected, 0, string(req.Action)+" cannot be undone")
	case req.Target == "":
		return providerErr(firebreak.CallRejected, 0, "empty identity id")
	case req.Action == firebreak.ActionRevokeSessions:
		return k.revoke(ctx, req.Target)
	}
	mu := &k.locks[maphash.String(k.seed, req.Target)%uint64(len(k.locks))]
	mu.Lock()
	defer mu.Unlock()
	id, err := k.identity(ctx, req.Target)
	if err != nil {
		return err
	}
	ops, err := id.patch(req, apply, k.now())
	if err != nil || len(ops) == 0 {
		return err
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return providerErr(firebreak.CallNotApplied, 0, "encode patch: "+err.Error())
	}
	status, answer, err := k.do(ctx, http.MethodPatch, k.identityPath(req.Target), body)
	return classify(status, answer, err, true)
}

// revoke deletes every session of the identity. Kratos answers 404 both
// for an unknown identity and for one without sessions; the second is
// success (nothing left to revoke).
func (k *Kratos) revoke(ctx context.Context, id string) error {
	status, answer, err := k.do(ctx, http.MethodDelete, k.identityPath(id)+"/sessions", nil)
	if err == nil && status == http.StatusNotFound {
		_, err := k.identity(ctx, id)
		return err
	}
	return classify(status, answer, err, true)
}

// Observe implements firebreak.Connector. Kratos keeps no time of the last
// revocation: an identity with no active session counts as revoked now.
func (k *Kratos) Observe(ctx context.Context, target string, source bool) (firebreak.TargetState, error) {
	if source {
		return firebreak.TargetState{}, providerErr(firebreak.CallRejected, 0, "kratos cannot block sources")
	}
	id, err := k.identity(ctx, target)
	if isUnknownAccount(err) {
		return firebreak.TargetState{}, nil
	} else if err != nil {
		return firebreak.TargetState{}, err
	}
	st := id.state()
	status, answer, err := k.do(ctx, http.MethodGet, k.identityPath(target)+"/sessions?active=true", nil)
	if err == nil && status == http.StatusNotFound {
		answer, status = []byte("[]"), http.StatusOK // older Kratos: 404 for "no sessions"
	}
	if err := classify(status, answer, err, false); err != nil {
		return firebreak.TargetState{}, err
	}
	var sessions []json.RawMessage
	if err := json.Unmarshal(answer, &sessions); err != nil {
		return firebreak.TargetState{}, garbled(status, "identity sessions", err)
	}
	if len(sessions) == 0 {
		st.SessionsRevokedAt = k.now()
	}
	return st, nil
}

func (k *Kratos) identityPath(id string) string { return "/admin/identities/" + url.PathEscape(id) }

func (k *Kratos) identity(ctx context.Context, id string) (*krIdentity, error) {
	status, answer, err := k.do(ctx, http.MethodGet, k.identityPath(id), nil)
	if err := classify(status, answer, err, false); err != nil {
		return nil, err
	}
	var ident krIdentity
	if err := json.Unmarshal(answer, &ident); err != nil {
		return nil, beforeMutation(garbled(status, "identity", err))
	}
	if ident.ID == "" {
		return nil, beforeMutation(garbled(status, "identity", errNoID))
	}
	return &ident, nil
}

// do sends one admin API request.
func (k *Kratos) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, method, k.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, providerErr(firebreak.CallRejected, 0, "bad request: "+err.Error())
	}
	if k.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+k.apiKey)
	}
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
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return 0, nil, refusedBefore(resp, answer)
	}
	return resp.StatusCode, answer, nil
}
