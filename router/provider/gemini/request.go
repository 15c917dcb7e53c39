package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path"
	"strings"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// translate encodes req as a generateContent body.
func (c *Client) translate(req *chat.Request) ([]byte, error) {
	gr, perr := c.buildRequest(req)
	if perr != nil {
		return nil, perr
	}
	body, err := json.Marshal(gr)
	if err != nil {
		return nil, &provider.Error{Class: provider.BadRequest, Local: true, Message: "the request could not be encoded", Err: err}
	}
	return body, nil
}

// buildRequest translates the canonical request. Members of req.Extra
// (logit_bias, presence_penalty, reasoning_effort, …) and req.User have no
// Gemini counterpart that works on every model and are dropped.
func (c *Client) buildRequest(req *chat.Request) (*generateRequest, *provider.Error) {
	var gr generateRequest
	contents, system, err := buildContents(req.Messages)
	if err != nil {
		return nil, err
	}
	gr.Contents = contents
	if len(system) > 0 {
		gr.SystemInstruction = &content{Parts: system}
	}
	if gr.Tools, err = buildTools(req.Tools); err != nil {
		return nil, err
	}
	if gr.ToolConfig, err = buildToolConfig(req.ToolChoice); err != nil {
		return nil, err
	}
	if gr.GenerationConfig, err = c.buildGenerationConfig(req); err != nil {
		return nil, err
	}
	return &gr, nil
}

// buildContents turns the messages into Gemini turns and the system
// instruction. System and developer messages, wherever they stand, become
// the system instruction. Consecutive tool messages become one user turn
// of functionResponse parts, as Gemini expects the answers to one model
// turn's calls together.
func buildContents(msgs []chat.Message) ([]content, []part, *provider.Error) {
	var (
		contents []content
		system   []part
		calls    = map[string]string{} // tool call id as the client has it → function name
		toolTurn = -1                  // index in contents of the open turn of tool results
	)
	for i, m := range msgs {
		switch m.Role {
		case "system", "developer":
			parts, err := m.Parts()
			if err != nil {
				return nil, nil, localBadRequest("messages[%d].%s", i, err)
			}
			for j, p := range parts {
				if p.Type != "text" {
					return nil, nil, localBadRequest("messages[%d].content[%d]: a %s message takes only text parts, not %q", i, j, m.Role, p.Type)
				}
				if p.Text != "" {
					system = append(system, part{Text: p.Text})
				}
			}
		case "user":
			parts, err := userParts(i, m)
			if err != nil {
				return nil, nil, err
			}
			if len(parts) > 0 {
				contents = append(contents, content{Role: "user", Parts: parts})
				toolTurn = -1
			}
		case "assistant":
			parts, err := modelParts(i, m, calls)
			if err != nil {
				return nil, nil, err
			}
			if len(parts) > 0 {
				contents = append(contents, content{Role: "model", Parts: parts})
				toolTurn = -1
			}
		case "tool":
			p, err := toolResultPart(i, m, calls)
			if err != nil {
				return nil, nil, err
			}
			if toolTurn >= 0 {
				contents[toolTurn].Parts = append(contents[toolTurn].Parts, p)
			} else {
				contents = append(contents, content{Role: "user", Parts: []part{p}})
				toolTurn = len(contents) - 1
			}
		default:
			return nil, nil, localBadRequest("messages[%d].role %q is not supported; use system, developer, user, assistant or tool", i, m.Role)
		}
	}
	if len(contents) == 0 {
		return nil, nil, localBadRequest("messages must include a user or assistant message with content")
	}
	return contents, system, nil
}

// userParts translates a user message's content: text and images.
func userParts(i int, m chat.Message) ([]part, *provider.Error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, localBadRequest("messages[%d].%s", i, err)
	}
	var out []part
	for j, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" { // Gemini rejects empty text parts
				out = append(out, part{Text: p.Text})
			}
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, localBadRequest("messages[%d].content[%d].image_url.url is required", i, j)
			}
			ip, err := imagePart(p.ImageURL.URL)
			if err != nil {
				return nil, localBadRequest("messages[%d].content[%d].image_url.url %s", i, j, err)
			}
			out = append(out, ip)
		default:
			return nil, localBadRequest("messages[%d].content[%d].type %q is not supported by gemini; use text or image_url", i, j, p.Type)
		}
	}
	return out, nil
}

