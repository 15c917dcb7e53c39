package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// Wire types of a Messages request, with JSON tags exactly as the API has
// them.
type (
	wireRequest struct {
		Model         string          `json:"model"`
		MaxTokens     int             `json:"max_tokens"`
		System        any             `json:"system,omitempty"` // a string or []wireBlock
		Messages      []wireMessage   `json:"messages"`
		Metadata      *wireMetadata   `json:"metadata,omitempty"`
		StopSequences []string        `json:"stop_sequences,omitempty"`
		Stream        bool            `json:"stream,omitempty"`
		Temperature   *float64        `json:"temperature,omitempty"`
		TopP          *float64        `json:"top_p,omitempty"`
		TopK          *int            `json:"top_k,omitempty"`
		Thinking      json.RawMessage `json:"thinking,omitempty"`
		Tools         []wireTool      `json:"tools,omitempty"`
		ToolChoice    *wireToolChoice `json:"tool_choice,omitempty"`
	}

	wireMetadata struct {
		UserID string `json:"user_id"`
	}

	wireMessage struct {
		Role    string      `json:"role"` // user or assistant
		Content []wireBlock `json:"content"`
	}

	// wireBlock is a content block of a request: text, image, tool_use or
	// tool_result; each kind sets its own fields.
	wireBlock struct {
		Type      string          `json:"type"`
		Text      string          `json:"text,omitempty"`
		Source    *wireSource     `json:"source,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Input     json.RawMessage `json:"input,omitempty"`
		ToolUseID string          `json:"tool_use_id,omitempty"`
		// Content of a tool_result: a string or []wireBlock; nil for none.
		Content      any             `json:"content,omitempty"`
		CacheControl json.RawMessage `json:"cache_control,omitempty"`
	}

	// wireSource is an image's source: base64 bytes or a URL.
	wireSource struct {
		Type      string `json:"type"` // base64 or url
		MediaType string `json:"media_type,omitempty"`
		Data      string `json:"data,omitempty"`
		URL       string `json:"url,omitempty"`
	}

	wireTool struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		InputSchema json.RawMessage `json:"input_schema"`
	}

	wireToolChoice struct {
		Type                   string `json:"type"` // auto, any, tool or none
		Name                   string `json:"name,omitempty"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
	}
)

// imageTypes are the image media types the Messages API accepts.
var imageTypes = map[string]string{
	"image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/png": "image/png",
	"image/gif": "image/gif", "image/webp": "image/webp",
}

// emptySchema is the input_schema of a function declared without parameters.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// badRequest is a client's mistake found before anything was sent.
func badRequest(format string, args ...any) *provider.Error {
	msg := fmt.Sprintf(format, args...)
	return &provider.Error{Class: provider.BadRequest, Local: true, Message: msg, Err: errors.New(msg)}
}

// translate builds the Messages request for req.
func (c *Client) translate(req *chat.Request, streaming bool) (*wireRequest, *provider.Error) {
	out := &wireRequest{Model: c.opts.Model, Stream: streaming, TopP: req.TopP, MaxTokens: DefaultMaxTokens}
	switch {
	case req.MaxCompletionTokens != nil:
		out.MaxTokens = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		out.MaxTokens = *req.MaxTokens
	case c.opts.MaxOutputTokens > 0:
		out.MaxTokens = c.opts.MaxOutputTokens
	}
	if req.N != nil && *req.N != 1 {
		return nil, badRequest("n: %s returns one choice per request; n must be 1", c.opts.Name)
	}
	if t := req.Temperature; t != nil {
		// OpenAI's range is 0 to 2, Anthropic's 0 to 1: the hottest
		// Anthropic allows is the nearest to what was asked.
		v := min(*t, 1)
		out.Temperature = &v
	}
	if len(req.Stop) > 0 {
		out.StopSequences = req.Stop
	}
	if req.User != "" {
		out.Metadata = &wireMetadata{UserID: req.User}
	}
	if raw, ok := req.Extra["top_k"]; ok && string(raw) != "null" {
		var k int
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, badRequest("top_k must be an integer")
		}
		out.TopK = &k
	}
	if raw, ok := req.Extra["thinking"]; ok && string(raw) != "null" {
		if !isObject(raw) {
			return nil, badRequest("thinking must be an object such as {\"type\":\"enabled\",\"budget_tokens\":2048}")
		}
		out.Thinking = raw
	}
	system, messages, perr := translateMessages(req.Messages)
	if perr != nil {
		return nil, perr
	}
	out.Messages = messages
	switch {
	case len(system) == 1 && system[0].CacheControl == nil:
		out.System = system[0].Text
	case len(system) > 0:
		out.System = system
	}
	if out.Tools, perr = translateTools(req.Tools); perr != nil {
		return nil, perr
	}
	if out.ToolChoice, perr = translateToolChoice(req.ToolChoice, req.Extra["parallel_tool_calls"], len(out.Tools) > 0); perr != nil {
		return nil, perr
	}
	return out, nil
}

