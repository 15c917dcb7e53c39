package openai_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider/openai"
	"github.com/detour-gateway/detour/router/provider/providertest"
)

// responsesTools are the tools of the tool cases, as a Responses client
// sends them.
const responsesTools = `"tools":[
	{"type":"function","name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true},
	{"type":"function","name":"now"}]`

// chatTools are responsesTools in the chat shape.
const chatTools = `"tools":[
	{"type":"function","function":{"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}},
	{"type":"function","function":{"name":"now"}}]`

// agentTools are the kinds of tools Codex CLI sends besides functions: a
// namespace of a function and a custom tool, a built-in tool, and a custom
// tool with a grammar.
const agentTools = `"tools":[
	{"type":"namespace","name":"multi_agent_v1","description":"Sub-agents.","tools":[
		{"type":"function","name":"spawn_agent","description":"Spawn an agent.","parameters":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]},"strict":false},
		{"type":"custom","name":"send_input","description":"Message an agent."}]},
	{"type":"web_search","external_web_access":true},
	{"type":"custom","name":"apply_patch","description":"Edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: \"*** Begin Patch\" LF"}}]`

// customParameters is the schema of the function a custom tool becomes.
const customParameters = `{"type":"object","properties":{"input":{"type":"string","description":"The free-form text input of the tool."}},"required":["input"],"additionalProperties":false}`

// chatAgentTools are agentTools in the chat shape: the namespace's tools
// flattened, custom tools functions of one string, no web_search.
const chatAgentTools = `"tools":[
	{"type":"function","function":{"name":"multi_agent_v1__spawn_agent","description":"Namespace multi_agent_v1: Sub-agents.\n\nSpawn an agent.",
		"parameters":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]},"strict":false}},
	{"type":"function","function":{"name":"multi_agent_v1__send_input",
		"description":"Message an agent.\n\nThis tool takes free-form text, not JSON: pass the whole text as the string argument \"input\".",
		"parameters":` + customParameters + `}},
	{"type":"function","function":{"name":"apply_patch",
		"description":"Edit files.\n\nThis tool takes free-form text, not JSON: pass the whole text as the string argument \"input\". The text must follow this lark grammar:\nstart: \"*** Begin Patch\" LF",
		"parameters":` + customParameters + `}}]`

// decodeResponses decodes body, failing the test on an error.
func decodeResponses(t *testing.T, body string) *openai.ResponsesRequest {
	t.Helper()
	r, err := openai.DecodeResponsesRequest([]byte(body))
	if err != nil {
		t.Fatalf("DecodeResponsesRequest: %v\n%s", err, body)
	}
	return r
}

// sameJSON fails the test unless got encodes to the JSON document want,
// compared structurally.
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	var g, w any
	if err := json.Unmarshal(gotJSON, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: the wanted JSON is broken: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		gp, _ := json.MarshalIndent(g, "", "  ")
		wp, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("%s:\ngot  %s\nwant %s", what, gp, wp)
	}
}

