package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router"
)

// readHints reads what a request asks of routing, and removes from the
// body what no provider would accept: LiteLLM's "fallbacks" and
// "disable_fallbacks", and the tags inside "metadata".
//
//   - tags: body metadata.tags (an array of strings) or the x-detour-tags
//     header (comma-separated); both count;
//   - session: the x-detour-session header, else the user field;
//   - fallbacks: body "fallbacks", an array of model groups, replacing the
//     configured ones for this request; "disable_fallbacks": true.
func readHints(h http.Header, req *chat.Request) (router.Hints, *apiError) {
	var hints router.Hints
	for _, t := range strings.Split(h.Get("X-Detour-Tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			hints.Tags = append(hints.Tags, t)
		}
	}
	if raw, ok := req.Extra["metadata"]; ok {
		var md map[string]json.RawMessage
		if json.Unmarshal(raw, &md) == nil {
			if tags, ok := md["tags"]; ok {
				var list []string
				if err := json.Unmarshal(tags, &list); err != nil {
					return hints, invalidRequest("metadata.tags must be an array of strings", "metadata.tags")
				}
				hints.Tags = append(hints.Tags, list...)
				delete(md, "tags")
				if len(md) == 0 {
					delete(req.Extra, "metadata")
				} else if b, err := json.Marshal(md); err == nil {
					req.Extra["metadata"] = b
				}
			}
		}
	}
	hints.Session = strings.TrimSpace(h.Get("X-Detour-Session"))
	if hints.Session == "" {
		hints.Session = req.User
	}
	if raw, ok := req.Extra["fallbacks"]; ok {
		delete(req.Extra, "fallbacks")
		if err := json.Unmarshal(raw, &hints.Fallbacks); err != nil {
			return hints, invalidRequest("fallbacks must be an array of model groups", "fallbacks")
		}
		if hints.Fallbacks == nil {
			hints.Fallbacks = []string{}
		}
	}
	if raw, ok := req.Extra["disable_fallbacks"]; ok {
		delete(req.Extra, "disable_fallbacks")
		if err := json.Unmarshal(raw, &hints.DisableFallbacks); err != nil {
			return hints, invalidRequest("disable_fallbacks must be true or false", "disable_fallbacks")
		}
	}
	return hints, nil
}