// translateMessages hoists system and developer messages into system
// blocks and turns the rest into alternating user and assistant messages:
// tool messages become tool_result blocks of a user message, and
// consecutive messages of one role are merged.
func translateMessages(msgs []chat.Message) (system []wireBlock, out []wireMessage, perr *provider.Error) {
	add := func(role string, blocks []wireBlock) {
		if len(blocks) == 0 {
			return // nothing to say: Anthropic refuses empty messages
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
			return
		}
		out = append(out, wireMessage{Role: role, Content: blocks})
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer":
			blocks, perr := contentBlocks(m, i, false)
			if perr != nil {
				return nil, nil, perr
			}
			system = append(system, blocks...)
		case "user":
			blocks, perr := contentBlocks(m, i, true)
			if perr != nil {
				return nil, nil, perr
			}
			add("user", blocks)
		case "assistant":
			blocks, perr := contentBlocks(m, i, false)
			if perr != nil {
				return nil, nil, perr
			}
			calls, perr := toolUseBlocks(m, i)
			if perr != nil {
				return nil, nil, perr
			}
			add("assistant", append(blocks, calls...))
		case "tool":
			if m.ToolCallID == "" {
				return nil, nil, badRequest("messages[%d].tool_call_id is required", i)
			}
			result := wireBlock{Type: "tool_result", ToolUseID: m.ToolCallID}
			blocks, perr := contentBlocks(m, i, true)
			if perr != nil {
				return nil, nil, perr
			}
			if len(blocks) == 1 && blocks[0].Type == "text" && blocks[0].CacheControl == nil {
				result.Content = blocks[0].Text
			} else if len(blocks) > 0 {
				result.Content = blocks
			}
			add("user", []wireBlock{result})
		default:
			return nil, nil, badRequest("messages[%d].role %q is not supported; use system, developer, user, assistant or tool", i, m.Role)
		}
	}
	if len(out) == 0 {
		return nil, nil, badRequest("messages must include a user message with content")
	}
	for i := range out {
		if out[i].Role == "user" {
			toolResultsFirst(out[i].Content)
		}
	}
	return system, out, nil
}

// toolResultsFirst moves a user message's tool_result blocks before its
// other blocks, keeping their order: Anthropic wants the results first.
func toolResultsFirst(blocks []wireBlock) {
	var results, others []wireBlock
	for _, b := range blocks {
		if b.Type == "tool_result" {
			results = append(results, b)
		} else {
			others = append(others, b)
		}
	}
	if len(results) == 0 || len(others) == 0 {
		return
	}
	copy(blocks, results)
	copy(blocks[len(results):], others)
}

// contentBlocks translates message i's content. Images are allowed only
// where Anthropic takes them (user messages and tool results). Text that is
// empty or only white space is left out, as Anthropic refuses it.
func contentBlocks(m chat.Message, i int, images bool) ([]wireBlock, *provider.Error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, badRequest("messages[%d].%s", i, err.Error())
	}
	var blocks []wireBlock
	for j, p := range parts {
		var b wireBlock
		switch p.Type {
		case "text", "refusal":
			text := p.Text
			if p.Type == "refusal" {
				_ = json.Unmarshal(p.Extra["refusal"], &text)
			}
			if strings.TrimSpace(text) == "" {
				continue
			}
			b = wireBlock{Type: "text", Text: text}
		case "image_url":
			if !images {
				return nil, badRequest("messages[%d].content[%d]: images are only allowed in user and tool messages", i, j)
			}
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, badRequest("messages[%d].content[%d].image_url.url is required", i, j)
			}
			src, perr := imageSource(p.ImageURL.URL, i, j)
			if perr != nil {
				return nil, perr
			}
			b = wireBlock{Type: "image", Source: src}
		default:
			return nil, badRequest("messages[%d].content[%d]: content part type %q is not supported by Anthropic", i, j, p.Type)
		}
		if cc, ok := p.Extra["cache_control"]; ok && isObject(cc) {
			b.CacheControl = cc
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

// imageSource reads an image URL: a base64 data URL or an http(s) URL.
func imageSource(u string, i, j int) (*wireSource, *provider.Error) {
	field := fmt.Sprintf("messages[%d].content[%d].image_url.url", i, j)
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		return &wireSource{Type: "url", URL: u}, nil
	case strings.HasPrefix(lower, "data:"):
		media, data, ok := chat.ParseDataURL(u)
		if !ok {
			return nil, badRequest("%s: a data URL must be base64 encoded (data:image/png;base64,…)", field)
		}
		mt, known := imageTypes[media]
		if !known {
			return nil, badRequest("%s: image type %q is not supported by Anthropic; use image/jpeg, image/png, image/gif or image/webp", field, media)
		}
		if data == "" {
			return nil, badRequest("%s: the data URL holds no image", field)
		}
		return &wireSource{Type: "base64", MediaType: mt, Data: data}, nil
	}
	return nil, badRequest("%s must be an http(s) URL or a base64 data URL", field)
}