func TestResponsesRequestChat(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		history string // a JSON array of chat messages
		want    string // the chat request
	}{
		{"string input",
			`{"model":"main-llm","input":"Hello"}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hello"}]}`},
		{"instructions lead history and input",
			`{"model":"main-llm","instructions":"Be terse.","input":"And now?","previous_response_id":"resp_1"}`,
			`[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]`,
			`{"model":"main-llm","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"},
				{"role":"assistant","content":"Hello!"},{"role":"user","content":"And now?"}]}`},
		{"empty instructions are no message",
			`{"model":"main-llm","instructions":"","input":"Hi"}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}]}`},
		{"message items with parts",
			`{"model":"main-llm","input":[
				{"role":"developer","content":"Answer in French."},
				{"type":"message","role":"system","content":[{"type":"input_text","text":"Be brief."}]},
				{"role":"user","content":[{"type":"input_text","text":"Context: maps."},{"type":"input_text","text":"Capital of France?"}]},
				{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Paris.","annotations":[]}]},
				{"type":"message","role":"user","content":[{"type":"input_text","text":"Thanks"}]}]}`, ``,
			`{"model":"main-llm","messages":[
				{"role":"developer","content":"Answer in French."},
				{"role":"system","content":"Be brief."},
				{"role":"user","content":[{"type":"text","text":"Context: maps."},{"type":"text","text":"Capital of France?"}]},
				{"role":"assistant","content":"Paris."},
				{"role":"user","content":"Thanks"}]}`},
		{"function calls and their outputs pair by call_id",
			`{"model":"main-llm","input":[
				{"role":"user","content":"Weather in Paris and Oslo, and the time?"},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
				{"type":"function_call","id":"fc_1","call_id":"call_a","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
				{"type":"function_call","call_id":"call_b","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},
				{"type":"function_call_output","call_id":"call_a","output":"18°C"},
				{"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"-2°C"}]},
				{"type":"function_call","call_id":"call_c","name":"now","arguments":""},
				{"type":"function_call_output","call_id":"call_c","output":"noon"}],` + responsesTools + `,
				"tool_choice":"required","parallel_tool_calls":true}`, ``,
			`{"model":"main-llm","messages":[
				{"role":"user","content":"Weather in Paris and Oslo, and the time?"},
				{"role":"assistant","content":"Checking.","tool_calls":[
					{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
					{"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
				{"role":"tool","tool_call_id":"call_a","content":"18°C"},
				{"role":"tool","tool_call_id":"call_b","content":"-2°C"},
				{"role":"assistant","content":null,"tool_calls":[{"id":"call_c","type":"function","function":{"name":"now","arguments":""}}]},
				{"role":"tool","tool_call_id":"call_c","content":"noon"}],` + chatTools + `,
				"tool_choice":"required","parallel_tool_calls":true}`},
		{"output of a call in the history",
			`{"model":"main-llm","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_x","output":"42"}]}`,
			`[{"role":"user","content":"Answer?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_x","type":"function","function":{"name":"answer","arguments":"{}"}}]}]`,
			`{"model":"main-llm","messages":[{"role":"user","content":"Answer?"},
				{"role":"assistant","content":null,"tool_calls":[{"id":"call_x","type":"function","function":{"name":"answer","arguments":"{}"}}]},
				{"role":"tool","tool_call_id":"call_x","content":"42"}]}`},
		{"images and files",
			`{"model":"main-llm","input":[{"role":"user","content":[
				{"type":"input_text","text":"What are these?"},
				{"type":"input_image","image_url":"https://example.com/cat.png","detail":"low"},
				{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo"},
				{"type":"input_image","image_url":{"url":"https://example.com/dog.png","detail":"high"}},
				{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}]}]}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":[
				{"type":"text","text":"What are these?"},
				{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},
				{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo"}},
				{"type":"image_url","image_url":{"url":"https://example.com/dog.png","detail":"high"}},
				{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"a.pdf"}}]}]}`},
		{"image in a function call output",
			`{"model":"main-llm","input":[{"type":"function_call","call_id":"call_s","name":"screenshot","arguments":"{}"},
				{"type":"function_call_output","call_id":"call_s","output":[{"type":"input_text","text":"Screen:"},{"type":"input_image","image_url":"https://example.com/s.png"}]}]}`, ``,
			`{"model":"main-llm","messages":[
				{"role":"assistant","content":null,"tool_calls":[{"id":"call_s","type":"function","function":{"name":"screenshot","arguments":"{}"}}]},
				{"role":"tool","tool_call_id":"call_s","content":[{"type":"text","text":"Screen:"},{"type":"image_url","image_url":{"url":"https://example.com/s.png"}}]}]}`},
		{"json schema format",
			`{"model":"main-llm","input":"Who?","text":{"format":{"type":"json_schema","name":"person","description":"A person",
				"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false},"strict":true},"verbosity":"low"}}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Who?"}],
				"response_format":{"type":"json_schema","json_schema":{"name":"person","description":"A person",
					"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false},"strict":true}},
				"verbosity":"low"}`},
		{"json object format",
			`{"model":"main-llm","input":"List three.","text":{"format":{"type":"json_object"}}}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"List three."}],"response_format":{"type":"json_object"}}`},
		{"text format is the default",
			`{"model":"main-llm","input":"Hi","text":{"format":{"type":"text"}}}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}]}`},
		{"reasoning, sampling and stream; what stays in Detour is not sent",
			`{"model":"main-llm","input":"Hi","reasoning":{"effort":"high","summary":"auto"},"max_output_tokens":500,
				"temperature":0.2,"top_p":0.9,"stream":true,"store":false,"metadata":{"k":"v"},"user":"u-1",
				"truncation":"auto","include":["reasoning.encrypted_content"],"prompt_cache_key":"conv-1"}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true},
				"max_completion_tokens":500,"temperature":0.2,"top_p":0.9,"reasoning_effort":"high"}`},
		{"reasoning goes to the assistant message after it",
			`{"model":"main-llm","input":[
				{"role":"user","content":"Weather?"},
				{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Need a city."},{"type":"summary_text","text":"Assume Paris."}],"encrypted_content":"gAAAA"},
				{"type":"function_call","call_id":"call_a","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
				{"type":"function_call_output","call_id":"call_a","output":"18°C"},
				{"type":"reasoning","id":"rs_2","summary":[{"type":"summary_text","text":"A summary."}],"content":[{"type":"reasoning_text","text":"The raw thought."}]},
				{"type":"message","role":"assistant","content":[{"type":"output_text","text":"18°C in Paris."}]},
				{"type":"reasoning","id":"rs_3","summary":[{"type":"summary_text","text":"Dropped: a user message follows."}]},
				{"role":"user","content":"Thanks"}]}`, ``,
			`{"model":"main-llm","messages":[
				{"role":"user","content":"Weather?"},
				{"role":"assistant","content":null,"reasoning_content":"Need a city.\n\nAssume Paris.",
					"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
				{"role":"tool","tool_call_id":"call_a","content":"18°C"},
				{"role":"assistant","content":"18°C in Paris.","reasoning_content":"The raw thought."},
				{"role":"user","content":"Thanks"}]}`},
		{"refusal in an assistant message",
			`{"model":"main-llm","input":[{"role":"user","content":"Bad idea?"},
				{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]},
				{"role":"user","content":"OK"}]}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Bad idea?"},
				{"role":"assistant","content":null,"refusal":"I can't help with that."},{"role":"user","content":"OK"}]}`},
		{"tool_choice naming a function",
			`{"model":"main-llm","input":"Weather in Oslo",` + responsesTools + `,"tool_choice":{"type":"function","name":"get_weather"}}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Weather in Oslo"}],` + chatTools + `,
				"tool_choice":{"type":"function","function":{"name":"get_weather"}}}`},
		{"namespace, custom and built-in tools; calls of them",
			`{"model":"main-llm","input":[
				{"role":"user","content":"Add hello.txt and have it reviewed."},
				{"type":"custom_tool_call","status":"completed","call_id":"call_p","name":"apply_patch","input":"*** Begin Patch <&>"},
				{"type":"function_call","call_id":"call_s","namespace":"multi_agent_v1","name":"spawn_agent","arguments":"{\"message\":\"Review\"}"},
				{"type":"custom_tool_call_output","call_id":"call_p","output":"Done."},
				{"type":"function_call_output","call_id":"call_s","output":"agent_7"},
				{"type":"custom_tool_call","call_id":"call_m","namespace":"multi_agent_v1","name":"send_input","input":"agent_7: hurry"},
				{"type":"custom_tool_call_output","call_id":"call_m","output":[{"type":"input_text","text":"sent"}]}],` + agentTools + `,
				"tool_choice":{"type":"custom","name":"apply_patch"},"parallel_tool_calls":false}`, ``,
			`{"model":"main-llm","messages":[
				{"role":"user","content":"Add hello.txt and have it reviewed."},
				{"role":"assistant","content":null,"tool_calls":[
					{"id":"call_p","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch <&>\"}"}},
					{"id":"call_s","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"message\":\"Review\"}"}}]},
				{"role":"tool","tool_call_id":"call_p","content":"Done."},
				{"role":"tool","tool_call_id":"call_s","content":"agent_7"},
				{"role":"assistant","content":null,"tool_calls":[
					{"id":"call_m","type":"function","function":{"name":"multi_agent_v1__send_input","arguments":"{\"input\":\"agent_7: hurry\"}"}}]},
				{"role":"tool","tool_call_id":"call_m","content":"sent"}],` + chatAgentTools + `,
				"tool_choice":{"type":"function","function":{"name":"apply_patch"}},"parallel_tool_calls":false}`},
		{"tool_choice naming a namespace's function",
			`{"model":"main-llm","input":"Spawn one.",` + agentTools + `,"tool_choice":{"type":"function","namespace":"multi_agent_v1","name":"spawn_agent"}}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Spawn one."}],` + chatAgentTools + `,
				"tool_choice":{"type":"function","function":{"name":"multi_agent_v1__spawn_agent"}}}`},
		{"only built-in tools: no tools, no tool settings",
			`{"model":"main-llm","input":"Hi","tools":[{"type":"web_search"},{"type":"image_generation"}],"tool_choice":"auto","parallel_tool_calls":true}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}]}`},
		{"tool settings without tools are not sent",
			`{"model":"main-llm","input":"Hi","tool_choice":"none","parallel_tool_calls":false,"tools":[]}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}]}`},
		{"nulls are absent members",
			`{"model":"main-llm","input":"Hi","instructions":null,"tools":null,"tool_choice":null,"text":null,"reasoning":null,
				"metadata":null,"max_output_tokens":null,"temperature":null,"previous_response_id":null,"store":null,"stream":null,"background":null}`, ``,
			`{"model":"main-llm","messages":[{"role":"user","content":"Hi"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeResponses(t, tt.body)
			var history []chat.Message
			if tt.history != "" {
				if err := json.Unmarshal([]byte(tt.history), &history); err != nil {
					t.Fatal(err)
				}
			}
			req, err := r.Chat(history)
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			sameJSON(t, "chat request", req, tt.want)
		})
	}
}

func TestResponsesRequestFields(t *testing.T) {
	tests := []struct {
		name, body     string
		stream, store  bool
		previous, user string
	}{
		{"defaults", `{"model":"m","input":"Hi"}`, false, true, "", ""},
		{"set", `{"model":"m","input":"Hi","stream":true,"store":false,"previous_response_id":"resp_7","user":"u"}`, true, false, "resp_7", "u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeResponses(t, tt.body)
			if r.Model != "m" || r.Stream != tt.stream || r.Store != tt.store || r.PreviousResponseID != tt.previous || r.User != tt.user {
				t.Errorf("got model %q stream %v store %v previous %q user %q", r.Model, r.Stream, r.Store, r.PreviousResponseID, r.User)
			}
		})
	}
}

func TestResponsesRequestInputMessages(t *testing.T) {
	r := decodeResponses(t, `{"model":"m","instructions":"Not stored.","input":[{"role":"user","content":"Hi"},
		{"type":"function_call","call_id":"call_1","name":"now","arguments":"{}"},{"type":"function_call_output","call_id":"call_1","output":"noon"}]}`)
	sameJSON(t, "input messages", r.InputMessages(), `[{"role":"user","content":"Hi"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"now","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"noon"}]`)
}

func TestResponsesRequestErrors(t *testing.T) {
	in := func(items string) string { return `{"model":"m","input":[` + items + `]}` }
	tests := []struct {
		name, body, param, says string
	}{
		{"not JSON", `{"model":`, "", "not valid JSON"},
		{"not an object", `["model"]`, "", "JSON object"},
		{"no model", `{"input":"Hi"}`, "model", "model is required"},
		{"model not a string", `{"model":5,"input":"Hi"}`, "model", "type string"},
		{"temperature not a number", `{"model":"m","input":"Hi","temperature":"hot"}`, "temperature", "type number"},
		{"max_output_tokens not an integer", `{"model":"m","input":"Hi","max_output_tokens":"100"}`, "max_output_tokens", "type integer"},
		{"max_output_tokens zero", `{"model":"m","input":"Hi","max_output_tokens":0}`, "max_output_tokens", "positive"},
		{"background", `{"model":"m","input":"Hi","background":true}`, "background", "not supported"},
		{"conversation", `{"model":"m","input":"Hi","conversation":"conv_1"}`, "conversation", "not supported"},
		{"prompt template", `{"model":"m","prompt":{"id":"pmpt_1"}}`, "prompt", "not supported"},
		{"metadata not an object", `{"model":"m","input":"Hi","metadata":["k"]}`, "metadata", "object"},
		{"input a number", `{"model":"m","input":5}`, "input", "string or an array"},
		{"input item a string", in(`"Hi"`), "input[0]", "object"},
		{"unknown item type", in(`{"type":"web_search_call","id":"ws_1","status":"completed"}`), "input[0].type", `"web_search_call"`},
		{"item without type or role", in(`{"content":"Hi"}`), "input[0].type", "no type"},
		{"tool role", in(`{"role":"tool","content":"Hi"}`), "input[0].role", `"tool"`},
		{"message without role", in(`{"type":"message","content":"Hi"}`), "input[0].role", "required"},
		{"message without content", in(`{"role":"user"}`), "input[0].content", "required"},
		{"content an object", in(`{"role":"user","content":{"text":"Hi"}}`), "input[0].content", "string or an array"},
		{"part not an object", in(`{"role":"user","content":["Hi"]}`), "input[0].content[0]", "object"},
		{"part without type", in(`{"role":"user","content":[{"text":"Hi"}]}`), "input[0].content[0].type", "required"},
		{"unknown part type", in(`{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}`), "input[0].content[0].type", `"input_audio"`},
		{"image by file_id", in(`{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}`), "input[0].content[0].file_id", "file_id"},
		{"image without url", in(`{"role":"user","content":[{"type":"input_image","detail":"low"}]}`), "input[0].content[0].image_url", "required"},
		{"image url a number", in(`{"role":"user","content":[{"type":"input_image","image_url":5}]}`), "input[0].content[0].image_url", "type string"},
		{"image in an assistant message", in(`{"role":"assistant","content":[{"type":"input_image","image_url":"https://example.com/a.png"}]}`), "input[0].content[0].type", "only in user messages"},
		{"file by file_id", in(`{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}`), "input[0].content[0].file_id", "file_id"},
		{"file by url", in(`{"role":"user","content":[{"type":"input_file","file_url":"https://example.com/a.pdf"}]}`), "input[0].content[0].file_url", "file_url"},
		{"file without data", in(`{"role":"user","content":[{"type":"input_file","filename":"a.pdf"}]}`), "input[0].content[0].file_data", "required"},
		{"function call without call_id", in(`{"type":"function_call","name":"now","arguments":"{}"}`), "input[0].call_id", "required"},
		{"function call without name", in(`{"type":"function_call","call_id":"call_1","arguments":"{}"}`), "input[0].name", "required"},
		{"function call arguments an object", in(`{"type":"function_call","call_id":"call_1","name":"now","arguments":{}}`), "input[0].arguments", "type string"},
		{"output without call_id", in(`{"type":"function_call_output","output":"x"}`), "input[0].call_id", "required"},
		{"output without output", in(`{"type":"function_call","call_id":"call_1","name":"now","arguments":"{}"},{"type":"function_call_output","call_id":"call_1"}`), "input[1].output", "required"},
		{"output answering no call", in(`{"role":"user","content":"Hi"},{"type":"function_call_output","call_id":"call_zz","output":"x"}`), "input[1].call_id", `"call_zz"`},
		{"output before its call", in(`{"type":"function_call_output","call_id":"call_1","output":"x"},{"type":"function_call","call_id":"call_1","name":"now","arguments":"{}"}`), "input[0].call_id", "no function call"},
		{"reasoning summary not an array", in(`{"type":"reasoning","summary":"thinking"}`), "input[0].summary", "type array"},
		{"item_reference without id", in(`{"type":"item_reference"}`), "input[0].id", "required"},
		{"item_reference not resolved", in(`{"role":"user","content":"Hi"},{"type":"item_reference","id":"msg_abc_0"}`), "input[1].id", `"msg_abc_0"`},
		{"no input", `{"model":"m"}`, "input", "input is required"},
		{"empty input", `{"model":"m","input":[]}`, "input", "input is required"},
		{"tool without type", `{"model":"m","input":"Hi","tools":[{"name":"f"}]}`, "tools[0].type", "required"},
		{"tool type a number", `{"model":"m","input":"Hi","tools":[{"type":1}]}`, "tools[0].type", "type string"},
		{"function tool without name", `{"model":"m","input":"Hi","tools":[{"type":"function","parameters":{}}]}`, "tools[0].name", "required"},
		{"tools an object", `{"model":"m","input":"Hi","tools":{"type":"function","name":"f"}}`, "tools", "type array"},
		{"custom tool without name", `{"model":"m","input":"Hi","tools":[{"type":"custom","description":"d"}]}`, "tools[0].name", "required"},
		{"custom tool format a string", `{"model":"m","input":"Hi","tools":[{"type":"custom","name":"c","format":"lark"}]}`, "tools[0].format", "object"},
		{"namespace without name", `{"model":"m","input":"Hi","tools":[{"type":"namespace","tools":[{"type":"function","name":"f"}]}]}`, "tools[0].name", "required"},
		{"namespace tools an object", `{"model":"m","input":"Hi","tools":[{"type":"namespace","name":"ns","tools":{}}]}`, "tools[0].tools", "type array"},
		{"namespace tool without type", `{"model":"m","input":"Hi","tools":[{"type":"namespace","name":"ns","tools":[{"name":"f"}]}]}`, "tools[0].tools[0].type", "required"},
		{"namespace tool without name", `{"model":"m","input":"Hi","tools":[{"type":"namespace","name":"ns","tools":[{"type":"function"}]}]}`, "tools[0].tools[0].name", "required"},
		{"tool_choice unknown", `{"model":"m","input":"Hi","tool_choice":"any"}`, "tool_choice", `"any"`},
		{"tool_choice a built-in tool", `{"model":"m","input":"Hi","tool_choice":{"type":"web_search_preview"}}`, "tool_choice.type", `"web_search_preview"`},
		{"tool_choice a dropped tool", `{"model":"m","input":"Hi","tools":[{"type":"function","name":"f"},{"type":"web_search"}],"tool_choice":{"type":"web_search"}}`,
			"tool_choice.type", `"web_search" forces a built-in tool`},
		{"tool_choice required of dropped tools only", `{"model":"m","input":"Hi","tools":[{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]}],"tool_choice":"required"}`,
			"tool_choice", "web_search, file_search"},
		{"tool_choice allowed_tools", `{"model":"m","input":"Hi","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"}]}}`,
			"tool_choice.type", `"allowed_tools" is not supported`},
		{"tool_choice custom without name", `{"model":"m","input":"Hi","tools":[{"type":"custom","name":"c"}],"tool_choice":{"type":"custom"}}`, "tool_choice.name", "required"},
		{"custom tool call without call_id", in(`{"type":"custom_tool_call","name":"apply_patch","input":"x"}`), "input[0].call_id", "required"},
		{"custom tool call without name", in(`{"type":"custom_tool_call","call_id":"call_1","input":"x"}`), "input[0].name", "required"},
		{"custom tool call input an object", in(`{"type":"custom_tool_call","call_id":"call_1","name":"apply_patch","input":{}}`), "input[0].input", "type string"},
		{"custom output answering no call", in(`{"role":"user","content":"Hi"},{"type":"custom_tool_call_output","call_id":"call_zz","output":"x"}`),
			"input[1].call_id", `no custom tool call found for custom_tool_call_output with call_id "call_zz"`},
		{"custom output without output", in(`{"type":"custom_tool_call","call_id":"call_1","name":"c","input":"x"},{"type":"custom_tool_call_output","call_id":"call_1"}`), "input[1].output", "required"},
		{"tool_choice function without name", `{"model":"m","input":"Hi","tool_choice":{"type":"function"}}`, "tool_choice.name", "required"},
		{"tool_choice a number", `{"model":"m","input":"Hi","tool_choice":1}`, "tool_choice", "string or an object"},
		{"text not an object", `{"model":"m","input":"Hi","text":"json"}`, "text", "object"},
		{"unknown text format", `{"model":"m","input":"Hi","text":{"format":{"type":"grammar"}}}`, "text.format.type", `"grammar"`},
		{"json schema without name", `{"model":"m","input":"Hi","text":{"format":{"type":"json_schema","schema":{"type":"object"}}}}`, "text.format.name", "required"},
		{"json schema without schema", `{"model":"m","input":"Hi","text":{"format":{"type":"json_schema","name":"x"}}}`, "text.format.schema", "schema"},
		{"reasoning a string", `{"model":"m","input":"Hi","reasoning":"high"}`, "reasoning", "object"},
		{"reasoning effort a number", `{"model":"m","input":"Hi","reasoning":{"effort":3}}`, "reasoning.effort", "type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := responsesError(tt.body)
			var re *openai.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want a *RequestError", err, err)
			}
			if re.Param != tt.param || !strings.Contains(re.Message, tt.says) || re.Error() != re.Message {
				t.Errorf("got param %q message %q; want param %q and a message saying %q", re.Param, re.Message, tt.param, tt.says)
			}
		})
	}
}

// responsesError is the error of decoding body and making its chat
// request with no history.
func responsesError(body string) error {
	r, err := openai.DecodeResponsesRequest([]byte(body))
	if err != nil {
		return err
	}
	_, err = r.Chat(nil)
	return err
}

func TestItemResponseID(t *testing.T) {
	tests := []struct {
		item, resp string
		ok         bool
	}{
		{"msg_abc_0", "resp_abc", true},
		{"fc_abc_12", "resp_abc", true},
		{"ctc_abc_2", "resp_abc", true},
		{"rs_a_b_1", "resp_a_b", true},
		{"call_abc_0", "", false},
		{"msg_abc", "", false},
		{"msg__0", "", false},
		{"resp_abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.item, func(t *testing.T) {
			resp, ok := openai.ItemResponseID(tt.item)
			if resp != tt.resp || ok != tt.ok {
				t.Errorf("ItemResponseID(%q) = %q, %v; want %q, %v", tt.item, resp, ok, tt.resp, tt.ok)
			}
		})
	}
}