// imagePart translates an image URL: a data: URL's bytes go inline, an
// http(s) URL goes by reference with a MIME type guessed from its name.
func imagePart(raw string) (part, error) {
	if len(raw) >= 5 && strings.EqualFold(raw[:5], "data:") {
		meta, data, ok := strings.Cut(raw[5:], ",")
		if !ok {
			return part{}, fmt.Errorf("is a data: URL without a comma before its data")
		}
		params := strings.Split(meta, ";")
		if !strings.EqualFold(params[len(params)-1], "base64") {
			return part{}, fmt.Errorf("is a data: URL that is not base64-encoded")
		}
		mime := strings.ToLower(strings.TrimSpace(params[0]))
		if mime == "" || len(params) == 1 {
			mime = "image/jpeg"
		}
		if data == "" {
			return part{}, fmt.Errorf("is a data: URL without data")
		}
		return part{InlineData: &blob{MimeType: mime, Data: data}}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return part{}, fmt.Errorf("must be an http(s) URL or a data: URL")
	}
	return part{FileData: &fileData{MimeType: imageMIME(u.Path), FileURI: raw}}, nil
}

// imageMIME guesses an image's MIME type from its file name; image/jpeg
// when the extension says nothing.
func imageMIME(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	}
	return "image/jpeg"
}

// modelParts translates an assistant message: its text, then its tool
// calls as functionCall parts carrying their thought signatures. It notes
// each call's id → name in calls, for the tool results that follow.
// Reasoning content is not sent back: Gemini reads nothing from unsigned
// thought text.
func modelParts(i int, m chat.Message, calls map[string]string) ([]part, *provider.Error) {
	parts, err := m.Parts()
	if err != nil {
		return nil, localBadRequest("messages[%d].%s", i, err)
	}
	var out []part
	for j, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, part{Text: p.Text})
			}
		case "refusal": // OpenAI's refusal part: its text is what the model said
			if t := p.Extra["refusal"]; len(t) > 0 {
				var s string
				if json.Unmarshal(t, &s) == nil && s != "" {
					out = append(out, part{Text: s})
				}
			}
		default:
			return nil, localBadRequest("messages[%d].content[%d].type %q is not supported in an assistant message", i, j, p.Type)
		}
	}
	first := true
	for j, tc := range m.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return nil, localBadRequest("messages[%d].tool_calls[%d].type %q is not supported; use function", i, j, tc.Type)
		}
		if tc.Function.Name == "" {
			return nil, localBadRequest("messages[%d].tool_calls[%d].function.name is required", i, j)
		}
		args, err := callArgs(tc.Function.Arguments)
		if err != nil {
			return nil, localBadRequest("messages[%d].tool_calls[%d].function.arguments %s", i, j, err)
		}
		id, sig := splitToolCall(tc)
		if tc.ID != "" {
			// By the id as sent, and by the call's own id, for a client
			// that answers with the id without its signature.
			calls[tc.ID] = tc.Function.Name
			calls[id] = tc.Function.Name
		}
		fc := &functionCall{Name: tc.Function.Name, Args: args}
		if isGeminiID(id) {
			fc.ID = id
		}
		if first && sig == "" {
			sig = dummySignature
		}
		first = false
		out = append(out, part{FunctionCall: fc, ThoughtSignature: sig})
	}
	return out, nil
}

// callArgs checks a tool call's arguments, a JSON object in a string, and
// returns them compacted. Empty arguments are an empty object.
func callArgs(s string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("is not valid JSON")
	}
	if s[0] != '{' {
		return nil, fmt.Errorf("must be a JSON object")
	}
	var b bytes.Buffer
	_ = json.Compact(&b, []byte(s)) // valid JSON compacts
	return b.Bytes(), nil
}

// toolResultPart translates a tool message into a functionResponse part.
// Gemini matches results to calls by function name, so the name comes from
// the assistant tool call whose id the message answers (or, failing that,
// the message's own name).
func toolResultPart(i int, m chat.Message, calls map[string]string) (part, *provider.Error) {
	base, _ := splitToolCallID(m.ToolCallID)
	name := calls[m.ToolCallID]
	if name == "" {
		name = calls[base]
	}
	if name == "" {
		name = m.Name
	}
	if name == "" {
		if m.ToolCallID == "" {
			return part{}, localBadRequest("messages[%d].tool_call_id is required", i)
		}
		return part{}, localBadRequest("messages[%d].tool_call_id %q matches no tool call of an earlier assistant message", i, m.ToolCallID)
	}
	fr := &functionResponse{Name: name, Response: toolResponse(m.Text())}
	if isGeminiID(base) {
		fr.ID = base
	}
	return part{FunctionResponse: fr}, nil
}

