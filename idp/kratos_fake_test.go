package idp_test

import (
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKratos reproduces the parts of the Ory Kratos admin API the
// connector uses, with Kratos's status codes and JSON shapes: bearer auth,
// identities with state and metadata_admin, RFC 6902 JSON Patch on
// PATCH /admin/identities/{id}, and DELETE .../sessions answering 404 when
// there is no session to delete (ory/kratos#2382).
type fakeKratos struct {
	mu         sync.Mutex
	apiKey     string
	identities map[string]map[string]any
	sessions   map[string]int
	calls      map[string]int
}

func newFakeKratos(t *testing.T) (*fakeKratos, *httptest.Server) {
	f := &fakeKratos{apiKey: "ory_pat_test", identities: map[string]map[string]any{}, sessions: map[string]int{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/identities/{id}", f.auth(f.get))
	mux.HandleFunc("PATCH /admin/identities/{id}", f.auth(f.patch))
	mux.HandleFunc("DELETE /admin/identities/{id}/sessions", f.auth(f.deleteSessions))
	mux.HandleFunc("GET /admin/identities/{id}/sessions", f.auth(f.listSessions))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeKratos) addIdentity(sessions int, metadataAdmin any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.ToLower(rand.Text()[:8]) + "-4b1e-4c1e-9f1e-000000000001"
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.identities[id] = map[string]any{"id": id, "schema_id": "default", "schema_url": "http://kratos/schemas/ZGVmYXVsdA",
		"state": "active", "state_changed_at": now, "traits": map[string]any{"email": id + "@example.com"},
		"verifiable_addresses": []any{}, "recovery_addresses": []any{}, "metadata_public": nil,
		"metadata_admin": metadataAdmin, "created_at": now, "updated_at": now, "organization_id": nil}
	f.sessions[id] = sessions
	return id
}

func (f *fakeKratos) identity(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.identities[id])
}

func krError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "status": http.StatusText(status), "message": msg}})
}

func (f *fakeKratos) auth(h func(w http.ResponseWriter, r *http.Request, ident map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.apiKey {
			krError(w, 401, "The request could not be authorized")
			return
		}
		f.calls[r.Pattern]++
		ident := f.identities[r.PathValue("id")]
		if ident == nil {
			krError(w, 404, "Unable to locate the resource")
			return
		}
		h(w, r, ident)
	}
}

func (f *fakeKratos) get(w http.ResponseWriter, r *http.Request, ident map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ident)
}

// patch applies add, remove and replace operations, refusing the whole
// patch (400, nothing changed) if one fails, as RFC 6902 requires.
func (f *fakeKratos) patch(w http.ResponseWriter, r *http.Request, ident map[string]any) {
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ops); err != nil {
		krError(w, 400, "The request was malformed or contained invalid parameters")
		return
	}
	work := map[string]any{}
	b, _ := json.Marshal(ident)
	json.Unmarshal(b, &work)
	for _, op := range ops {
		parts := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
		if parts[0] != "state" && parts[0] != "metadata_admin" && parts[0] != "metadata_public" && parts[0] != "traits" {
			krError(w, 400, "patch of "+op.Path+" is not allowed")
			return
		}
		parent := work
		for _, p := range parts[:len(parts)-1] {
			next, ok := parent[p].(map[string]any)
			if !ok {
				krError(w, 400, "add operation does not apply: doc is missing path: "+op.Path)
				return
			}
			parent = next
		}
		last := parts[len(parts)-1]
		_, exists := parent[last]
		switch {
		case op.Op == "add":
			parent[last] = op.Value
		case (op.Op == "remove" || op.Op == "replace") && !exists:
			krError(w, 400, op.Op+" operation does not apply: doc is missing key: "+op.Path)
			return
		case op.Op == "remove":
			delete(parent, last)
		case op.Op == "replace":
			parent[last] = op.Value
		default:
			krError(w, 400, "unsupported op "+op.Op)
			return
		}
	}
	if s := work["state"]; s != "active" && s != "inactive" {
		krError(w, 400, "state must be active or inactive")
		return
	}
	maps.Copy(ident, work)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ident)
}

func (f *fakeKratos) deleteSessions(w http.ResponseWriter, r *http.Request, ident map[string]any) {
	id := r.PathValue("id")
	if f.sessions[id] == 0 {
		krError(w, 404, "Unable to locate the resource")
		return
	}
	f.sessions[id] = 0
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeKratos) listSessions(w http.ResponseWriter, r *http.Request, ident map[string]any) {
	out := []map[string]any{}
	for range f.sessions[r.PathValue("id")] {
		out = append(out, map[string]any{"id": rand.Text(), "active": true, "identity": map[string]any{"id": ident["id"]}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