// chatResponse decodes a chat completion.
func chatResponse(t *testing.T, body string) *chat.Response {
	t.Helper()
	var r chat.Response
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestResolveItemReferences(t *testing.T) {
	first := openai.NewResponse("resp_r1", 1700000000, decodeResponses(t, `{"model":"m","input":"Capital of France?"}`),
		chatResponse(t, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
			"message":{"role":"assistant","content":"Paris.","reasoning_content":"Easy."},"finish_reason":"stop"}]}`))
	// The caller keeps responses as JSON, by id.
	stored := map[string][]byte{}
	b, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	stored[first.ID] = b
	lookup := func(id string) (openai.OutputItem, bool) {
		respID, ok := openai.ItemResponseID(id)
		if !ok || stored[respID] == nil {
			return openai.OutputItem{}, false
		}
		var r openai.Response
		if json.Unmarshal(stored[respID], &r) != nil {
			return openai.OutputItem{}, false
		}
		for _, item := range r.Output {
			if item.ID == id {
				return item, true
			}
		}
		return openai.OutputItem{}, false
	}

	// The Vercel AI SDK refers to earlier items it was given when it stores.
	body := `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"Capital of France?"}]},
		{"type":"item_reference","id":"rs_r1_0"},{"type":"item_reference","id":"msg_r1_1"},
		{"role":"user","content":[{"type":"input_text","text":"And of Italy?"}]}]}`
	tests := []struct {
		name   string
		lookup func(string) (openai.OutputItem, bool)
		param  string // of the error; "" for none
	}{
		{"found", lookup, ""},
		{"not found", func(string) (openai.OutputItem, bool) { return openai.OutputItem{}, false }, "input[1].id"},
		{"no lookup", nil, "input[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeResponses(t, body)
			if got := r.References(); !reflect.DeepEqual(got, []string{"rs_r1_0", "msg_r1_1"}) {
				t.Errorf("References() = %q", got)
			}
			err := r.Resolve(tt.lookup)
			if tt.param != "" {
				var re *openai.RequestError
				if !errors.As(err, &re) || re.Param != tt.param || !strings.Contains(re.Message, "rs_r1_0") {
					t.Fatalf("Resolve: %v, want a RequestError about %s", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.References(); len(got) != 0 {
				t.Errorf("References() after Resolve = %q", got)
			}
			req, err := r.Chat(nil)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "messages", req.Messages, `[{"role":"user","content":"Capital of France?"},
				{"role":"assistant","content":"Paris.","reasoning_content":"Easy."},{"role":"user","content":"And of Italy?"}]`)
		})
	}
}

// weatherCall is a chat answer calling a tool, with reasoning.
const weatherCall = `{"id":"c2","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,
	"message":{"role":"assistant","content":null,"reasoning_content":"Need the weather.","tool_calls":[
		{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
		{"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
	"usage":{"prompt_tokens":50,"completion_tokens":20,"total_tokens":70,"completion_tokens_details":{"reasoning_tokens":8}}}`

func TestNewResponseText(t *testing.T) {
	req := decodeResponses(t, `{"model":"main-llm","input":"Hi","instructions":"Be kind.","temperature":0.5,
		"metadata":{"k":"v"},"previous_response_id":"resp_prev"}`)
	resp := chatResponse(t, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",
		"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4},
			"completion_tokens_details":{"reasoning_tokens":0}}}`)
	got, err := json.Marshal(openai.NewResponse("resp_abc", 1700000000, req, resp))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"resp_abc","object":"response","created_at":1700000000,"status":"completed","background":false,` +
		`"error":null,"incomplete_details":null,"instructions":"Be kind.","max_output_tokens":null,"model":"gpt-4o-2024-08-06",` +
		`"output":[{"id":"msg_abc_0","type":"message","status":"completed","role":"assistant",` +
		`"content":[{"type":"output_text","annotations":[],"text":"Hello there."}]}],` +
		`"parallel_tool_calls":true,"previous_response_id":"resp_prev","reasoning":{"effort":null,"summary":null},` +
		`"store":true,"temperature":0.5,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1,` +
		`"truncation":"disabled","usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,` +
		`"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15},"user":null,"metadata":{"k":"v"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNewResponse(t *testing.T) {
	tests := []struct {
		name, request, answer string
		status, incomplete    string // incomplete: the incomplete_details JSON
		output, usage         string
	}{
		{"tool calls with reasoning", `{"model":"m","input":"Weather?",` + responsesTools + `}`, weatherCall,
			"completed", `null`,
			`[{"id":"rs_x_0","type":"reasoning","summary":[{"type":"summary_text","text":"Need the weather."}]},
			  {"id":"fc_x_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
			  {"id":"fc_x_2","type":"function_call","status":"completed","call_id":"call_2","name":"now","arguments":"{}"}]`,
			`{"input_tokens":50,"input_tokens_details":{"cached_tokens":0},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":8},"total_tokens":70}`},
		{"cut at max_output_tokens", `{"model":"m","input":"A story","max_output_tokens":16}`,
			`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Once upon"},"finish_reason":"length"}],
				"usage":{"prompt_tokens":5,"completion_tokens":16,"total_tokens":21}}`,
			"incomplete", `{"reason":"max_output_tokens"}`,
			`[{"id":"msg_x_0","type":"message","status":"incomplete","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Once upon"}]}]`,
			`{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":21}`},
		{"content filter", `{"model":"m","input":"?"}`,
			`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Par"},"finish_reason":"content_filter"}]}`,
			"incomplete", `{"reason":"content_filter"}`,
			`[{"id":"msg_x_0","type":"message","status":"incomplete","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Par"}]}]`,
			`{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}`},
		{"refusal", `{"model":"m","input":"?"}`,
			`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":5,"completion_tokens":7}}`,
			"completed", `null`,
			`[{"id":"msg_x_0","type":"message","status":"completed","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}]`,
			`{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":12}`},
		{"text and a call without id", `{"model":"m","input":"?"}`,
			`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Let me see.",
				"tool_calls":[{"type":"function","function":{"name":"now","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
			"completed", `null`,
			`[{"id":"msg_x_0","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Let me see."}]},
			  {"id":"fc_x_1","type":"function_call","status":"completed","call_id":"call_x_1","name":"now","arguments":"{}"}]`,
			`{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}`},
		{"empty answer", `{"model":"m","input":"?"}`,
			`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}`,
			"completed", `null`, `[]`,
			`{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}`},
		{"no choices", `{"model":"m","input":"?"}`, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[]}`,
			"completed", `null`, `[]`,
			`{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openai.NewResponse("resp_x", 1700000000, decodeResponses(t, tt.request), chatResponse(t, tt.answer))
			if r.Status != tt.status {
				t.Errorf("status = %q, want %q", r.Status, tt.status)
			}
			sameJSON(t, "incomplete_details", r.IncompleteDetails, tt.incomplete)
			sameJSON(t, "output", r.Output, tt.output)
			sameJSON(t, "usage", r.Usage, tt.usage)
		})
	}
}

func TestNewResponseEchoesRequest(t *testing.T) {
	req := decodeResponses(t, `{"model":"main-llm","input":"Hi",`+responsesTools+`,"tool_choice":{"type":"function","name":"now"},
		"parallel_tool_calls":false,"max_output_tokens":100,"top_p":0.5,"store":false,"user":"u-1","truncation":"auto",
		"text":{"format":{"type":"json_object"},"verbosity":"low"},"reasoning":{"effort":"low","generate_summary":"concise"}}`)
	r := openai.NewResponse("resp_e", 1, req, nil)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for member, want := range map[string]string{
		"model": `"main-llm"`, "tools": `[{"type":"function","name":"get_weather","description":"Current weather in a city",
			"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true},
			{"type":"function","name":"now"}]`,
		"tool_choice": `{"type":"function","name":"now"}`, "parallel_tool_calls": `false`, "max_output_tokens": `100`,
		"top_p": `0.5`, "temperature": `1`, "store": `false`, "user": `"u-1"`, "truncation": `"auto"`,
		"text": `{"format":{"type":"json_object"},"verbosity":"low"}`, "reasoning": `{"effort":"low","summary":"concise"}`,
		"previous_response_id": `null`, "instructions": `null`, "metadata": `{}`, "status": `"completed"`, "output": `[]`,
	} {
		sameJSON(t, member, got[member], want)
	}
}

func TestResponseMessages(t *testing.T) {
	req := decodeResponses(t, `{"model":"m","input":"Weather?",`+responsesTools+`}`)
	r := openai.NewResponse("resp_m", 1, req, chatResponse(t, weatherCall))
	want := `[{"role":"assistant","content":null,"reasoning_content":"Need the weather.","tool_calls":[
		{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
		{"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]}]`
	sameJSON(t, "Messages", r.Messages(), want)

	// A client that keeps the conversation itself sends the output back as
	// input items: they make the same messages.
	output, err := json.Marshal(r.Output)
	if err != nil {
		t.Fatal(err)
	}
	next := decodeResponses(t, `{"model":"m","input":[{"role":"user","content":"Weather?"}`+
		`,`+string(output[1:len(output)-1])+`,
		{"type":"function_call_output","call_id":"call_1","output":"18°C"},{"type":"function_call_output","call_id":"call_2","output":"noon"}]}`)
	sameJSON(t, "replayed output", next.InputMessages()[1:2], want)

	tests := []struct {
		name string
		resp *openai.Response
		want string
	}{
		{"text", openai.NewResponse("resp_t", 1, req, chatResponse(t, `{"id":"c","object":"chat.completion","created":1,"model":"m",
			"choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}]}`)),
			`[{"role":"assistant","content":"Hi."}]`},
		{"empty", openai.NewResponse("resp_t", 1, req, nil), `null`},
		{"nil", nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameJSON(t, "Messages", tt.resp.Messages(), tt.want)
		})
	}
}

// chunks decodes chat chunks, one JSON object a line.
func chunks(t *testing.T, lines ...string) []*chat.Chunk {
	t.Helper()
	var out []*chat.Chunk
	for _, l := range lines {
		var c chat.Chunk
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, &c)
	}
	return out
}

// chunk is a chat chunk of the given delta and finish reason, as JSON.
func chunk(delta, finish string) string {
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":` +
		delta + `,"finish_reason":` + finish + `}]}`
}

// usageChunk is the last chunk of a stream that asked for the usage.
const usageChunk = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":[],
	"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":2}}}`

// textStream, toolStream and reasoningStream are upstream streams as an
// OpenAI-compatible service sends them.
var (
	textStream = []string{chunk(`{"role":"assistant","content":""}`, `null`), chunk(`{"content":"Hel"}`, `null`),
		chunk(`{"content":"lo!"}`, `null`), chunk(`{}`, `"stop"`), usageChunk}
	toolStream = []string{chunk(`{"role":"assistant","content":null}`, `null`),
		chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}}]}`, `null`),
		chunk(`{}`, `"tool_calls"`), usageChunk}
	reasoningStream = []string{chunk(`{"role":"assistant","reasoning_content":"Think"}`, `null`),
		chunk(`{"reasoning_content":"ing."}`, `null`), chunk(`{"content":"Done."}`, `null`), chunk(`{}`, `"stop"`), usageChunk}
	// codexStream calls a custom tool, a namespace's function and a
	// namespace's custom tool (of agentTools), the arguments in pieces.
	codexStream = []string{chunk(`{"role":"assistant","reasoning_content":"Add the file, then ask a reviewer."}`, `null`),
		chunk(`{"tool_calls":[{"index":0,"id":"call_patch1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"*** Add File: hello.txt\\n+hello\\n*** End Patch\\n\"}"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":1,"id":"call_spawn1","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"message\":"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"\"Review hello.txt\",\"agent_type\":\"reviewer\"}"}}]}`, `null`),
		chunk(`{"tool_calls":[{"index":2,"id":"call_send1","type":"function","function":{"name":"multi_agent_v1__send_input","arguments":"{\"input\":\"agent_7\\nAlso check the trailing newline.\"}"}}]}`, `"tool_calls"`),
		usageChunk}
)

