package idp_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKeycloak reproduces the parts of Keycloak's token endpoint and Admin
// REST API the connector uses, with Keycloak's status codes and JSON
// shapes: a client-credentials token, bearer auth on every admin call (401
// without it), 404 {"error": "User not found"}, PUT that updates only the
// fields it is given, and 204 on logout and PUT.
type fakeKeycloak struct {
	mu        sync.Mutex
	realm     string
	clientID  string
	secret    string
	tokenLife int
	tokens    map[string]time.Time
	users     map[string]map[string]any // id → UserRepresentation
	sessions  map[string]int            // id → active sessions
	calls     map[string]int            // "METHOD kind" → count
	failNext  map[string]int            // "METHOD kind" → status to answer once
}

func newFakeKeycloak(t *testing.T) (*fakeKeycloak, *httptest.Server) {
	f := &fakeKeycloak{realm: "acme", clientID: "firebreak", secret: "kc-client-secret", tokenLife: 300,
		tokens: map[string]time.Time{}, users: map[string]map[string]any{}, sessions: map[string]int{},
		calls: map[string]int{}, failNext: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /realms/{realm}/protocol/openid-connect/token", f.token)
	mux.HandleFunc("GET /admin/realms/{realm}/users", f.admin("search", f.search))
	mux.HandleFunc("GET /admin/realms/{realm}/users/{id}", f.admin("user", f.getUser))
	mux.HandleFunc("PUT /admin/realms/{realm}/users/{id}", f.admin("user", f.putUser))
	mux.HandleFunc("POST /admin/realms/{realm}/users/{id}/logout", f.admin("logout", f.logout))
	mux.HandleFunc("GET /admin/realms/{realm}/users/{id}/sessions", f.admin("sessions", f.listSessions))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

// addUser creates a user with a new id and some sessions.
func (f *fakeKeycloak) addUser(username string, sessions int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := rand.Text()
	f.users[id] = map[string]any{"id": id, "username": strings.ToLower(username), "enabled": true,
		"email": username + "@example.com", "emailVerified": true, "createdTimestamp": 1767225600000,
		"totp": false, "requiredActions": []any{}, "notBefore": 0,
		"attributes": map[string]any{"department": []any{"sales"}}}
	f.sessions[id] = sessions
	return id
}

func (f *fakeKeycloak) user(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.users[id])
}

func (f *fakeKeycloak) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func kcError(w http.ResponseWriter, status int, v map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeKeycloak) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["POST token"]++
	if r.PathValue("realm") != f.realm {
		kcError(w, 404, map[string]string{"error": "Realm does not exist"})
		return
	}
	r.ParseForm()
	if r.PostForm.Get("grant_type") != "client_credentials" {
		kcError(w, 400, map[string]string{"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"})
		return
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		kcError(w, 401, map[string]string{"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})
		return
	}
	tok := rand.Text()
	f.tokens[tok] = time.Now().Add(time.Duration(f.tokenLife) * time.Second)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": f.tokenLife, "refresh_expires_in": 0,
		"token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"})
}

// admin wraps an Admin API handler with bearer auth, the realm check, call
// counting and one-shot injected failures; it runs h with f.mu held.
func (f *fakeKeycloak) admin(kind string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		key := r.Method + " " + kind
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if exp, known := f.tokens[tok]; !ok || !known || time.Now().After(exp) {
			kcError(w, 401, map[string]string{"error": "HTTP 401 Unauthorized"})
			return
		}
		f.calls[key]++
		if status := f.failNext[key]; status != 0 {
			delete(f.failNext, key)
			kcError(w, status, map[string]string{"error": "unknown_error"})
			return
		}
		if r.PathValue("realm") != f.realm {
			kcError(w, 404, map[string]string{"error": "Realm not found."})
			return
		}
		if id := r.PathValue("id"); id != "" && f.users[id] == nil {
			kcError(w, 404, map[string]string{"error": "User not found"})
			return
		}
		h(w, r)
	}
}

func (f *fakeKeycloak) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := strings.ToLower(q.Get("username"))
	out := []map[string]any{}
	for _, u := range f.users {
		un := u["username"].(string)
		if (q.Get("exact") == "true" && un == name) || (q.Get("exact") != "true" && strings.Contains(un, name)) {
			out = append(out, u)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (f *fakeKeycloak) getUser(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(f.users[r.PathValue("id")])
}

// putUser updates the fields present in the representation, as Keycloak's
// UserResource.updateUser does; the id cannot change.
func (f *fakeKeycloak) putUser(w http.ResponseWriter, r *http.Request) {
	var rep map[string]any
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
		kcError(w, 400, map[string]string{"error": "unable to read contents from stream"})
		return
	}
	u := f.users[r.PathValue("id")]
	for k, v := range rep {
		if k == "id" {
			continue
		}
		if k == "enabled" {
			if _, ok := v.(bool); !ok {
				kcError(w, 400, map[string]string{"error": "enabled must be a boolean"})
				return
			}
		}
		u[k] = v
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeKeycloak) logout(w http.ResponseWriter, r *http.Request) {
	f.sessions[r.PathValue("id")] = 0
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeKeycloak) listSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	out := []map[string]any{}
	for i := range f.sessions[id] {
		out = append(out, map[string]any{"id": fmt.Sprint("s", i), "username": f.users[id]["username"], "userId": id,
			"ipAddress": "192.0.2.1", "start": 1767225600000, "lastAccess": 1767225600000, "rememberMe": false, "clients": map[string]any{}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
