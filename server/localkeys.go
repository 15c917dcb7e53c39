package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/detour-gateway/detour/keystore"
)

// LocalKeys manages Detour's own keys, those clients present when local
// auth is on. No method returns a key except Add, once.
type LocalKeys interface {
	// List reports whether local auth is on and which keys exist.
	List(ctx context.Context) (LocalKeyList, error)
	// Add makes a key called name and returns it; ErrLocalKeyExists when
	// the name is taken.
	Add(ctx context.Context, name string) (NewLocalKey, error)
	// Remove deletes the key called name; ErrUnknownKey when there is none.
	Remove(ctx context.Context, name string) error
}

// ErrLocalKeyExists is returned by LocalKeys.Add for a name in use.
var ErrLocalKeyExists = errors.New("a local key of that name exists")

// LocalKeyList is GET /api/v1/local-keys.
type LocalKeyList struct {
	// Auth is true when the model API requires a local key.
	Auth bool `json:"auth"`
	// Keys are the local keys, never their values.
	Keys []LocalKey `json:"keys"`
	// Error says why the keychain's keys could not be listed; "" when
	// they were.
	Error string `json:"error,omitempty"`
}

// LocalKey describes a local key.
type LocalKey struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created,omitzero"`
	// Source is "keychain", "env" ($DETOUR_API_KEY) or "config"
	// (general_settings.master_key).
	Source string `json:"source"`
}

// NewLocalKey is the answer to POST /api/v1/local-keys: the one time the
// key is shown.
type NewLocalKey struct {
	LocalKey
	Key string `json:"key"`
}

// listLocalKeys serves GET /api/v1/local-keys.
func (s *Server) listLocalKeys(w http.ResponseWriter, r *http.Request) {
	l, err := s.opts.LocalKeys.List(r.Context())
	if err != nil {
		l.Error = err.Error()
	}
	if l.Keys == nil {
		l.Keys = []LocalKey{}
	}
	writeJSON(w, l)
}

// addLocalKey serves POST /api/v1/local-keys with {"name": "…"}.
func (s *Server) addLocalKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if e := s.readJSON(w, r, &body); e != nil {
		writeError(w, e)
		return
	}
	if !keystore.ValidName(body.Name) {
		writeError(w, invalidRequest(fmt.Sprintf("invalid local key name %q: use letters, digits, '.', '_' or '-'", body.Name), "name"))
		return
	}
	k, err := s.opts.LocalKeys.Add(r.Context(), body.Name)
	switch {
	case errors.Is(err, ErrLocalKeyExists):
		writeError(w, &apiError{Status: http.StatusConflict, Body: errorDetail{Type: "invalid_request_error", Param: strPtr("name"),
			Message: fmt.Sprintf("a local key named %q exists; remove it first or pick another name", body.Name)}})
	case err != nil:
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Body: errorDetail{Type: "server_error", Message: err.Error()}})
	default:
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, k)
	}
}

// removeLocalKey serves DELETE /api/v1/local-keys/{name}.
func (s *Server) removeLocalKey(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := s.opts.LocalKeys.Remove(r.Context(), name)
	switch {
	case errors.Is(err, ErrUnknownKey):
		writeError(w, &apiError{Status: http.StatusNotFound, Body: errorDetail{Type: "invalid_request_error",
			Message: fmt.Sprintf("no local key named %q in the keychain", name)}})
	case err != nil:
		writeError(w, &apiError{Status: http.StatusServiceUnavailable, Body: errorDetail{Type: "server_error", Message: err.Error()}})
	default:
		writeJSON(w, struct {
			Deleted string `json:"deleted"`
		}{name})
	}
}