// encode runs chunks through a new encoder for a response to body, with
// Start and End.
func encode(t *testing.T, body string, cs []*chat.Chunk) ([]byte, *openai.ResponsesStreamEncoder) {
	t.Helper()
	e := openai.NewResponsesStreamEncoder("resp_s1", 1700000000, decodeResponses(t, body))
	out := e.Start(nil)
	for _, c := range cs {
		out = e.Chunk(out, c)
	}
	return e.End(out), e
}

// goldenEvents compares got with the file at path byte for byte; under
// -update it writes the file.
func goldenEvents(t *testing.T, path string, got []byte) {
	t.Helper()
	if *providertest.Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d (run go test -update to accept):\ngot  %s\nwant %s", path, i+1, g, w)
			}
		}
	}
}

func TestResponsesStreamGolden(t *testing.T) {
	tests := []struct {
		name, body string
		stream     []string
	}{
		{"stream_text", `{"model":"main-llm","input":"Hi","stream":true}`, textStream},
		{"stream_tool_call", `{"model":"main-llm","input":"Weather in Paris, and the time?","stream":true,` + responsesTools + `}`, toolStream},
		{"stream_reasoning", `{"model":"main-llm","input":"Hi","stream":true,"reasoning":{"effort":"low","summary":"auto"}}`, reasoningStream},
		{"stream_namespace_custom", `{"model":"main-llm","input":"Add hello.txt and have it reviewed.","stream":true,` + agentTools + `}`, codexStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := encode(t, tt.body, chunks(t, tt.stream...))
			goldenEvents(t, filepath.Join("testdata", "responses", tt.name+".sse"), got)
		})
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	name string
	data map[string]any
	raw  string
}

