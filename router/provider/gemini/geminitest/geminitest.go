// Package geminitest provides a fake Gemini API server for tests. It speaks
// the real wire format (generateContent, streamGenerateContent with
// alt=sse framed by "\r\n\r\n" and no [DONE], batchEmbedContents, Google's
// pretty-printed error bodies) and validates requests the way the real API
// refuses them: unknown members anywhere (including JSON Schema keys
// Gemini's Schema lacks, such as additionalProperties), missing or wrong
// keys, roles other than user and model, empty contents or parts, a
// functionResponse matching no functionCall of the model turn before it,
// and — in Gemini 3 mode — a function call without its thought signature.
// It injects faults: error statuses with Google's bodies and RetryInfo,
// resets mid-body, slow first bytes, stalls, cuts and error events
// mid-stream, streams ending without a finishReason, malformed JSON.
//
// Messages for checks whose exact wording Google does not document are
// close paraphrases; their status and "status" field are the real ones.
package geminitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/router/provider/providertest"
)

// DefaultText is the answer's text when a Reply sets none.
const DefaultText = "Hello from the fake Gemini."

// DefaultDimensions is the length of the fake's embeddings when the request
// sets no outputDimensionality.
const DefaultDimensions = 8

// The dummy signatures Google documents for histories it did not produce.
const (
	SkipSignature    = "skip_thought_signature_validator"
	ContextSignature = "context_engineering_is_the_way_to_go"
)

// Fault is a way for the fake to misbehave.
type Fault int

// Faults.
const (
	// NoFault answers normally.
	NoFault Fault = iota
	// ResetMidBody sends headers and part of the body (for a stream, no
	// event at all), then drops the connection.
	ResetMidBody
	// MalformedJSON answers 200 with a body (or, streaming, a second event)
	// that is not valid JSON.
	MalformedJSON
	// StallMidStream sends the first event, then nothing until the client
	// gives up.
	StallMidStream
	// CutMidStream sends the first event, then drops the connection.
	CutMidStream
	// ErrorEventMidStream sends the first event, then an event carrying
	// Google's error object (500 INTERNAL), then ends.
	ErrorEventMidStream
	// EndWithoutFinish sends the events but leaves out the finishReason,
	// and ends the body cleanly.
	EndWithoutFinish
)

// ToolCall is a function call the fake's model makes.
type ToolCall struct {
	// Name is the function's name.
	Name string
	// Args is a JSON object. Empty means {}.
	Args string
	// ID, if set, is sent as functionCall.id (Gemini may send one).
	ID string
}

// Reply is what the fake does with one request.
type Reply struct {
	// Status, if not 0 or 200, answers with this status and Body.
	Status int
	// Body is the raw body of an error answer.
	Body string
	// Header is added to the answer.
	Header http.Header
	// Text is the answer's text. Empty means DefaultText, unless ToolCalls
	// are set: then the answer is the calls alone.
	Text string
	// Thought is a thought summary, sent as a part with thought: true when
	// the request asks for thoughts (thinkingConfig.includeThoughts); its
	// words always count as thoughtsTokenCount.
	Thought string
	// ToolCalls are function calls the answer makes, after its text.
	ToolCalls []ToolCall
	// StopReason is the finishReason to report ("MAX_TOKENS", "SAFETY", …).
	// Empty means STOP, or MAX_TOKENS when maxOutputTokens cut the text
	// (counted in words). A safety reason sends the candidate without
	// content, as Gemini does.
	StopReason string
	// BlockReason, if set, blocks the prompt: promptFeedback.blockReason
	// and no candidates.
	BlockReason string
	// CachedTokens is reported as cachedContentTokenCount.
	CachedTokens int
	// Gemini3 makes the fake behave as a Gemini 3 model: the first
	// functionCall part of the answer carries a thoughtSignature (as does
	// the last part of an answer without calls), and a request whose
	// current turn has a model functionCall step without its signature, or
	// with one the fake never issued, is refused with 400.
	Gemini3 bool
	// Delay holds back the answer's headers (a slow first byte). The
	// request's cancellation ends the wait.
	Delay time.Duration
	// Fault makes the answer misbehave.
	Fault Fault
}

