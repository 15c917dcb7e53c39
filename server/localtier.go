package server

import (
	"context"
	"fmt"
)

// The states of the local tier (detour.offline: a local Ollama), as
// LocalTierState.State and the status of GET /api/v1/stats say them.
const (
	// LocalTierReady: Ollama answers and the model the tier would use is
	// pulled, so requests are answered while offline.
	LocalTierReady = "ready"
	// LocalTierNotRunning: nothing listens where Ollama should be.
	LocalTierNotRunning = "not_running"
	// LocalTierFailing: something is there but Ollama's list of models
	// could not be read (an error answer, no answer in time).
	LocalTierFailing = "failing"
	// LocalTierNoModel: Ollama runs but has not pulled the configured
	// model, or, with none configured, any chat model.
	LocalTierNoModel = "no_model"
	// LocalTierDisabled: detour.offline.enabled is false.
	LocalTierDisabled = "disabled"
	// LocalTierUnknown: nobody checked (Options.LocalTier is nil).
	LocalTierUnknown = "unknown"
)

// LocalTierState is what the local tier can do now, as a check of the
// running Ollama found it.
type LocalTierState struct {
	// State is one of the LocalTier constants.
	State string `json:"state"`
	// Model is the local model that answers (LocalTierReady), or the
	// configured one that is missing (LocalTierNoModel).
	Model string `json:"model,omitempty"`
	// Message says what is wrong and how to put it right; "" when
	// nothing is.
	Message string `json:"message,omitempty"`
}

// LocalTierFunc checks the local tier; see Options.LocalTier.
type LocalTierFunc func(ctx context.Context) LocalTierState

// localTier checks the local tier for the status, or says it is unknown.
func (s *Server) localTier(ctx context.Context) LocalTierState {
	if s.opts.LocalTier == nil {
		return LocalTierState{State: LocalTierUnknown}
	}
	st := s.opts.LocalTier(ctx)
	if st.State == "" {
		st.State = LocalTierUnknown
	}
	return st
}

// offlineReason is the status reason while offline: what the local tier
// does about it, in words that claim no more than the check found.
func offlineReason(t LocalTierState) string {
	const net = "the network is unreachable, so the cloud providers are skipped"
	var s string
	switch t.State {
	case LocalTierReady:
		s = net + "; the local Ollama tier answers"
		if t.Model != "" {
			s += fmt.Sprintf(" with %s", t.Model)
		}
	case LocalTierNotRunning:
		s = net + ", and Ollama is not running: every request fails"
	case LocalTierFailing:
		s = net + ", and Ollama is failing: every request fails"
	case LocalTierNoModel:
		s = net + ", and Ollama has no model to answer with: every request fails"
	case LocalTierDisabled:
		return net + ", and the local tier is off (detour.offline.enabled): every request fails"
	default:
		return net + "; the local Ollama tier answers if Ollama runs with a model pulled"
	}
	if t.Message != "" {
		s += " (" + t.Message + ")"
	}
	return s
}