// parseEvents splits an event stream, failing on a frame that is not
// "event: NAME\ndata: JSON\n\n".
func parseEvents(t *testing.T, b []byte) []sseEvent {
	t.Helper()
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", b)
	}
	var events []sseEvent
	for frame := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n\n"), "\n\n") {
		if frame == "" {
			continue
		}
		name, data, ok := strings.Cut(frame, "\n")
		if !ok || !strings.HasPrefix(name, "event: ") || !strings.HasPrefix(data, "data: ") || strings.Contains(data, "\n") {
			t.Fatalf("bad frame %q", frame)
		}
		ev := sseEvent{name: strings.TrimPrefix(name, "event: "), raw: strings.TrimPrefix(data, "data: ")}
		if err := json.Unmarshal([]byte(ev.raw), &ev.data); err != nil {
			t.Fatalf("event data is not a JSON object: %v: %s", err, ev.raw)
		}
		events = append(events, ev)
	}
	return events
}

// checkWellFormed checks the order of a completed stream's events: created
// and in_progress first, a terminal event last, sequence numbers counting
// up from 0, and each item added before its events and done after them,
// once. It returns the text of the deltas by item id.
func checkWellFormed(t *testing.T, events []sseEvent) map[string]string {
	t.Helper()
	if len(events) < 3 {
		t.Fatalf("%d events", len(events))
	}
	if events[0].name != "response.created" || events[1].name != "response.in_progress" {
		t.Errorf("stream starts with %s, %s", events[0].name, events[1].name)
	}
	last := events[len(events)-1].name
	if last != "response.completed" && last != "response.incomplete" {
		t.Errorf("stream ends with %s", last)
	}
	added := map[string]int{} // item id → output index
	done := map[string]bool{}
	deltas := map[string]string{}
	for i, ev := range events {
		if ev.data["type"] != ev.name {
			t.Errorf("event %d: name %s, type %v", i, ev.name, ev.data["type"])
		}
		if seq, _ := ev.data["sequence_number"].(float64); int(seq) != i {
			t.Errorf("event %d (%s): sequence_number %v", i, ev.name, ev.data["sequence_number"])
		}
		if i > 1 && i < len(events)-1 && strings.HasPrefix(ev.name, "response.") && ev.data["response"] != nil {
			t.Errorf("event %d: %s in the middle of the stream", i, ev.name)
		}
		idx, hasIndex := ev.data["output_index"].(float64)
		id, _ := ev.data["item_id"].(string)
		if item, ok := ev.data["item"].(map[string]any); ok {
			id, _ = item["id"].(string)
		}
		switch {
		case ev.name == "response.output_item.added":
			if _, dup := added[id]; dup {
				t.Errorf("event %d: item %s added twice", i, id)
			}
			if int(idx) != len(added) {
				t.Errorf("event %d: item %s added at output_index %v, want %d", i, id, idx, len(added))
			}
			added[id] = int(idx)
		case hasIndex:
			at, ok := added[id]
			switch {
			case !ok:
				t.Errorf("event %d: %s for item %q not added", i, ev.name, id)
			case done[id]:
				t.Errorf("event %d: %s for item %s after its output_item.done", i, ev.name, id)
			case at != int(idx):
				t.Errorf("event %d: %s for item %s at output_index %v, added at %d", i, ev.name, id, idx, at)
			}
			if ev.name == "response.output_item.done" {
				done[id] = true
			}
			if d, ok := ev.data["delta"].(string); ok {
				deltas[id] += d
			}
		}
	}
	for id := range added {
		if !done[id] {
			t.Errorf("item %s never done", id)
		}
	}
	return deltas
}

func TestResponsesStreamWellFormed(t *testing.T) {
	tests := []struct {
		name   string
		stream []string
		// whole says the stream's response is the one NewResponse makes of
		// the assembled answer (items in the same order).
		whole bool
	}{
		{"text", textStream, true},
		{"tool calls", toolStream, true},
		{"reasoning then text", reasoningStream, true},
		{"namespace and custom tool calls", codexStream, true},
		{"reasoning, text, calls", []string{chunk(`{"reasoning_content":"Hm."}`, `null`), chunk(`{"content":"Let me check."}`, `null`),
			chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"now","arguments":"{}"}}]}`, `"tool_calls"`)}, true},
		{"text after calls", []string{chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"now","arguments":"{}"}}]}`, `null`),
			chunk(`{"content":"Also this."}`, `"stop"`)}, false},
		{"interleaved parallel calls", []string{
			chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`, `null`),
			chunk(`{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}`, `null`),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}},{"index":1,"function":{"arguments":"\"Oslo\"}"}}]}`, `"tool_calls"`)}, true},
		{"calls without index or id", []string{chunk(`{"tool_calls":[{"type":"function","function":{"name":"now","arguments":"{}"}}]}`, `"tool_calls"`)}, false},
		{"refusal", []string{chunk(`{"role":"assistant","refusal":"I can't"}`, `null`), chunk(`{"refusal":" help."}`, `"stop"`)}, false}, // chat.Assembler keeps no refusal
		{"cut short", []string{chunk(`{"content":"Once upon"}`, `null`), chunk(`{}`, `"length"`), usageChunk}, true},
		{"empty", []string{chunk(`{"role":"assistant"}`, `null`), chunk(`{}`, `"stop"`)}, true},
		{"no chunks", nil, true},
		{"second choice ignored", []string{`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[
			{"index":1,"delta":{"content":"other"},"finish_reason":null},{"index":0,"delta":{"content":"mine"},"finish_reason":"stop"}]}`}, false},
		{"custom tool call cut short", []string{
			chunk(`{"tool_calls":[{"index":0,"id":"call_p","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin"}}]}`, `"length"`)}, true},
	}
	// The tools of codexStream; the others' calls are of plain functions.
	body := `{"model":"main-llm","input":"Hi","stream":true,` + agentTools + `}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := chunks(t, tt.stream...)
			out, e := encode(t, body, cs)
			events := parseEvents(t, out)
			deltas := checkWellFormed(t, events)

			final := e.Response()
			var completed struct {
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal([]byte(events[len(events)-1].raw), &completed); err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "terminal event's response", final, string(completed.Response))
			if (final.Status == "incomplete") != (events[len(events)-1].name == "response.incomplete") {
				t.Errorf("status %s ends with %s", final.Status, events[len(events)-1].name)
			}
			for _, item := range final.Output {
				var text string
				switch item.Type {
				case "message":
					for _, p := range item.Content {
						text += p.Text + p.Refusal
					}
				case "function_call":
					text = item.Arguments
				case "custom_tool_call":
					text = item.Input
				case "reasoning":
					for _, s := range item.Summary {
						text += s.Text
					}
				}
				if deltas[item.ID] != text {
					t.Errorf("item %s: deltas make %q, the item has %q", item.ID, deltas[item.ID], text)
				}
			}
			if tt.whole {
				var a chat.Assembler
				for _, c := range cs {
					a.Add(c)
				}
				whole := openai.NewResponse("resp_s1", 1700000000, decodeResponses(t, body), a.Response())
				if len(cs) == 0 {
					whole.Model = "main-llm"
				}
				sameJSON(t, "streamed response", final, string(mustJSON(t, whole)))
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResponsesStreamEnds(t *testing.T) {
	body := `{"model":"main-llm","input":"Hi","stream":true}`
	tests := []struct {
		name string
		end  func(e *openai.ResponsesStreamEncoder, dst []byte) []byte
		want string // the last event
	}{
		{"failed", func(e *openai.ResponsesStreamEncoder, dst []byte) []byte {
			return e.Failed(dst, "server_error", "The upstream broke off.")
		}, `event: response.failed