// Request is a request the fake received.
type Request struct {
	// Path is the URL path ("/v1beta/models/gemini-2.5-flash:generateContent").
	Path string
	// Query is the URL's query ("alt=sse").
	Query url.Values
	// Header holds the request's headers (the key in X-Goog-Api-Key).
	Header http.Header
	// Body is the JSON body decoded, nil when it was not JSON.
	Body map[string]any
	// Raw is the body as sent.
	Raw []byte
}

// Server is a fake Gemini API. Its URL is the API base to configure
// (the adapter adds "/v1beta/models/…"). SetReplies, Requests, Count and
// Disconnects come from its Script.
type Server struct {
	*httptest.Server
	providertest.Script[Reply, Request]
	// URL is the base URL to configure as api_base.
	URL string

	mu         sync.Mutex
	key        string
	signatures map[string]bool
	responses  int
}

// New starts a fake on 127.0.0.1 that answers with replies in order; the
// last reply repeats. With no replies it answers normally. It accepts any
// non-empty key until RequireKey names one. It is closed at the test's end.
func New(t testing.TB, replies ...Reply) *Server {
	s := &Server{signatures: map[string]bool{}}
	s.SetReplies(replies...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.Server.URL
	t.Cleanup(s.Close)
	return s
}

// RequireKey makes the fake accept only key; any other is refused with
// 400 API_KEY_INVALID, as Google does.
func (s *Server) RequireKey(key string) {
	s.mu.Lock()
	s.key = key
	s.mu.Unlock()
}

// pathPattern matches "/v1beta/models/{model}:{method}".
var pathPattern = regexp.MustCompile(`^/v1beta/models/([^/:]+):([A-Za-z]+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathPattern.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeHTML404(w, r.URL.Path)
		return
	}
	model, method := m[1], m[2]
	switch method {
	case "generateContent", "streamGenerateContent", "batchEmbedContents":
	default:
		writeError(w, 0, ErrorBody(404, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version v1beta, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", model, method)))
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, 0, ErrorBody(405, "UNIMPLEMENTED", "Method not allowed"))
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	rep, _ := s.Next(Request{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Raw: raw})
	if !s.Hold(r.Context(), rep.Delay) {
		return
	}
	if msg := s.checkKey(r); msg != "" {
		writeError(w, 0, msg)
		return
	}
	for k, vs := range rep.Header {
		w.Header()[k] = vs
	}
	if method == "batchEmbedContents" {
		s.embed(w, model, raw, rep)
		return
	}
	var req generateRequest
	if err := decodeStrict(raw, &req); err != nil {
		writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", err.Error()))
		return
	}
	if err := s.validate(&req, rep.Gemini3); err != nil {
		writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", err.Error()))
		return
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeError(w, rep.Status, rep.Body)
		return
	}
	answer := s.answer(model, &req, rep)
	if method == "streamGenerateContent" {
		if !s.writeStream(w, r, answer, rep.Fault, r.URL.Query().Get("alt") == "sse") {
			s.ClientGone()
		}
		return
	}
	writeAnswer(w, answer, rep.Fault)
}

// checkKey returns the error body for a missing or wrong key, "" when the
// key passes. Google takes the key from x-goog-api-key or ?key=.
func (s *Server) checkKey(r *http.Request) string {
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	s.mu.Lock()
	want := s.key
	s.mu.Unlock()
	switch {
	case key == "":
		return MissingKeyBody
	case want != "" && key != want:
		return InvalidKeyBody
	}
	return ""
}

// validate checks a request as Gemini does after parsing it.
func (s *Server) validate(req *generateRequest, gemini3 bool) error {
	if len(req.Contents) == 0 {
		return fmt.Errorf("* GenerateContentRequest.contents: contents is not specified\n")
	}
	if si := req.SystemInstruction; si != nil {
		for j, p := range si.Parts {
			if p.dataKinds() != 1 || p.Text == nil {
				return fmt.Errorf("* GenerateContentRequest.system_instruction.parts[%d]: only text parts are supported in the system instruction\n", j)
			}
		}
	}
	for i, c := range req.Contents {
		if c.Role != "user" && c.Role != "model" {
			return fmt.Errorf("Please use a valid role: user, model.")
		}
		if len(c.Parts) == 0 {
			return fmt.Errorf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i)
		}
		var responses int
		for j, p := range c.Parts {
			at := fmt.Sprintf("contents[%d].parts[%d]", i, j)
			if p.dataKinds() != 1 {
				return fmt.Errorf("* GenerateContentRequest.%s.data: required oneof field 'data' must have one initialized field\n", at)
			}
			if p.ThoughtSignature != nil && !validBase64(*p.ThoughtSignature) {
				return fmt.Errorf("Invalid value at '%s.thought_signature' (TYPE_BYTES), Base64 decoding failed for %q", at, *p.ThoughtSignature)
			}
			switch {
			case p.Text != nil && *p.Text == "":
				return fmt.Errorf("Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again.")
			case p.InlineData != nil:
				if p.InlineData.MimeType == "" {
					return fmt.Errorf("* GenerateContentRequest.%s.inline_data.mime_type: mime_type is required\n", at)
				}
				if _, err := base64.StdEncoding.DecodeString(p.InlineData.Data); err != nil && !validBase64(p.InlineData.Data) {
					return fmt.Errorf("Invalid value at '%s.inline_data.data' (TYPE_BYTES), Base64 decoding failed", at)
				}
			case p.FileData != nil:
				if p.FileData.FileURI == "" {
					return fmt.Errorf("* GenerateContentRequest.%s.file_data.file_uri: file_uri is required\n", at)
				}
			case p.FunctionCall != nil:
				if c.Role != "model" {
					return fmt.Errorf("Please ensure that function call turn comes immediately after a user turn or after a function response turn.")
				}
				if p.FunctionCall.Name == "" {
					return fmt.Errorf("* GenerateContentRequest.%s.function_call.name: Name cannot be empty.\n", at)
				}
			case p.FunctionResponse != nil:
				if c.Role != "user" {
					return fmt.Errorf("Please ensure that function response turn comes immediately after a function call turn.")
				}
				fr := p.FunctionResponse
				if fr.Name == "" {
					return fmt.Errorf("* GenerateContentRequest.%s.function_response.name: Name cannot be empty.\n", at)
				}
				if i == 0 || !callsName(req.Contents[i-1], fr.Name) {
					return fmt.Errorf("* GenerateContentRequest.%s.function_response.name: function response name %q does not match any function call of the preceding model turn.\n", at, fr.Name)
				}
				responses++
			}
		}
		if responses > 0 && responses != countCalls(req.Contents[i-1]) {
			return fmt.Errorf("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.")
		}
	}
	for i, t := range req.Tools {
		for j, d := range t.FunctionDeclarations {
			at := fmt.Sprintf("tools[%d].function_declarations[%d]", i, j)
			if !functionName.MatchString(d.Name) {
				return fmt.Errorf("* GenerateContentRequest.%s.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n", at)
			}
			if p := d.Parameters; p != nil {
				if strings.EqualFold(p.Type, "object") && len(p.Properties) == 0 {
					return fmt.Errorf("* GenerateContentRequest.%s.parameters.properties: should be non-empty for OBJECT type\n", at)
				}
				if err := checkSchema(p, at+".parameters"); err != nil {
					return err
				}
			}
		}
	}
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		fc := tc.FunctionCallingConfig
		switch fc.Mode {
		case "", "MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED":
		default:
			return fmt.Errorf("Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), %q", fc.Mode)
		}
		if len(fc.AllowedFunctionNames) > 0 && fc.Mode != "ANY" && fc.Mode != "VALIDATED" {
			return fmt.Errorf("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names may only be set when mode is ANY\n")
		}
	}
	if g := req.GenerationConfig; g != nil {
		switch {
		case g.CandidateCount != nil && (*g.CandidateCount < 1 || *g.CandidateCount > 8):
			return fmt.Errorf("* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8\n")
		case len(g.StopSequences) > 5:
			return fmt.Errorf("* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed\n")
		case g.Temperature != nil && (*g.Temperature < 0 || *g.Temperature > 2):
			return fmt.Errorf("* GenerateContentRequest.generation_config.temperature: must be between 0 and 2\n")
		case g.TopP != nil && (*g.TopP < 0 || *g.TopP > 1):
			return fmt.Errorf("* GenerateContentRequest.generation_config.top_p: must be between 0 and 1\n")
		case g.MaxOutputTokens != nil && *g.MaxOutputTokens < 1:
			return fmt.Errorf("* GenerateContentRequest.generation_config.max_output_tokens: must be positive\n")
		case g.ResponseSchema != nil && g.ResponseMimeType != "application/json" && g.ResponseMimeType != "text/x.enum":
			return fmt.Errorf("* GenerateContentRequest.generation_config.response_mime_type: response_schema is only supported with response_mime_type application/json or text/x.enum\n")
		}
		if err := checkSchema(g.ResponseSchema, "generation_config.response_schema"); err != nil {
			return err
		}
	}
	return s.checkSignatures(req, gemini3)
}

var functionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:\-]{0,63}$`)

func callsName(c content, name string) bool {
	if c.Role != "model" {
		return false
	}
	for _, p := range c.Parts {
		if p.FunctionCall != nil && p.FunctionCall.Name == name {
			return true
		}
	}
	return false
}

func countCalls(c content) int {
	n := 0
	for _, p := range c.Parts {
		if p.FunctionCall != nil {
			n++
		}
	}
	return n
}

// checkSignatures applies Gemini 3's rule: in the current turn (from the
// last user content that is not only function responses), the first
// functionCall part of every model step must carry its thought signature,
// one the model issued or a documented dummy.
func (s *Server) checkSignatures(req *generateRequest, gemini3 bool) error {
	if !gemini3 {
		return nil
	}
	start := 0
	for i := len(req.Contents) - 1; i >= 0; i-- {
		c := req.Contents[i]
		if c.Role == "user" && !onlyResponses(c) {
			start = i
			break
		}
	}
	for i, c := range req.Contents {
		for _, p := range c.Parts {
			if sig := p.ThoughtSignature; sig != nil && !s.knownSignature(*sig) {
				return fmt.Errorf("Corrupted thought signature.")
			}
		}
		if i < start || c.Role != "model" {
			continue
		}
		for j, p := range c.Parts {
			if p.FunctionCall == nil {
				continue
			}
			if p.ThoughtSignature == nil || *p.ThoughtSignature == "" {
				return fmt.Errorf("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:%s` , position %d. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.", p.FunctionCall.Name, j+1)
			}
			break // only the first call of a step carries one
		}
	}
	return nil
}

func onlyResponses(c content) bool {
	for _, p := range c.Parts {
		if p.FunctionResponse == nil {
			return false
		}
	}
	return true
}

func (s *Server) knownSignature(sig string) bool {
	if sig == SkipSignature || sig == ContextSignature {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signatures[sig]
}

// signature issues a new thought signature: standard base64 with + and /
// and padding, as Google's are.
func (s *Server) signature() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sig := base64.StdEncoding.EncodeToString(append([]byte{0xfb, 0xff, 0xbf}, fmt.Sprintf("fake-thought-%d", len(s.signatures)+1)...))
	s.signatures[sig] = true
	return sig
}

// The answer, in wire types written in Google's member order.
type (
	answerBody struct {
		Candidates     []answerCandidate `json:"candidates,omitempty"`
		PromptFeedback *answerFeedback   `json:"promptFeedback,omitempty"`
		UsageMetadata  *answerUsage      `json:"usageMetadata,omitempty"`
		ModelVersion   string            `json:"modelVersion"`
		ResponseID     string            `json:"responseId"`
	}
	answerCandidate struct {
		Content       *answerContent `json:"content,omitempty"`
		FinishReason  string         `json:"finishReason,omitempty"`
		SafetyRatings []safetyRating `json:"safetyRatings,omitempty"`
		Index         int            `json:"index,omitempty"` // proto3 JSON leaves 0 out
	}
	answerContent struct {
		Parts []answerPart `json:"parts"`
		Role  string       `json:"role"`
	}
	answerPart struct {
		Text             *string             `json:"text,omitempty"`
		Thought          bool                `json:"thought,omitempty"`
		FunctionCall     *answerFunctionCall `json:"functionCall,omitempty"`
		ThoughtSignature string              `json:"thoughtSignature,omitempty"`
	}
	answerFunctionCall struct {
		ID   string          `json:"id,omitempty"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	}
	answerFeedback struct {
		BlockReason   string         `json:"blockReason"`
		SafetyRatings []safetyRating `json:"safetyRatings,omitempty"`
	}
	safetyRating struct {
		Category    string `json:"category"`
		Probability string `json:"probability"`
		Blocked     bool   `json:"blocked,omitempty"`
	}
	answerUsage struct {
		PromptTokenCount        int           `json:"promptTokenCount"`
		CandidatesTokenCount    int           `json:"candidatesTokenCount,omitempty"`
		TotalTokenCount         int           `json:"totalTokenCount"`
		CachedContentTokenCount int           `json:"cachedContentTokenCount,omitempty"`
		PromptTokensDetails     []modalityCnt `json:"promptTokensDetails,omitempty"`
		ThoughtsTokenCount      int           `json:"thoughtsTokenCount,omitempty"`
	}
	modalityCnt struct {
		Modality   string `json:"modality"`
		TokenCount int    `json:"tokenCount"`
	}
)

// answer is the whole answer to req.
type answer struct {
	body answerBody
	// pieces[k] are candidate k's parts as the stream sends them.
	pieces [][]answerPart
	finish []string
}

func (s *Server) answer(model string, req *generateRequest, rep Reply) *answer {
	s.mu.Lock()
	s.responses++
	id := fmt.Sprintf("fakeResp%03d", s.responses)
	s.mu.Unlock()
	prompt := promptTokens(req)
	a := &answer{body: answerBody{ModelVersion: model, ResponseID: id}}
	usage := &answerUsage{PromptTokenCount: prompt, CachedContentTokenCount: rep.CachedTokens,
		PromptTokensDetails: []modalityCnt{{Modality: "TEXT", TokenCount: prompt}}}
	a.body.UsageMetadata = usage
	if rep.BlockReason != "" {
		a.body.PromptFeedback = &answerFeedback{BlockReason: rep.BlockReason,
			SafetyRatings: []safetyRating{{Category: "HARM_CATEGORY_DANGEROUS_CONTENT", Probability: "HIGH", Blocked: true}}}
		usage.TotalTokenCount = prompt
		return a
	}
	g := req.GenerationConfig
	if g == nil {
		g = &generationConfig{}
	}
	n := 1
	if g.CandidateCount != nil {
		n = *g.CandidateCount
	}
	includeThoughts := g.ThinkingConfig != nil && g.ThinkingConfig.IncludeThoughts != nil && *g.ThinkingConfig.IncludeThoughts
	thoughts := len(providertest.Words(rep.Thought))
	completion := 0
	for k := range n {
		finish := rep.StopReason
		text := rep.Text
		if text == "" && len(rep.ToolCalls) == 0 {
			text = DefaultText
		}
		calls := rep.ToolCalls
		for _, stop := range g.StopSequences {
			if i := strings.Index(text, stop); stop != "" && i >= 0 {
				text = text[:i]
			}
		}
		if words := providertest.Words(text); g.MaxOutputTokens != nil && len(words) > *g.MaxOutputTokens {
			text = strings.Join(words[:*g.MaxOutputTokens], "")
			calls = nil
			if finish == "" {
				finish = "MAX_TOKENS"
			}
		}
		if finish == "" {
			finish = "STOP"
		}
		var parts []answerPart
		filtered := isSafety(finish)
		if !filtered {
			if includeThoughts && rep.Thought != "" {
				for _, w := range providertest.Words(rep.Thought) {
					parts = append(parts, answerPart{Text: ptr(w), Thought: true})
				}
			}
			for _, w := range providertest.Words(text) {
				parts = append(parts, answerPart{Text: ptr(w)})
			}
			completion += len(providertest.Words(text))
			for i, tc := range calls {
				args := tc.Args
				if args == "" {
					args = "{}"
				}
				p := answerPart{FunctionCall: &answerFunctionCall{ID: tc.ID, Name: tc.Name, Args: json.RawMessage(args)}}
				if rep.Gemini3 && i == 0 {
					p.ThoughtSignature = s.signature()
				}
				parts = append(parts, p)
				completion += 3
			}
			if rep.Gemini3 && len(calls) == 0 && len(parts) > 0 {
				parts[len(parts)-1].ThoughtSignature = s.signature()
			}
		}
		a.pieces = append(a.pieces, parts)
		a.finish = append(a.finish, finish)
		cand := answerCandidate{FinishReason: finish, Index: k}
		if filtered {
			cand.SafetyRatings = []safetyRating{{Category: "HARM_CATEGORY_HARASSMENT", Probability: "HIGH", Blocked: true}}
		} else {
			cand.Content = &answerContent{Parts: merge(parts), Role: "model"}
		}
		a.body.Candidates = append(a.body.Candidates, cand)
	}
	usage.CandidatesTokenCount = completion
	usage.ThoughtsTokenCount = thoughts
	usage.TotalTokenCount = prompt + completion + thoughts
	return a
}

func isSafety(reason string) bool {
	switch reason {
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
		return true
	}
	return false
}

// merge joins consecutive text parts of the same kind, as a whole answer
// has them, keeping a signature on the part it was on.
func merge(parts []answerPart) []answerPart {
	var out []answerPart
	for _, p := range parts {
		if n := len(out); n > 0 && p.Text != nil && out[n-1].Text != nil && out[n-1].Thought == p.Thought && out[n-1].ThoughtSignature == "" {
			joined := *out[n-1].Text + *p.Text
			out[n-1].Text = &joined
			out[n-1].ThoughtSignature = p.ThoughtSignature
			continue
		}
		out = append(out, p)
	}
	return out
}

func ptr(s string) *string { return &s }

// promptTokens counts the request's words, and 258 per image as Gemini does.
func promptTokens(req *generateRequest) int {
	n := 0
	count := func(c *content) {
		for _, p := range c.Parts {
			switch {
			case p.Text != nil:
				n += len(providertest.Words(*p.Text))
			case p.InlineData != nil, p.FileData != nil:
				n += 258
			case p.FunctionCall != nil, p.FunctionResponse != nil:
				n += 3
			}
		}
	}
	if req.SystemInstruction != nil {
		count(req.SystemInstruction)
	}
	for i := range req.Contents {
		count(&req.Contents[i])
	}
	return n
}

func writeAnswer(w http.ResponseWriter, a *answer, fault Fault) {
	body, _ := json.MarshalIndent(a.body, "", "  ")
	body = append(body, '\n')
	switch fault {
	case MalformedJSON:
		writeJSON(w, http.StatusOK, body[:len(body)/2])
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		providertest.ResetMidBody(w, body)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// events splits an answer into stream events: event i carries piece i of
// every candidate that has one; a candidate's last event carries its
// finishReason; every event carries the usage so far.
func (a *answer) events(withFinish bool) []answerBody {
	if len(a.body.Candidates) == 0 { // a blocked prompt: one event
		return []answerBody{a.body}
	}
	total := 1
	for _, p := range a.pieces {
		total = max(total, len(p))
	}
	full := a.body.UsageMetadata
	var out []answerBody
	for i := range total {
		ev := answerBody{ModelVersion: a.body.ModelVersion, ResponseID: a.body.ResponseID}
		for k, pieces := range a.pieces {
			last := len(pieces) - 1
			if i > last && !(i == 0 && last < 0) {
				continue
			}
			cand := answerCandidate{Index: k}
			if i <= last {
				cand.Content = &answerContent{Parts: []answerPart{pieces[i]}, Role: "model"}
			}
			if i >= last && withFinish {
				cand.FinishReason = a.finish[k]
				cand.SafetyRatings = a.body.Candidates[k].SafetyRatings
			}
			ev.Candidates = append(ev.Candidates, cand)
		}
		u := *full
		if i < total-1 {
			u.CandidatesTokenCount = full.CandidatesTokenCount * (i + 1) / total
			u.TotalTokenCount = u.PromptTokenCount + u.CandidatesTokenCount + u.ThoughtsTokenCount
		}
		ev.UsageMetadata = &u
		out = append(out, ev)
	}
	return out
}

// writeStream streams the answer; it returns false when the client left
// during a stall. sse selects alt=sse framing; without it Google streams
// one JSON array.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, a *answer, fault Fault, sse bool) bool {
	rc := http.NewResponseController(w)
	events := a.events(fault != EndWithoutFinish)
	if !sse {
		var b strings.Builder
		b.WriteString("[")
		for i, ev := range events {
			if i > 0 {
				b.WriteString(",\r\n")
			}
			j, _ := json.MarshalIndent(ev, "", "  ")
			b.Write(j)
		}
		b.WriteString("]")
		writeJSON(w, http.StatusOK, []byte(b.String()))
		return true
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("Vary", "Origin, X-Origin, Referer")
	w.Header().Set("Server", "scaffolding on HTTPServer2")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	if fault == ResetMidBody {
		panic(http.ErrAbortHandler) // headers, then the connection drops
	}
	send := func(data []byte) {
		w.Write([]byte("data: "))
		w.Write(data)
		w.Write([]byte("\r\n\r\n"))
		rc.Flush()
	}
	for i, ev := range events {
		j, _ := json.Marshal(ev)
		if i == 1 && fault == MalformedJSON {
			send(j[:len(j)/2])
			return true
		}
		send(j)
		if i == 0 {
			switch fault {
			case StallMidStream:
				<-r.Context().Done()
				return false
			case CutMidStream:
				panic(http.ErrAbortHandler)
			case ErrorEventMidStream:
				send([]byte(`{"error":{"code":500,"message":"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting","status":"INTERNAL"}}`))
				return true
			}
		}
	}
	if fault == MalformedJSON && len(events) < 2 {
		send([]byte(`{"candidates": [{"content": {"parts": [{"text": "Hel`))
	}
	return true
}

// embed answers batchEmbedContents with deterministic vectors.
func (s *Server) embed(w http.ResponseWriter, model string, raw []byte, rep Reply) {
	var req batchEmbedRequest
	if err := decodeStrict(raw, &req); err != nil {
		writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", err.Error()))
		return
	}
	switch {
	case len(req.Requests) == 0:
		writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: requests is not specified\n"))
		return
	case len(req.Requests) > 100:
		writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"))
		return
	}
	for i, r := range req.Requests {
		if r.Model != "models/"+model {
			writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: model must be the model of the batch, models/%s\n", i, model)))
			return
		}
		if len(r.Content.Parts) == 0 {
			writeError(w, 0, ErrorBody(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content.parts: contents.parts must not be empty.\n", i)))
			return
		}
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeError(w, rep.Status, rep.Body)
		return
	}
	type values struct {
		Values []float32 `json:"values"`
	}
	var out struct {
		Embeddings []values `json:"embeddings"`
	}
	for _, r := range req.Requests {
		dims := DefaultDimensions
		if r.OutputDimensionality != nil {
			dims = *r.OutputDimensionality
		}
		var text strings.Builder
		for _, p := range r.Content.Parts {
			if p.Text != nil {
				text.WriteString(*p.Text)
			}
		}
		out.Embeddings = append(out.Embeddings, values{Values: Embedding(text.String(), dims)})
	}
	body, _ := json.MarshalIndent(out, "", "  ")
	if rep.Fault == MalformedJSON {
		body = body[:len(body)/2]
	}
	writeJSON(w, http.StatusOK, body)
}

// Embedding is the fake's vector for text: dims values in [-1, 1] drawn
// from a hash of the text, so equal texts embed equally.
func Embedding(text string, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d:%s", i, text)
		v[i] = float32(math.Round((float64(h.Sum64()%2001)/1000-1)*1000) / 1000)
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Vary", "Origin, X-Origin, Referer")
	w.Header().Set("Server", "scaffolding on HTTPServer2")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeError writes an error body with status, or, when status is 0, the
// status the body's code names (500 when it names none).
func writeError(w http.ResponseWriter, status int, body string) {
	if status == 0 {
		var eb struct {
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		status = http.StatusInternalServerError
		if json.Unmarshal([]byte(body), &eb) == nil && eb.Error.Code >= 400 {
			status = eb.Error.Code
		}
	}
	writeJSON(w, status, []byte(body))
}

func writeHTML404(w http.ResponseWriter, path string) {
	body := fmt.Sprintf("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>%s</code> was not found on this server.  <ins>That’s all we know.</ins>\n", path)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, body)
}

// ErrorBody is Google's error body, pretty-printed as Google sends it:
// {"error": {"code", "message", "status", "details"}}. details are raw JSON
// objects ("@type" first).
func ErrorBody(code int, status, message string, details ...string) string {
	msg, _ := json.Marshal(message)
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  \"error\": {\n    \"code\": %d,\n    \"message\": %s,\n    \"status\": %q", code, msg, status)
	if len(details) > 0 {
		b.WriteString(",\n    \"details\": [\n")
		for i, d := range details {
			var v any
			if json.Unmarshal([]byte(d), &v) != nil {
				continue
			}
			j, _ := json.MarshalIndent(v, "      ", "  ")
			b.WriteString("      ")
			b.Write(j)
			if i < len(details)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("    ]")
	}
	b.WriteString("\n  }\n}\n")
	return b.String()
}

// QuotaMessage is Google's message for a 429 RESOURCE_EXHAUSTED.
const QuotaMessage = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\nPlease retry in 17.613709214s."

// RateLimitBody is a 429 RESOURCE_EXHAUSTED for quotaID (such as
// "GenerateRequestsPerMinutePerProjectPerModel-FreeTier") with
// RetryInfo.retryDelay retryDelay ("17s"); no RetryInfo when it is "".
func RateLimitBody(quotaID, retryDelay string) string {
	details := []string{
		fmt.Sprintf(`{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":%q,"quotaDimensions":{"location":"global","model":"gemini-2.5-flash"},"quotaValue":"10"}]}`, quotaID),
		`{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]}`,
	}
	if retryDelay != "" {
		details = append(details, fmt.Sprintf(`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":%q}`, retryDelay))
	}
	return ErrorBody(429, "RESOURCE_EXHAUSTED", QuotaMessage, details...)
}

// Error bodies exactly as Google sends them.
var (
	// MissingKeyBody answers a request without a key.
	MissingKeyBody = ErrorBody(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
	// InvalidKeyBody answers a wrong key.
	InvalidKeyBody = ErrorBody(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}`,
		`{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}`)
	// PermissionDeniedBody answers a key that may not use the API; Google
	// names the key in it.
	PermissionDeniedBody = ErrorBody(403, "PERMISSION_DENIED", "Permission denied: Consumer 'api_key:test-key-not-real' has been suspended.",
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com","metadata":{"consumer":"projects/123456789","service":"generativelanguage.googleapis.com"}}`)
	// UnauthenticatedBody is a 401 (an OAuth token Google refused).
	UnauthenticatedBody = ErrorBody(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
	// ContextBody answers a prompt over the model's input limit.
	ContextBody = ErrorBody(400, "INVALID_ARGUMENT", "The input token count (1290542) exceeds the maximum number of tokens allowed (1048576).")
	// BadArgumentBody answers an out-of-range parameter.
	BadArgumentBody = ErrorBody(400, "INVALID_ARGUMENT", "* GenerateContentRequest.generation_config.temperature: must be between 0 and 2\n")
	// LocationBody answers from a country the API does not serve.
	LocationBody = ErrorBody(400, "FAILED_PRECONDITION", "User location is not supported for the API use.")
	// InternalBody is a 500 INTERNAL.
	InternalBody = ErrorBody(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
	// OverloadedBody is a 503 UNAVAILABLE.
	OverloadedBody = ErrorBody(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	// DeadlineBody is a 504 DEADLINE_EXCEEDED.
	DeadlineBody = ErrorBody(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
)

// NotFoundBody answers a model that does not exist.
func NotFoundBody(model string) string {
	return ErrorBody(404, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", model))
}

// RateLimited is a 429 for a per-minute quota, asking to retry after
// retryDelay ("17s", "0.5s").
func RateLimited(retryDelay string) Reply {
	return Reply{Status: 429, Body: RateLimitBody("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", retryDelay)}
}

// DailyQuota is a 429 for a per-day quota: used up until tomorrow.
func DailyQuota() Reply {
	return Reply{Status: 429, Body: RateLimitBody("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "17s")}
}

// InvalidKey is Google's answer to a wrong key.
func InvalidKey() Reply { return Reply{Status: 400, Body: InvalidKeyBody} }

// Overloaded is a 503 "The model is overloaded".
func Overloaded() Reply { return Reply{Status: 503, Body: OverloadedBody} }

// NotFound is a 404 for model.
func NotFound(model string) Reply { return Reply{Status: 404, Body: NotFoundBody(model)} }

// Status is an error answer with the given status and body.
func Status(status int, body string) Reply { return Reply{Status: status, Body: body} }
