package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/detour-gateway/detour/keystore"
)

// Keys is what the keys API manages: the API keys in the OS keychain. No
// method ever returns a key's value.
type Keys interface {
	// List reports each key name Detour knows of and its state.
	List(ctx context.Context) []KeyState
	// Set stores value under name, replacing what was there.
	Set(ctx context.Context, name, value string) error
	// Delete removes name; ErrUnknownKey when there is none.
	Delete(ctx context.Context, name string) error
	// Test probes the deployments that use name and reports the result.
	Test(ctx context.Context, name string) KeyTest
}

// ErrUnknownKey is returned by Keys.Delete for a name the keychain does
// not hold.
var ErrUnknownKey = errors.New("no such key")

// KeyState is one key name's state; never its value.
type KeyState struct {
	Name string `json:"name"`
	// Keychain is "set", "missing" or "unavailable" (no keychain reachable).
	Keychain string `json:"keychain"`
	// Env is the environment variable tried after the keychain, and
	// whether it is set.
	Env    string `json:"env,omitempty"`
	EnvSet bool   `json:"env_set"`
	// Deployments are the ids of the deployments using this key.
	Deployments []string `json:"deployments"`
	// Failing is true when a deployment using it was last refused by its
	// provider for authentication.
	Failing bool `json:"failing"`
}

// KeyTest is the result of testing a key against its deployments.
type KeyTest struct {
	Name    string         `json:"name"`
	OK      bool           `json:"ok"`
	Results []KeyTestEntry `json:"results"`
}

// KeyTestEntry is one deployment's answer to the test.
type KeyTestEntry struct {
	Deployment string `json:"deployment"`
	OK         bool   `json:"ok"`
	Class      string `json:"class,omitempty"`
	Message    string `json:"message,omitempty"`
}

func (s *Server) keyName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !keystore.ValidName(name) {
		writeError(w, invalidRequest(fmt.Sprintf("invalid key name %q: use letters, digits, '.', '_' or '-'", name), "name"))
		return "", false
	}
	return name, true
}

// listKeys serves GET /api/v1/keys.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, struct {
		Data []KeyState `json:"data"`
	}{s.opts.Keys.List(r.Context())})
}

// setKey serves PUT /api/v1/keys/{name} with {"value": "…"}. The answer
// holds the key's state, never its value.
func (s *Server) setKey(w http.ResponseWriter, r *http.Request) {
	name, ok := s.keyName(w, r)
	if !ok {
		return
	}
	var body struct {
		Value string `json:"value"`
	}
	if e := s.readJSON(w, r, &body); e != nil {
		writeError(w, e)
		return
	}
	if body.Value == "" {
		writeError(w, invalidRequest("value must be the API key", "value"))
		return
	}
	if err := s.opts.Keys.Set(r.Context(), name, body.Value); err != nil {
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Body: errorDetail{Type: "server_error", Message: err.Error()}})
		return
	}
	s.writeKeyState(w, r, name)
}

// deleteKey serves DELETE /api/v1/keys/{name}.
func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	name, ok := s.keyName(w, r)
	if !ok {
		return
	}
	err := s.opts.Keys.Delete(r.Context(), name)
	switch {
	case errors.Is(err, ErrUnknownKey):
		writeError(w, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error",
			Message: fmt.Sprintf("no key named %q in the keychain", name)}})
	case err != nil:
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Body: errorDetail{Type: "server_error", Message: err.Error()}})
	default:
		s.writeKeyState(w, r, name)
	}
}

// testKey serves POST /api/v1/keys/{name}/test.
func (s *Server) testKey(w http.ResponseWriter, r *http.Request) {
	if name, ok := s.keyName(w, r); ok {
		writeJSON(w, s.opts.Keys.Test(r.Context(), name))
	}
}

func (s *Server) writeKeyState(w http.ResponseWriter, r *http.Request, name string) {
	for _, k := range s.opts.Keys.List(r.Context()) {
		if k.Name == name {
			writeJSON(w, k)
			return
		}
	}
	writeJSON(w, KeyState{Name: name, Keychain: "set"})
}