data: {"type":"response.failed","sequence_number":5,"response":{"id":"resp_s1","object":"response","created_at":1700000000,"status":"failed","background":false,"error":{"code":"server_error","message":"The upstream broke off."},"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"main-llm","output":[{"id":"msg_s1_0","type":"message","status":"incomplete","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"Hel"}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

`},
		{"error", func(e *openai.ResponsesStreamEncoder, dst []byte) []byte {
			return e.Error(dst, "rate_limit_exceeded", "Every deployment is rate limited.", "")
		}, `event: error
data: {"type":"error","sequence_number":5,"code":"rate_limit_exceeded","message":"Every deployment is rate limited.","param":null}

`},
		{"error with param", func(e *openai.ResponsesStreamEncoder, dst []byte) []byte {
			return e.Error(dst, "invalid_prompt", "Bad.", "input")
		}, `event: error
data: {"type":"error","sequence_number":5,"code":"invalid_prompt","message":"Bad.","param":"input"}

`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := openai.NewResponsesStreamEncoder("resp_s1", 1700000000, decodeResponses(t, body))
			out := e.Chunk(nil, chunks(t, chunk(`{"content":"Hel"}`, `null`))[0]) // starts the stream itself
			n := len(out)
			out = tt.end(e, out)
			if got := string(out[n:]); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// Nothing follows the end.
			n = len(out)
			out = e.Chunk(out, chunks(t, chunk(`{"content":"lo"}`, `null`))[0])
			out = e.End(out)
			out = e.Failed(out, "server_error", "again")
			out = e.Error(out, "server_error", "again", "")
			out = e.Start(out)
			if len(out) != n {
				t.Errorf("wrote after the end: %s", out[n:])
			}
		})
	}
}

func TestResponsesStreamNoStart(t *testing.T) {
	// End alone still makes a whole, well-formed stream.
	e := openai.NewResponsesStreamEncoder("resp_s1", 1700000000, nil)
	events := parseEvents(t, e.Chunk(e.End(nil), nil))
	checkWellFormed(t, events)
	if r := e.Response(); r.Status != "completed" || r.Usage == nil || len(r.Output) != 0 {
		t.Errorf("response = %+v", r)
	}
}

// sdkClient is the official OpenAI Go SDK pointed at srv.
func sdkClient(srv *httptest.Server) *sdk.Client {
	c := sdk.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("test-key-not-real"), option.WithMaxRetries(0))
	return &c
}

// TestResponsesWithSDK sends a request from the official OpenAI Go SDK,
// translates it, and answers with NewResponse, which the SDK must read.
func TestResponsesWithSDK(t *testing.T) {
	var got *chat.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rr, err := openai.DecodeResponsesRequest(body)
		if err == nil {
			got, err = rr.Chat(nil)
		}
		if err != nil {
			t.Errorf("%s: %v", body, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(mustJSON(t, openai.NewResponse("resp_sdk", 1700000000, rr, chatResponse(t, weatherCall))))
	}))
	defer srv.Close()

	output := responses.ResponseInputItemParamOfFunctionCallOutput("18°C")
	output.OfFunctionCallOutput.CallID = param.NewOpt("call_0")
	resp, err := sdkClient(srv).Responses.New(context.Background(), responses.ResponseNewParams{
		Model:        "main-llm",
		Instructions: sdk.String("Be terse."),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(`{"city":"Paris"}`, "call_0", "get_weather"),
			output,
		}},
		Tools: []responses.ToolUnionParam{responses.ToolParamOfFunction("get_weather",
			map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, false)},
		Reasoning:       shared.ReasoningParam{Effort: shared.ReasoningEffortLow},
		MaxOutputTokens: sdk.Int(256),
		Text: responses.ResponseTextConfigParam{Format: responses.ResponseFormatTextConfigParamOfJSONSchema("weather",
			map[string]any{"type": "object"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "chat request", got, `{"model":"main-llm","messages":[
		{"role":"system","content":"Be terse."},{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"call_0","content":"18°C"}],
		"max_completion_tokens":256,
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false}}],
		"response_format":{"type":"json_schema","json_schema":{"name":"weather","schema":{"type":"object"}}},
		"reasoning_effort":"low"}`)

	if resp.ID != "resp_sdk" || resp.Status != responses.ResponseStatusCompleted || len(resp.Output) != 3 {
		t.Fatalf("SDK read %s", resp.RawJSON())
	}
	call := resp.Output[1].AsFunctionCall()
	if call.CallID != "call_1" || call.Name != "get_weather" || call.Arguments != `{"city":"Paris"}` {
		t.Errorf("function call = %+v", call)
	}
	if r := resp.Output[0].AsReasoning(); len(r.Summary) != 1 || r.Summary[0].Text != "Need the weather." {
		t.Errorf("reasoning = %+v", r)
	}
	if resp.Usage.InputTokens != 50 || resp.Usage.OutputTokens != 20 || resp.Usage.OutputTokensDetails.ReasoningTokens != 8 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if resp.Reasoning.Effort != shared.ReasoningEffortLow || resp.MaxOutputTokens != 256 {
		t.Errorf("echo: reasoning %+v max_output_tokens %d", resp.Reasoning, resp.MaxOutputTokens)
	}
}

// TestResponsesStreamWithSDK streams to the official OpenAI Go SDK, which
// must read every event and the final response.
func TestResponsesStreamWithSDK(t *testing.T) {
	tests := []struct {
		name   string
		stream []string
		text   string
		calls  string // name(arguments) of the calls in the final response
	}{
		{"text", textStream, "Hello!", ""},
		{"tool calls", toolStream, "", `get_weather({"city":"Paris"}) now({})`},
		{"reasoning", reasoningStream, "Done.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				rr, err := openai.DecodeResponsesRequest(body)
				if err != nil || !rr.Stream {
					t.Errorf("%s: %v", body, err)
				}
				w.Header().Set("Content-Type", "text/event-stream")
				e := openai.NewResponsesStreamEncoder("resp_sdk", 1700000000, rr)
				w.Write(e.Start(nil))
				for _, c := range chunks(t, tt.stream...) {
					w.Write(e.Chunk(nil, c))
				}
				w.Write(e.End(nil))
			}))
			defer srv.Close()

			stream := sdkClient(srv).Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
				Model: "main-llm",
				Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("Hi")},
			})
			var deltas strings.Builder
			var final responses.Response
			var types []string
			for stream.Next() {
				ev := stream.Current()
				types = append(types, ev.Type)
				switch ev.Type {
				case "response.output_text.delta":
					deltas.WriteString(ev.AsResponseOutputTextDelta().Delta)
				case "response.completed":
					final = ev.AsResponseCompleted().Response
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if deltas.String() != tt.text || final.OutputText() != tt.text || final.ID != "resp_sdk" {
				t.Errorf("deltas %q, final text %q, id %q; want %q (events %v)", deltas.String(), final.OutputText(), final.ID, tt.text, types)
			}
			var calls []string
			for _, item := range final.Output {
				if item.Type == "function_call" {
					calls = append(calls, fmt.Sprintf("%s(%s)", item.Name, item.Arguments.OfString))
				}
			}
			if got := strings.Join(calls, " "); got != tt.calls {
				t.Errorf("calls = %s, want %s", got, tt.calls)
			}
			if final.Usage.TotalTokens != 13 || final.Usage.InputTokensDetails.CachedTokens != 2 {
				t.Errorf("usage = %+v", final.Usage)
			}
		})
	}
}

// FuzzDecodeResponsesRequest feeds arbitrary bodies to the decoder. It must
// never panic; what it refuses is a *RequestError with a message, and what
// it accepts translates (or is refused the same way), and its answers,
// whole and streamed, encode.
func FuzzDecodeResponsesRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","input":"Hello"}`,
		`{"model":"m","instructions":"Be terse.","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"},{"type":"input_image","image_url":"https://example.com/a.png"}]}]}`,
		`{"model":"m","input":[{"type":"function_call","call_id":"call_1","name":"now","arguments":"{}"},{"type":"function_call_output","call_id":"call_1","output":"noon"}],` + responsesTools + `,"tool_choice":{"type":"function","name":"now"}}`,
		`{"model":"m","input":[{"type":"reasoning","summary":[{"type":"summary_text","text":"t"}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"},{"type":"refusal","refusal":"r"}]}]}`,
		`{"model":"m","input":[{"type":"item_reference","id":"msg_a_0"}]}`,
		`{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"},"strict":true}},"reasoning":{"effort":"high"},"max_output_tokens":5,"stream":true}`,
		`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"data:application/pdf;base64,AA","filename":"a.pdf"}]}]}`,
		`{"model":"m","input":[{"type":"custom_tool_call","call_id":"call_1","namespace":"multi_agent_v1","name":"send_input","input":"hi"},` +
			`{"type":"custom_tool_call_output","call_id":"call_1","output":"sent"}],` + agentTools + `,"tool_choice":{"type":"custom","name":"apply_patch"}}`,
		`{"model":"m","input":5}`, `{"model":"m","tools":[{"type":"web_search"}]}`, `[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	answer := &chat.Response{ID: "c", Object: "chat.completion", Model: "m", Choices: []chat.Choice{{Message: chat.Message{
		Role: "assistant", Content: chat.TextContent("ok"), ReasoningContent: "r",
		ToolCalls: []chat.ToolCall{{ID: "call_9", Type: "function", Function: chat.FunctionCall{Name: "f", Arguments: "{}"}}}}, FinishReason: "stop"}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := openai.DecodeResponsesRequest(body)
		var re *openai.RequestError
		if err != nil {
			if !errors.As(err, &re) || re.Message == "" {
				t.Fatalf("err = %v (%T)", err, err)
			}
			return
		}
		_ = r.Resolve(func(string) (openai.OutputItem, bool) { return openai.OutputItem{Type: "message"}, true })
		req, err := r.Chat([]chat.Message{{Role: "user", Content: chat.TextContent("earlier")}})
		if err != nil {
			if !errors.As(err, &re) || re.Message == "" {
				t.Fatalf("Chat err = %v (%T)", err, err)
			}
			return
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode chat request: %v", err)
		}
		var back chat.Request
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("chat request does not decode: %v\n%s", err, b)
		}
		if _, err := json.Marshal(openai.NewResponse("resp_f", 1, r, answer)); err != nil {
			t.Fatalf("encode response: %v", err)
		}
		e := openai.NewResponsesStreamEncoder("resp_f", 1, r)
		out := e.Start(nil)
		for _, c := range chat.Chunks(answer, true) {
			out = e.Chunk(out, c)
		}
		events := bufio.NewScanner(bytes.NewReader(e.End(out)))
		for events.Scan() {
			if line, ok := strings.CutPrefix(events.Text(), "data: "); ok && !json.Valid([]byte(line)) {
				t.Fatalf("event data is not JSON: %s", line)
			}
		}
	})
}

// readCodexRequest reads a request body as Codex CLI sends it, from
// testdata/responses.
func readCodexRequest(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// codexAnswer is an upstream's answer to codex_request.json: a patch
// (apply_patch, a custom tool), an agent spawned (multi_agent_v1's
// spawn_agent) and a message to it (multi_agent_v1's send_input, a custom
// tool); codexStream streamed.
const codexAnswer = `{"id":"c3","object":"chat.completion","created":1,"model":"gpt-5.1-codex","choices":[{"index":0,
	"message":{"role":"assistant","content":null,"reasoning_content":"Add the file, then ask a reviewer.","tool_calls":[
		{"id":"call_patch1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n*** Add File: hello.txt\\n+hello\\n*** End Patch\\n\"}"}},
		{"id":"call_spawn1","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"message\":\"Review hello.txt\",\"agent_type\":\"reviewer\"}"}},
		{"id":"call_send1","type":"function","function":{"name":"multi_agent_v1__send_input","arguments":"{\"input\":\"agent_7\\nAlso check the trailing newline.\"}"}}]},
	"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":900,"completion_tokens":120,"total_tokens":1020}}`

// codexOutput is the output of the response to codexAnswer: each call of
// a tool as Codex declared it.
const codexOutput = `[{"id":"rs_codex_0","type":"reasoning","summary":[{"type":"summary_text","text":"Add the file, then ask a reviewer."}]},
	{"id":"ctc_codex_1","type":"custom_tool_call","status":"completed","call_id":"call_patch1","name":"apply_patch",
		"input":"*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"},
	{"id":"fc_codex_2","type":"function_call","status":"completed","call_id":"call_spawn1","namespace":"multi_agent_v1","name":"spawn_agent",
		"arguments":"{\"message\":\"Review hello.txt\",\"agent_type\":\"reviewer\"}"},
	{"id":"ctc_codex_3","type":"custom_tool_call","status":"completed","call_id":"call_send1","namespace":"multi_agent_v1","name":"send_input",
		"input":"agent_7\nAlso check the trailing newline."}]`

// codexMessages is what codexAnswer adds to the conversation: the calls of
// the functions the model was given.
const codexMessages = `[{"role":"assistant","content":null,"reasoning_content":"Add the file, then ask a reviewer.","tool_calls":[
	{"id":"call_patch1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n*** Add File: hello.txt\\n+hello\\n*** End Patch\\n\"}"}},
	{"id":"call_spawn1","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"message\":\"Review hello.txt\",\"agent_type\":\"reviewer\"}"}},
	{"id":"call_send1","type":"function","function":{"name":"multi_agent_v1__send_input","arguments":"{\"input\":\"agent_7\\nAlso check the trailing newline.\"}"}}]}]`

// validFunctionName is what chat APIs take as a function's name.
var validFunctionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// TestCodexRequest serves a first turn of Codex CLI 0.171 (whose namespace
// tool Detour once refused with a 400): the request translates, and the
// model's calls go back as Codex declared the tools, whole and streamed.
func TestCodexRequest(t *testing.T) {
	r, err := openai.DecodeResponsesRequest(readCodexRequest(t, "codex_request.json"))
	if err != nil {
		t.Fatalf("DecodeResponsesRequest: %v", err)
	}
	if !r.Stream || r.Store || r.Reasoning == nil || r.Reasoning.Effort != nil || *r.Reasoning.Summary != "auto" {
		t.Errorf("stream %v, store %v, reasoning %+v", r.Stream, r.Store, r.Reasoning)
	}
	if got := r.DroppedTools(); !reflect.DeepEqual(got, []string{"web_search"}) {
		t.Errorf("DroppedTools() = %q, want [web_search]", got)
	}
	req, err := r.Chat(nil)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	// Only what an upstream takes is sent: not include, prompt_cache_key,
	// client_metadata, store, nor the reasoning summary.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(mustJSON(t, req), &members); err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(members)), []string{"messages", "model", "parallel_tool_calls", "stream", "stream_options",
		"tool_choice", "tools"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chat request members %q, want %q", got, want)
	}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if want := []string{"developer", "developer", "user", "user"}; !reflect.DeepEqual(roles, want) {
		t.Errorf("roles %q, want %q", roles, want)
	}
	sameJSON(t, "developer message", req.Messages[1].Content, `"You are Codex, a coding agent. Keep answers short; run tests before you say you are done."`)
	sameJSON(t, "tool_choice", req.ToolChoice, `"auto"`)

	var names []string
	defs := map[string]*chat.FunctionDef{}
	for _, tool := range req.Tools {
		if tool.Type != "function" || tool.Function == nil || !validFunctionName.MatchString(tool.Function.Name) {
			t.Errorf("tool %s", mustJSON(t, tool))
			continue
		}
		names = append(names, tool.Function.Name)
		defs[tool.Function.Name] = tool.Function
	}
	if want := []string{"exec_command", "write_stdin", "update_plan", "view_image",
		"multi_agent_v1__spawn_agent", "multi_agent_v1__wait", "multi_agent_v1__send_input", "apply_patch"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("tools %q, want %q", names, want)
	}
	if d := defs["multi_agent_v1__spawn_agent"].Description; !strings.HasPrefix(d, "Namespace multi_agent_v1: Tools to run sub-agents") ||
		!strings.HasSuffix(d, "\n\nSpawn a sub-agent for a well-scoped task. Returns the agent id.") {
		t.Errorf("spawn_agent's description %q", d)
	}
	if d := defs["multi_agent_v1__wait"].Description; d != "Wait for agents to reach a final status." {
		t.Errorf("wait's description %q: the namespace's is told once", d)
	}
	for _, name := range []string{"multi_agent_v1__send_input", "apply_patch"} {
		sameJSON(t, name+" parameters", defs[name].Parameters, customParameters)
	}
	if d := defs["apply_patch"].Description; !strings.Contains(d, "free-form text") || !strings.Contains(d, "lark grammar:\nstart: begin_patch hunk+ end_patch\n") {
		t.Errorf("apply_patch's description %q", d)
	}

	// The whole answer.
	resp := openai.NewResponse("resp_codex", 1700000000, r, chatResponse(t, codexAnswer))
	sameJSON(t, "output", resp.Output, codexOutput)
	if len(resp.Tools) != 7 || resp.Store {
		t.Errorf("the response echoes %d tools and store %v; want the 7 sent and false", len(resp.Tools), resp.Store)
	}

	// The streamed answer: the same output; the items as added name the
	// tools as declared; a custom tool's input comes whole at its end.
	e := openai.NewResponsesStreamEncoder("resp_codex", 1700000000, r)
	out := e.Start(nil)
	for _, c := range chunks(t, codexStream...) {
		out = e.Chunk(out, c)
	}
	events := parseEvents(t, e.End(out))
	deltas := checkWellFormed(t, events)
	sameJSON(t, "streamed output", e.Response().Output, codexOutput)
	var added, inputs []string
	for _, ev := range events {
		switch ev.name {
		case "response.output_item.added":
			item, _ := ev.data["item"].(map[string]any)
			added = append(added, fmt.Sprintf("%v %v/%v", item["type"], item["namespace"], item["name"]))
		case "response.custom_tool_call_input.done":
			inputs = append(inputs, fmt.Sprint(ev.data["input"]))
		case "response.function_call_arguments.delta":
			if ev.data["item_id"] != "fc_codex_2" {
				t.Errorf("arguments delta of %v", ev.data["item_id"])
			}
		}
	}
	if want := []string{"reasoning <nil>/<nil>", "custom_tool_call <nil>/apply_patch",
		"function_call multi_agent_v1/spawn_agent", "custom_tool_call multi_agent_v1/send_input"}; !reflect.DeepEqual(added, want) {
		t.Errorf("items added %q, want %q", added, want)
	}
	if want := []string{"*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n", "agent_7\nAlso check the trailing newline."}; !reflect.DeepEqual(inputs, want) || deltas["ctc_codex_1"] != want[0] {
		t.Errorf("custom tool inputs %q (delta %q), want %q", inputs, deltas["ctc_codex_1"], want)
	}

	// What the answer adds to a stored conversation are the calls of the
	// model's functions; and Codex, which stores nothing (store false),
	// sends the output back as input, which makes the same.
	sameJSON(t, "Messages", resp.Messages(), codexMessages)
	sameJSON(t, "streamed Messages", e.Response().Messages(), codexMessages)
	output := mustJSON(t, resp.Output)
	next := decodeResponses(t, `{"model":"m","input":[{"role":"user","content":"Go."},`+string(output[1:len(output)-1])+`,
		{"type":"custom_tool_call_output","call_id":"call_patch1","output":"Done."},
		{"type":"function_call_output","call_id":"call_spawn1","output":"agent_7"},
		{"type":"custom_tool_call_output","call_id":"call_send1","output":"sent"}],`+agentTools+`}`)
	sameJSON(t, "replayed output", next.InputMessages()[1:2], codexMessages)
}

// TestCodexFollowUp serves Codex's next turn: the input replays a
// namespace's function call, custom tool calls (one of a namespace) and
// their outputs, which pair by call id with the functions the model was
// given.
func TestCodexFollowUp(t *testing.T) {
	r, err := openai.DecodeResponsesRequest(readCodexRequest(t, "codex_request_turn2.json"))
	if err != nil {
		t.Fatalf("DecodeResponsesRequest: %v", err)
	}
	req, err := r.Chat(nil) // fails for an output answering no call
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if len(req.Messages) < 4 {
		t.Fatalf("%d messages", len(req.Messages))
	}
	sameJSON(t, "messages after the first turn's", req.Messages[4:], `[
		{"role":"assistant","content":null,"reasoning_content":"**Planning the change**\n\nAdd the file with apply_patch, then spawn a reviewer.","tool_calls":[
			{"id":"call_patch1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n*** Add File: hello.txt\\n+hello\\n*** End Patch\\n\"}"}},
			{"id":"call_spawn1","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"message\":\"Review hello.txt\",\"agent_type\":\"reviewer\"}"}}]},
		{"role":"tool","tool_call_id":"call_patch1","content":"Success. Updated the following files:\nA hello.txt\n"},
		{"role":"tool","tool_call_id":"call_spawn1","content":"{\"agent_id\":\"agent_7\"}"},
		{"role":"assistant","content":null,"tool_calls":[
			{"id":"call_send1","type":"function","function":{"name":"multi_agent_v1__send_input","arguments":"{\"input\":\"agent_7\\nAlso check the trailing newline.\"}"}}]},
		{"role":"tool","tool_call_id":"call_send1","content":"sent"},
		{"role":"assistant","content":"Added hello.txt; a reviewer is checking it."},
		{"role":"user","content":"Thanks. What did the reviewer say?"}]`)
	// Every call's function is one the model is offered.
	offered := map[string]bool{}
	for _, tool := range req.Tools {
		offered[tool.Function.Name] = true
	}
	for _, m := range req.Messages {
		for _, tc := range m.ToolCalls {
			if !offered[tc.Function.Name] {
				t.Errorf("call %s of %q, which is not offered", tc.ID, tc.Function.Name)
			}
		}
	}
}

// TestCodexStreamWithSDK streams the answer to Codex's request to the
// official OpenAI Go SDK, which must read the namespaced and custom tool
// calls.
func TestCodexStreamWithSDK(t *testing.T) {
	rr, err := openai.DecodeResponsesRequest(readCodexRequest(t, "codex_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		e := openai.NewResponsesStreamEncoder("resp_codex", 1700000000, rr)
		w.Write(e.Start(nil))
		for _, c := range chunks(t, codexStream...) {
			w.Write(e.Chunk(nil, c))
		}
		w.Write(e.End(nil))
	}))
	defer srv.Close()

	stream := sdkClient(srv).Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
		Model: "gpt-5.1-codex", Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("Go.")},
	})
	var delta strings.Builder
	var done []string
	var final responses.Response
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "response.custom_tool_call_input.delta":
			delta.WriteString(ev.AsResponseCustomToolCallInputDelta().Delta)
		case "response.output_item.done":
			item := ev.AsResponseOutputItemDone().Item
			done = append(done, item.Type+" "+item.Namespace+"/"+item.Name)
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"reasoning /", "custom_tool_call /apply_patch", "function_call multi_agent_v1/spawn_agent",
		"custom_tool_call multi_agent_v1/send_input"}; !reflect.DeepEqual(done, want) {
		t.Errorf("items done %q, want %q", done, want)
	}
	if want := "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\nagent_7\nAlso check the trailing newline."; delta.String() != want {
		t.Errorf("input deltas %q, want %q", delta.String(), want)
	}
	if len(final.Output) != 4 {
		t.Fatalf("final output: %s", final.RawJSON())
	}
	patch, call, send := final.Output[1].AsCustomToolCall(), final.Output[2].AsFunctionCall(), final.Output[3].AsCustomToolCall()
	if patch.CallID != "call_patch1" || patch.Name != "apply_patch" || !strings.HasPrefix(patch.Input, "*** Begin Patch\n") || patch.Namespace != "" {
		t.Errorf("custom tool call %+v", patch)
	}
	if call.CallID != "call_spawn1" || call.Namespace != "multi_agent_v1" || call.Name != "spawn_agent" || call.Arguments != `{"message":"Review hello.txt","agent_type":"reviewer"}` {
		t.Errorf("function call %+v", call)
	}
	if send.Namespace != "multi_agent_v1" || send.Name != "send_input" || send.Input != "agent_7\nAlso check the trailing newline." {
		t.Errorf("namespaced custom tool call %+v", send)
	}
}

// TestResponsesToolNames checks the function names a namespace's tools
// get: valid for chat, unique, the same in every request, and mapped back
// to the namespace and name in calls either way.
func TestResponsesToolNames(t *testing.T) {
	long := strings.Repeat("n", 70)
	tests := []struct {
		name            string
		before          string // tools before the namespace
		namespace, tool string
		want            string // a pattern of the function's name
	}{
		{"joined", ``, "multi_agent_v1", "spawn_agent", `^multi_agent_v1__spawn_agent$`},
		{"trailing underscores", ``, "mcp__github__", "get_issue", `^mcp__github__get_issue$`},
		{"characters chat refuses", ``, "acme.crm", "find contact", `^acme_crm__find_contact$`},
		{"too long", ``, long, "t", `^n{55}_[0-9a-f]{8}$`},
		{"taken by a function", `{"type":"function","name":"crm__find"},`, "crm", "find", `^crm__find_[0-9a-f]{8}$`},
		{"taken by a custom tool", `{"type":"custom","name":"crm__find"},`, "crm", "find", `^crm__find_[0-9a-f]{8}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tools := fmt.Sprintf(`"tools":[%s{"type":"namespace","name":%q,"description":"","tools":[{"type":"function","name":%q}]}]`,
				tt.before, tt.namespace, tt.tool)
			call := fmt.Sprintf(`{"type":"function_call","call_id":"call_1","namespace":%q,"name":%q,"arguments":"{}"}`, tt.namespace, tt.tool)
			var name string
			for range 2 { // the same name in every request
				r := decodeResponses(t, `{"model":"m","input":[`+call+`,{"type":"function_call_output","call_id":"call_1","output":"ok"}],`+tools+`}`)
				req, err := r.Chat(nil)
				if err != nil {
					t.Fatal(err)
				}
				got := req.Tools[len(req.Tools)-1].Function.Name
				if name != "" && got != name {
					t.Fatalf("named %q, then %q", name, got)
				}
				name = got
				if !validFunctionName.MatchString(name) || !regexp.MustCompile(tt.want).MatchString(name) {
					t.Fatalf("function %q, want %s", name, tt.want)
				}
				if len(req.Tools) == 2 && req.Tools[0].Function.Name == name {
					t.Fatalf("function %q is the other tool's", name)
				}
				if got := req.Messages[0].ToolCalls[0].Function.Name; got != name {
					t.Errorf("the replayed call is of %q, want %q", got, name)
				}
				answer := &chat.Response{Choices: []chat.Choice{{Message: chat.Message{Role: "assistant", Content: json.RawMessage("null"),
					ToolCalls: []chat.ToolCall{{ID: "call_2", Type: "function", Function: chat.FunctionCall{Name: name, Arguments: "{}"}}}}, FinishReason: "tool_calls"}}}
				out := openai.NewResponse("resp_n", 1, r, answer).Output
				if len(out) != 1 || out[0].Type != "function_call" || out[0].Namespace != tt.namespace || out[0].Name != tt.tool {
					t.Errorf("output %s", mustJSON(t, out))
				}
			}
		})
	}

	// A call of a namespace the request no longer declares gets the name
	// it would have.
	r := decodeResponses(t, `{"model":"m","input":[{"type":"function_call","call_id":"call_1","namespace":"gone","name":"x","arguments":"{}"}]}`)
	if got := r.InputMessages()[0].ToolCalls[0].Function.Name; got != "gone__x" {
		t.Errorf("call of an undeclared namespace's tool: %q, want gone__x", got)
	}
}