// toolResponse is a tool's output as Gemini's response object: the output
// itself when it is a JSON object, else {"result": output}.
func toolResponse(text string) json.RawMessage {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		var b bytes.Buffer
		_ = json.Compact(&b, []byte(t))
		return b.Bytes()
	}
	out, _ := json.Marshal(map[string]string{"result": text})
	return out
}

// buildTools declares the function tools in one Gemini tool.
func buildTools(tools []chat.Tool) ([]tool, *provider.Error) {
	if len(tools) == 0 {
		return nil, nil
	}
	decls := make([]functionDeclaration, 0, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, localBadRequest("tools[%d].type %q is not supported by gemini; use function", i, t.Type)
		}
		if t.Function == nil || t.Function.Name == "" {
			return nil, localBadRequest("tools[%d].function.name is required", i)
		}
		d := functionDeclaration{Name: t.Function.Name, Description: t.Function.Description}
		if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
			s, err := convertSchema(p)
			if err != nil {
				return nil, localBadRequest("tools[%d].function.parameters %s", i, err)
			}
			// Gemini rejects an OBJECT schema without properties
			// ("should be non-empty for OBJECT type"): a function without
			// parameters declares none.
			if !isEmptyObject(s) {
				d.Parameters, _ = json.Marshal(s)
			}
		}
		decls = append(decls, d)
	}
	return []tool{{FunctionDeclarations: decls}}, nil
}

// buildToolConfig translates tool_choice: auto → AUTO, none → NONE,
// required → ANY, a named function → ANY limited to that name.
func buildToolConfig(raw json.RawMessage) (*toolConfig, *provider.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "auto":
			return &toolConfig{functionCallingConfig{Mode: "AUTO"}}, nil
		case "none":
			return &toolConfig{functionCallingConfig{Mode: "NONE"}}, nil
		case "required":
			return &toolConfig{functionCallingConfig{Mode: "ANY"}}, nil
		}
		return nil, localBadRequest("tool_choice %q is not supported; use auto, none, required or a function", mode)
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return nil, localBadRequest(`tool_choice must be auto, none, required or {"type":"function","function":{"name":…}}`)
	}
	return &toolConfig{functionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{named.Function.Name}}}, nil
}

// buildGenerationConfig gathers the sampling settings; nil when none is set.
func (c *Client) buildGenerationConfig(req *chat.Request) (*generationConfig, *provider.Error) {
	g := generationConfig{
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		MaxOutputTokens: req.MaxCompletionTokens,
		CandidateCount:  req.N,
	}
	if g.MaxOutputTokens == nil {
		g.MaxOutputTokens = req.MaxTokens
	}
	if len(req.Stop) > 0 {
		g.StopSequences = req.Stop
	}
	if req.Seed != nil {
		// Gemini's seed is 32 bits; OpenAI's 64. Folding keeps a fixed
		// seed fixed instead of failing a request OpenAI would take.
		s := *req.Seed
		if s > math.MaxInt32 || s < math.MinInt32 {
			s = int64(int32(s))
		}
		g.Seed = &s
	}
	if err := responseFormat(req.ResponseFormat, &g); err != nil {
		return nil, err
	}
	if c.opts.IncludeThoughts {
		g.ThinkingConfig = &thinkingConfig{IncludeThoughts: true}
	}
	if isZeroConfig(&g) {
		return nil, nil
	}
	return &g, nil
}

func isZeroConfig(g *generationConfig) bool {
	return g.StopSequences == nil && g.ResponseMimeType == "" && g.ResponseSchema == nil &&
		g.CandidateCount == nil && g.MaxOutputTokens == nil && g.Temperature == nil &&
		g.TopP == nil && g.Seed == nil && g.ThinkingConfig == nil
}

// responseFormat translates response_format: json_object asks for JSON,
// json_schema for JSON with json_schema.schema as Gemini's responseSchema
// (converted as convertSchema says).
func responseFormat(raw json.RawMessage, g *generationConfig) *provider.Error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var rf struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return localBadRequest("response_format must be an object with a type")
	}
	switch rf.Type {
	case "text":
	case "json_object":
		g.ResponseMimeType = "application/json"
	case "json_schema":
		g.ResponseMimeType = "application/json"
		if rf.JSONSchema == nil {
			return localBadRequest("response_format.json_schema is required when type is json_schema")
		}
		if s := bytes.TrimSpace(rf.JSONSchema.Schema); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
			schema, err := convertSchema(s)
			if err != nil {
				return localBadRequest("response_format.json_schema.schema %s", err)
			}
			g.ResponseSchema, _ = json.Marshal(schema)
		}
	default:
		return localBadRequest("response_format.type %q is not supported by gemini; use text, json_object or json_schema", rf.Type)
	}
	return nil
}
