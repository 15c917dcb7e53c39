package ollama

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ollama/ollama/api"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// chatRequest translates a canonical request to Ollama's /api/chat.
//
// Sampling fields go to options: temperature, top_p, seed, stop,
// num_predict (from max_completion_tokens, else max_tokens), num_ctx (from
// Options.NumCtx), and frequency_penalty and presence_penalty from the
// request's extra members. response_format json_object becomes format
// "json", json_schema the schema itself. tool_choice "none" sends no tools;
// Ollama has no other tool choice, so "auto", "required" and a named
// function send the tools and leave the choice to the model. Everything
// else Ollama cannot take (user, logit_bias, reasoning_effort, …) is
// dropped.
func (c *Client) chatRequest(req *chat.Request, stream bool) (*api.ChatRequest, *provider.Error) {
	if req.N != nil && *req.N != 1 {
		return nil, badRequest(fmt.Sprintf("n: %s answers with one choice; n must be 1", c.opts.Name))
	}
	msgs, perr := messages(c.opts.Name, req.Messages)
	if perr != nil {
		return nil, perr
	}
	out := &api.ChatRequest{Model: c.opts.Model, Messages: msgs, Stream: &stream}

	opts := map[string]any{}
	if req.Temperature != nil {
		opts["temperature"] = *req.Temperature
	}
	if req.TopP != nil {
		opts["top_p"] = *req.TopP
	}
	maxTokens, field := req.MaxCompletionTokens, "max_completion_tokens"
	if maxTokens == nil {
		maxTokens, field = req.MaxTokens, "max_tokens"
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return nil, badRequest(field + " must be at least 1")
		}
		opts["num_predict"] = *maxTokens
	}
	if len(req.Stop) > 0 {
		opts["stop"] = []string(req.Stop)
	}
	if req.Seed != nil {
		opts["seed"] = *req.Seed
	}
	for _, name := range []string{"frequency_penalty", "presence_penalty"} {
		raw, ok := req.Extra[name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, badRequest(name + " must be a number")
		}
		opts[name] = v
	}
	if c.opts.NumCtx > 0 {
		opts["num_ctx"] = c.opts.NumCtx
	}
	if len(opts) > 0 {
		out.Options = opts
	}

	format, perr := responseFormat(req.ResponseFormat)
	if perr != nil {
		return nil, perr
	}
	out.Format = format

	if !toolChoiceNone(req.ToolChoice) {
		tools, perr := tools(c.opts.Name, req.Tools)
		if perr != nil {
			return nil, perr
		}
		out.Tools = tools
	}
	return out, nil
}