// TestResponsesDroppedTools checks that tools the upstream cannot run are
// left out, and told, rather than refused.
func TestResponsesDroppedTools(t *testing.T) {
	tests := []struct {
		name, tools string
		dropped     []string
		offered     []string
	}{
		{"functions only", `[{"type":"function","name":"f"},{"type":"custom","name":"c"}]`, nil, []string{"f", "c"}},
		{"built-in tools, each once, in order", `[{"type":"web_search","external_web_access":true},{"type":"function","name":"f"},
			{"type":"file_search","vector_store_ids":["vs_1"]},{"type":"web_search_preview"},
			{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"},
			{"type":"code_interpreter","container":{"type":"auto"}},{"type":"image_generation"},{"type":"local_shell"},
			{"type":"mcp","server_label":"docs","server_url":"https://example.com/mcp"},
			{"type":"tool_search","execution":"client","description":7,"parameters":"x"},{"type":"web_search"}]`,
			[]string{"web_search", "file_search", "web_search_preview", "computer_use_preview", "code_interpreter", "image_generation",
				"local_shell", "mcp", "tool_search"}, []string{"f"}},
		{"unknown types, in a namespace too", `[{"type":"shell"},{"type":"namespace","name":"ns","description":"","tools":[
			{"type":"function","name":"f"},{"type":"web_search"}]}]`, []string{"shell", "web_search"}, []string{"ns__f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decodeResponses(t, `{"model":"m","input":"Hi","tool_choice":"auto","tools":`+tt.tools+`}`)
			if got := r.DroppedTools(); !reflect.DeepEqual(got, tt.dropped) {
				t.Errorf("DroppedTools() = %q, want %q", got, tt.dropped)
			}
			req, err := r.Chat(nil)
			if err != nil {
				t.Fatal(err)
			}
			var offered []string
			for _, tool := range req.Tools {
				offered = append(offered, tool.Function.Name)
			}
			if !reflect.DeepEqual(offered, tt.offered) {
				t.Errorf("offered %q, want %q", offered, tt.offered)
			}
			// The response echoes the tools as sent.
			var sent []json.RawMessage
			json.Unmarshal([]byte(tt.tools), &sent)
			if got := openai.NewResponse("resp_d", 1, r, nil).Tools; len(got) != len(sent) {
				t.Errorf("the response echoes %d tools, want %d", len(got), len(sent))
			}
		})
	}
}
