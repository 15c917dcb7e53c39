package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/detour-gateway/detour/app"
	"github.com/detour-gateway/detour/router/provider/openai/openaitest"
)

// postResponses posts body to the Responses API at url ("…/v1").
func postResponses(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	return postMessages(t, url+"/responses", body) // the Anthropic headers are ignored there
}

// TestResponsesFaults: an upstream that fails before the first byte fails
// over; one that breaks after content ends the client's stream with
// response.failed, never response.completed.
func TestResponsesFaults(t *testing.T) {
	tests := []struct {
		name     string
		reply    openaitest.Reply
		stream   bool
		failover bool
		last     string
	}{
		{"500 before the answer", openaitest.Status(500, `{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`), false, true, ""},
		{"500 before the stream", openaitest.Status(500, `{"error":{"message":"boom","type":"server_error","param":null,"code":null}}`), true, true, "response.completed"},
		{"error event after content", openaitest.Reply{Fault: openaitest.ErrorEventMidStream}, true, false, "response.failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := openaitest.New(t, tt.reply)
			good := openaitest.New(t, openaitest.Reply{Text: "From the backup."})
			s := serve(t, "model_list:\n"+deployment(bad, "gpt", "gpt-4.1", "      order: 1\n")+deployment(good, "gpt", "gpt-4o", "      order: 2\n")+
				"router_settings: {num_retries: 1, allowed_fails: 0}\n", app.Options{}, false)
			resp, got := postResponses(t, s.url, fmt.Sprintf(`{"model":"gpt","input":"hi","stream":%t}`, tt.stream))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if backup := resp.Header.Get("X-Detour-Deployment") == s.cfg.Models[1].ID; backup != tt.failover {
				t.Errorf("answered by %s; failover wanted: %t", resp.Header.Get("X-Detour-Deployment"), tt.failover)
			}
			if !tt.stream {
				var r struct{ Status string }
				if json.Unmarshal(got, &r); r.Status != "completed" || !strings.Contains(string(got), "From the backup.") {
					t.Errorf("answer = %s", got)
				}
				return
			}
			events := sseEvents(t, got)
			if events[0] != "response.created" || events[len(events)-1] != tt.last {
				t.Errorf("events %v, want the last to be %s", events, tt.last)
			}
		})
	}
}

// TestResponsesStoredConversation: previous_response_id continues the
// stored conversation (its instructions not carried over), the upstream
// gets the whole history, and a response stored with store:false is not
// found.
func TestResponsesStoredConversation(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "First answer."}, openaitest.Reply{Text: "Second answer."})
	s := serve(t, "model_list:\n"+deployment(up, "gpt", "gpt-4.1"), app.Options{}, false)
	_, got := postResponses(t, s.url, `{"model":"gpt","instructions":"Be terse.","input":"first question"}`)
	var first struct{ ID string }
	json.Unmarshal(got, &first)
	if !strings.HasPrefix(first.ID, "resp_") {
		t.Fatalf("first = %s", got)
	}
	resp, got := postResponses(t, s.url, fmt.Sprintf(`{"model":"gpt","previous_response_id":%q,"input":"second question"}`, first.ID))
	if resp.StatusCode != 200 || !strings.Contains(string(got), "Second answer.") {
		t.Fatalf("second: %d %s", resp.StatusCode, got)
	}
	msgs := up.Requests()[1].Body["messages"].([]any)
	var roles []string
	for _, m := range msgs {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if strings.Join(roles, ",") != "user,assistant,user" {
		t.Errorf("the second request's roles are %v, want the first turn, its answer and the new question (no instructions)", roles)
	}
	_, got = postResponses(t, s.url, `{"model":"gpt","store":false,"input":"x"}`)
	var unstored struct{ ID string }
	json.Unmarshal(got, &unstored)
	if r, err := http.Get(s.url + "/responses/" + unstored.ID); err != nil || r.StatusCode != 404 {
		t.Errorf("a response with store:false was found: %v %v", r.StatusCode, err)
	}
}

// TestResponsesPassthrough: a deployment that speaks the Responses API
// gets the client's bytes (only model set) and the client its bytes, whole
// and streamed; the answer is stored under the upstream's id, and a turn
// that continues it is served from Detour's store.
func TestResponsesPassthrough(t *testing.T) {
	up := openaitest.New(t, openaitest.Reply{Text: "Native answer."})
	s := serve(t, "model_list:\n"+deployment(up, "gpt", "gpt-4.1", "      responses_api: true\n"), app.Options{}, false)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%t", stream), func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"gpt","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"stream":%t,"prompt_cache_key":"k1","x_unknown":{"kept":true}}`, stream)
			resp, got := postResponses(t, s.url, body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			reqs := up.Requests()
			sent := reqs[len(reqs)-1]
			if sent.Path != "/v1/responses" || string(sent.Raw) != strings.Replace(body, `"model":"gpt"`, `"model":"gpt-4.1"`, 1) {
				t.Errorf("the upstream got %s %s", sent.Path, sent.Raw)
			}
			if !strings.Contains(string(got), "Native answer.") || !strings.Contains(string(got), `resp_fake`) {
				t.Errorf("the client did not get the upstream's answer: %s", got)
			}
		})
	}
	// The whole answer's id is the upstream's; continuing it is served
	// from the store, translated (the upstream may not hold it).
	_, got := postResponses(t, s.url, `{"model":"gpt","input":"first"}`)
	var first struct{ ID string }
	json.Unmarshal(got, &first)
	resp, got := postResponses(t, s.url, fmt.Sprintf(`{"model":"gpt","previous_response_id":%q,"input":"second"}`, first.ID))
	if resp.StatusCode != 200 {
		t.Fatalf("continuing %s: %d %s", first.ID, resp.StatusCode, got)
	}
	last := up.Requests()[len(up.Requests())-1]
	if last.Path != "/v1/chat/completions" || len(last.Body["messages"].([]any)) != 3 {
		t.Errorf("the continued turn went to %s with %v", last.Path, last.Body["messages"])
	}
}