// messages translates the conversation. Content arrays become one message
// whose text parts are joined by newlines and whose images travel as raw
// bytes; a tool result carries the name of the call it answers, looked up
// by tool_call_id among the calls before it.
func messages(name string, in []chat.Message) ([]api.Message, *provider.Error) {
	out := make([]api.Message, 0, len(in))
	callNames := map[string]string{} // tool-call id → function name
	for i, m := range in {
		role := m.Role
		switch role {
		case "system", "user", "assistant", "tool":
		case "developer":
			role = "system"
		default:
			return nil, badRequest(fmt.Sprintf("messages[%d].role: %q is not supported by %s", i, m.Role, name))
		}
		parts, err := m.Parts()
		if err != nil {
			return nil, badRequest(fmt.Sprintf("messages[%d].%s", i, err))
		}
		am := api.Message{Role: role, Thinking: m.ReasoningContent}
		var text []string
		for j, p := range parts {
			switch p.Type {
			case "text":
				text = append(text, p.Text)
			case "image_url":
				if role == "tool" {
					return nil, badRequest(fmt.Sprintf("messages[%d].content[%d]: %s takes no images in tool messages", i, j, name))
				}
				img, msg := image(p.ImageURL)
				if msg != "" {
					return nil, badRequest(fmt.Sprintf("messages[%d].content[%d].image_url: %s", i, j, msg))
				}
				am.Images = append(am.Images, img)
			default:
				return nil, badRequest(fmt.Sprintf("messages[%d].content[%d]: content part type %q is not supported by %s", i, j, p.Type, name))
			}
		}
		am.Content = strings.Join(text, "\n")
		if len(m.ToolCalls) > 0 && role != "assistant" {
			return nil, badRequest(fmt.Sprintf("messages[%d].tool_calls: only assistant messages have tool calls", i))
		}
		for j, tc := range m.ToolCalls {
			if tc.Function.Name == "" {
				return nil, badRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.name is required", i, j))
			}
			args, ok := arguments(tc.Function.Arguments)
			if !ok {
				return nil, badRequest(fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments must be a JSON object", i, j))
			}
			am.ToolCalls = append(am.ToolCalls, api.ToolCall{ID: tc.ID,
				Function: api.ToolCallFunction{Index: j, Name: tc.Function.Name, Arguments: args}})
			if tc.ID != "" {
				callNames[tc.ID] = tc.Function.Name
			}
		}
		if role == "tool" {
			am.ToolCallID = m.ToolCallID
			am.ToolName = callNames[m.ToolCallID]
			if am.ToolName == "" {
				am.ToolName = m.Name
			}
		}
		out = append(out, am)
	}
	return out, nil
}

// arguments parses tool-call arguments, a JSON object in a string. The
// empty string is taken as no arguments.
func arguments(s string) (api.ToolCallFunctionArguments, bool) {
	args := api.NewToolCallFunctionArguments()
	t := bytes.TrimSpace([]byte(s))
	if len(t) == 0 {
		return args, true
	}
	if t[0] != '{' || !json.Valid(t) {
		return args, false
	}
	if err := json.Unmarshal(t, &args); err != nil {
		return args, false
	}
	return args, true
}

// image decodes a data: URL ("data:image/png;base64,…"). Ollama takes no
// image URLs, so http(s) URLs are refused. It returns a message saying
// what is wrong, or "".
func image(u *chat.ImageURL) (api.ImageData, string) {
	if u == nil || u.URL == "" {
		return nil, "url is required"
	}
	lower := strings.ToLower(u.URL)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return nil, "Ollama does not fetch image URLs; send the image inline as a data: URL (data:image/png;base64,…)"
	}
	if !strings.HasPrefix(lower, "data:") {
		return nil, "must be a data: URL (data:image/png;base64,…)"
	}
	_, data, ok := chat.ParseDataURL(u.URL)
	if !ok {
		return nil, "must be a base64 data: URL (data:image/png;base64,…)"
	}
	data = strings.TrimSpace(data)
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	}
	if err != nil || len(b) == 0 {
		return nil, "the data: URL does not hold valid base64 data"
	}
	return b, ""
}

// responseFormat translates response_format to Ollama's format.
func responseFormat(raw json.RawMessage) (json.RawMessage, *provider.Error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(t, &rf); err != nil {
		return nil, badRequest("response_format must be an object with a type")
	}
	switch rf.Type {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`"json"`), nil
	case "json_schema":
		if rf.JSONSchema == nil {
			return nil, badRequest("response_format.json_schema is required")
		}
		s := bytes.TrimSpace(rf.JSONSchema.Schema)
		if len(s) == 0 || s[0] != '{' {
			return nil, badRequest("response_format.json_schema.schema must be a JSON schema object")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, s); err != nil {
			return nil, badRequest("response_format.json_schema.schema must be a JSON schema object")
		}
		return b.Bytes(), nil
	}
	return nil, badRequest(fmt.Sprintf("response_format.type %q is not supported; use text, json_object or json_schema", rf.Type))
}

// toolChoiceNone reports whether tool_choice is "none".
func toolChoiceNone(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && s == "none"
}

// tools translates function tools. Ollama reads a tool's parameters into
// its own schema types, which keep type, description, enum, items,
// properties, required and anyOf, and drop other schema keywords.
func tools(name string, in []chat.Tool) (api.Tools, *provider.Error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(api.Tools, 0, len(in))
	for i, t := range in {
		if t.Type != "function" || t.Function == nil {
			return nil, badRequest(fmt.Sprintf("tools[%d]: only function tools are supported by %s", i, name))
		}
		if t.Function.Name == "" {
			return nil, badRequest(fmt.Sprintf("tools[%d].function.name is required", i))
		}
		var params api.ToolFunctionParameters
		p := bytes.TrimSpace(t.Function.Parameters)
		if len(p) > 0 && !bytes.Equal(p, []byte("null")) {
			if p[0] != '{' {
				return nil, badRequest(fmt.Sprintf("tools[%d].function.parameters must be a JSON schema object", i))
			}
			if err := json.Unmarshal(p, &params); err != nil {
				return nil, badRequest(fmt.Sprintf("tools[%d].function.parameters: %s cannot read this schema: %v", i, name, err))
			}
		}
		if params.Type == "" {
			params.Type = "object"
		}
		if params.Properties == nil {
			params.Properties = api.NewToolPropertiesMap()
		}
		out = append(out, api.Tool{Type: "function", Function: api.ToolFunction{
			Name: t.Function.Name, Description: t.Function.Description, Parameters: params}})
	}
	return out, nil
}