// toolUseBlocks translates an assistant message's tool calls.
func toolUseBlocks(m chat.Message, i int) ([]wireBlock, *provider.Error) {
	var blocks []wireBlock
	for j, tc := range m.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return nil, badRequest("messages[%d].tool_calls[%d].type %q is not supported by Anthropic; use function", i, j, tc.Type)
		}
		if tc.ID == "" {
			return nil, badRequest("messages[%d].tool_calls[%d].id is required", i, j)
		}
		if tc.Function.Name == "" {
			return nil, badRequest("messages[%d].tool_calls[%d].function.name is required", i, j)
		}
		input := json.RawMessage(emptyObject)
		if args := strings.TrimSpace(tc.Function.Arguments); args != "" {
			if !json.Valid([]byte(args)) {
				return nil, badRequest("messages[%d].tool_calls[%d].function.arguments is not valid JSON", i, j)
			}
			if !isObject([]byte(args)) {
				return nil, badRequest("messages[%d].tool_calls[%d].function.arguments must be a JSON object", i, j)
			}
			input = json.RawMessage(args)
		}
		blocks = append(blocks, wireBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
	}
	return blocks, nil
}

const emptyObject = "{}"

// translateTools turns function tools into Anthropic tools.
func translateTools(tools []chat.Tool) ([]wireTool, *provider.Error) {
	var out []wireTool
	for i, t := range tools {
		if t.Type != "function" || t.Function == nil {
			return nil, badRequest("tools[%d]: only function tools are supported by Anthropic", i)
		}
		f := t.Function
		if f.Name == "" {
			return nil, badRequest("tools[%d].function.name is required", i)
		}
		schema := f.Parameters
		if p := bytes.TrimSpace(schema); len(p) == 0 || string(p) == "null" {
			schema = emptySchema
		} else if !isObject(p) {
			return nil, badRequest("tools[%d].function.parameters must be a JSON Schema object", i)
		}
		out = append(out, wireTool{Name: f.Name, Description: f.Description, InputSchema: schema})
	}
	return out, nil
}

// translateToolChoice maps OpenAI's tool_choice and parallel_tool_calls to
// Anthropic's tool_choice. Without tools, Anthropic takes no tool_choice:
// "auto" and "none" mean nothing then, and a demand for a tool is an error.
func translateToolChoice(raw, parallel json.RawMessage, hasTools bool) (*wireToolChoice, *provider.Error) {
	var choice *wireToolChoice
	if r := bytes.TrimSpace(raw); len(r) > 0 && string(r) != "null" {
		var s string
		if json.Unmarshal(r, &s) == nil {
			switch s {
			case "auto":
				choice = &wireToolChoice{Type: "auto"}
			case "none":
				choice = &wireToolChoice{Type: "none"}
			case "required":
				choice = &wireToolChoice{Type: "any"}
			default:
				return nil, badRequest(`tool_choice %q is not supported; use "auto", "none", "required" or {"type":"function","function":{"name":…}}`, s)
			}
		} else {
			var named struct {
				Type     string `json:"type"`
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			if err := json.Unmarshal(r, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
				return nil, badRequest(`tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}`)
			}
			choice = &wireToolChoice{Type: "tool", Name: named.Function.Name}
		}
	}
	if !hasTools {
		if choice != nil && (choice.Type == "any" || choice.Type == "tool") {
			return nil, badRequest("tool_choice requires tools")
		}
		return nil, nil
	}
	var allowParallel bool
	if p := bytes.TrimSpace(parallel); len(p) > 0 && string(p) != "null" {
		if err := json.Unmarshal(p, &allowParallel); err != nil {
			return nil, badRequest("parallel_tool_calls must be true or false")
		}
		if !allowParallel && (choice == nil || choice.Type != "none") {
			if choice == nil {
				choice = &wireToolChoice{Type: "auto"}
			}
			choice.DisableParallelToolUse = true
		}
	}
	return choice, nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}
