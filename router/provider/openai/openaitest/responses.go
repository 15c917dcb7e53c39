package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/detour-gateway/detour/router/provider/providertest"
)

// The Responses API, POST /v1/responses, answers the same Reply script as
// chat completions, as OpenAI answers it: a Response object, or with
// "stream": true its server-sent events ("event: NAME\ndata: JSON\n\n",
// numbered by sequence_number from 0, no [DONE]). The reply's text is a
// message item, each of its tool calls a function_call item after it
// (call_id "call_fakeN", as in chat); FinishReason "length" makes the
// response incomplete for max_output_tokens ("content_filter" for
// content_filter). The ids are "resp_fakeN", "msg_fakeN" and "fc_fakeN_I",
// N numbering the replies handed out, so two answers never share one. The
// response echoes the request's parameters as the API does (instructions,
// tools, store, temperature, …).
//
// Faults: MalformedJSON cuts the body, or an event, in half; ResetMidBody
// drops the connection mid-body, or right after a stream's headers;
// StallMidStream, CutMidStream and ErrorEventMidStream (response.failed
// with a server_error) strike after the first text delta.
//
// The request must name a model, and give input unless a prompt,
// previous_response_id or conversation stands in for it; members the fake
// does not know are accepted, as the API accepts its many options.

// responsesAnswer is what one Responses reply writes.
type responsesAnswer struct {
	n         int // numbers the ids
	model     string
	text      string
	toolCalls []ToolCall
	// incomplete is incomplete_details.reason, "" for a complete answer.
	incomplete string
	fault      Fault
	request    map[string]any // the request, for the members the response echoes
}

// serveResponses answers POST /v1/responses. The request is recorded
// whether or not it is valid; only a valid one takes a reply.
func (s *Server) serveResponses(w http.ResponseWriter, r *http.Request, raw []byte, body map[string]any) {
	s.Record(Request{Header: r.Header.Clone(), Body: body, Raw: raw, Path: r.URL.Path, Query: r.URL.RawQuery})
	if msg := validateResponses(body); msg != "" {
		writeJSON(w, http.StatusBadRequest, nil, msg)
		return
	}
	rep, n := s.Take()
	if !s.Hold(r.Context(), rep.Delay) {
		return
	}
	for k, vs := range rep.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("X-Request-Id", "req_"+strconv.Itoa(s.Count()))
	if rep.Status != 0 && rep.Status != http.StatusOK {
		writeJSON(w, rep.Status, nil, rep.Body)
		return
	}
	a := responsesAnswer{n: n, text: rep.Text, toolCalls: rep.ToolCalls, fault: rep.Fault, request: body}
	a.model, _ = body["model"].(string)
	if a.text == "" && len(a.toolCalls) == 0 {
		a.text = DefaultText
	}
	switch rep.FinishReason {
	case "length":
		a.incomplete = "max_output_tokens"
	case "content_filter":
		a.incomplete = "content_filter"
	}
	if stream, _ := body["stream"].(bool); stream {
		if !a.writeStream(w, r) {
			s.ClientGone()
		}
		return
	}
	a.writeWhole(w)
}

// validateResponses returns the error body the API answers a request
// without what it must have, "" for a request it takes.
func validateResponses(body map[string]any) string {
	missing := func(param string) string {
		return fmt.Sprintf(`{"error":{"message":"Missing required parameter: '%s'.","type":"invalid_request_error","param":%q,"code":"missing_required_parameter"}}`, param, param)
	}
	switch model := body["model"]; {
	case model == nil || model == "":
		return missing("model")
	case jsonKind(model) != "a string":
		return fmt.Sprintf(`{"error":{"message":"Invalid type for 'model': expected a string, but got %s instead.","type":"invalid_request_error","param":"model","code":"invalid_type"}}`, jsonKind(model))
	}
	for _, k := range []string{"input", "prompt", "previous_response_id", "conversation"} {
		if v, ok := body[k]; ok && v != nil {
			return ""
		}
	}
	return missing("input")
}

// jsonKind names the JSON type of v as the API's messages do.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// status is the response's final status.
func (a *responsesAnswer) status() string {
	if a.incomplete != "" {
		return "incomplete"
	}
	return "completed"
}

// itemStatus is the status of output item i of n when complete: the last
// item of an incomplete response is incomplete too.
func (a *responsesAnswer) itemStatus(i, n int) string {
	if a.incomplete != "" && i == n-1 {
		return "incomplete"
	}
	return "completed"
}

func (a *responsesAnswer) messageID() string { return fmt.Sprintf("msg_fake%d", a.n) }

func (a *responsesAnswer) callID(i int) string { return fmt.Sprintf("fc_fake%d_%d", a.n, i) }

// messageItem is the message item with text, of the given status.
func (a *responsesAnswer) messageItem(text, status string) string {
	content := "[]"
	if status != "in_progress" {
		content = `[{"type":"output_text","annotations":[],"logprobs":[],"text":` + jsonString(text) + `}]`
	}
	return fmt.Sprintf(`{"id":%q,"type":"message","status":%q,"content":%s,"role":"assistant"}`, a.messageID(), status, content)
}

// callItem is function_call item i with arguments, of the given status.
func (a *responsesAnswer) callItem(i int, args, status string) string {
	c := a.toolCalls[i]
	return fmt.Sprintf(`{"id":%q,"type":"function_call","status":%q,"arguments":%s,"call_id":"call_fake%d","name":%q}`,
		a.callID(i), status, jsonString(args), i, c.Name)
}

// output is the whole answer's output items.
func (a *responsesAnswer) output() []string {
	n := len(a.toolCalls)
	if a.text != "" {
		n++
	}
	var items []string
	if a.text != "" {
		items = append(items, a.messageItem(a.text, a.itemStatus(0, n)))
	}
	for i, c := range a.toolCalls {
		items = append(items, a.callItem(i, c.Arguments, a.itemStatus(len(items), n)))
	}
	return items
}

// usage counts as chat's usage does.
func (a *responsesAnswer) usage() string {
	out := outputTokens(a.text, a.toolCalls)
	return fmt.Sprintf(`{"input_tokens":9,"input_tokens_details":{"cached_tokens":0},"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":%d}`, out, 9+out)
}

// response is the Response object with the given status, output items and
// usage ("null" while in progress); failure is its error object, "null"
// for none.
func (a *responsesAnswer) response(status string, output []string, usage, failure string) string {
	incomplete := "null"
	if status == "incomplete" {
		incomplete = fmt.Sprintf(`{"reason":%q}`, a.incomplete)
	}
	echo := func(key, def string) string {
		if v, ok := a.request[key]; ok {
			b, _ := json.Marshal(v)
			return string(b)
		}
		return def
	}
	return fmt.Sprintf(`{"id":"resp_fake%d","object":"response","created_at":1732345678,"status":%q,"background":false,"error":%s,`+
		`"incomplete_details":%s,"instructions":%s,"max_output_tokens":%s,"max_tool_calls":null,"model":%q,"output":[%s],`+
		`"parallel_tool_calls":%s,"previous_response_id":%s,"prompt_cache_key":%s,"reasoning":%s,"safety_identifier":null,`+
		`"service_tier":"default","store":%s,"temperature":%s,"text":%s,"tool_choice":%s,"tools":%s,"top_logprobs":0,"top_p":%s,`+
		`"truncation":%s,"usage":%s,"user":%s,"metadata":%s}`,
		a.n, status, failure, incomplete, echo("instructions", "null"), echo("max_output_tokens", "null"), a.model,
		strings.Join(output, ","), echo("parallel_tool_calls", "true"), echo("previous_response_id", "null"),
		echo("prompt_cache_key", "null"), echo("reasoning", `{"effort":null,"summary":null}`), echo("store", "true"),
		echo("temperature", "1.0"), echo("text", `{"format":{"type":"text"},"verbosity":"medium"}`), echo("tool_choice", `"auto"`),
		echo("tools", "[]"), echo("top_p", "1.0"), echo("truncation", `"disabled"`), usage, echo("user", "null"), echo("metadata", "{}"))
}

// writeWhole answers with the whole Response object.
func (a *responsesAnswer) writeWhole(w http.ResponseWriter) {
	body := a.response(a.status(), a.output(), a.usage(), "null")
	switch a.fault {
	case MalformedJSON:
		writeJSON(w, http.StatusOK, nil, body[:len(body)/2])
	case ResetMidBody:
		w.Header().Set("Content-Type", "application/json")
		providertest.ResetMidBody(w, []byte(body))
	default:
		writeJSON(w, http.StatusOK, nil, body)
	}
}

// responsesEvents writes a response's events, numbering them.
type responsesEvents struct {
	w   io.Writer
	rc  *http.ResponseController
	seq int
}

// send writes the event of type typ with the given members after type and
// sequence_number (JSON members, each with its leading comma).
func (e *responsesEvents) send(typ, members string) {
	fmt.Fprintf(e.w, "event: %s\ndata: {\"type\":%q,\"sequence_number\":%d%s}\n\n", typ, typ, e.seq, members)
	e.seq++
	e.rc.Flush()
}

// writeStream streams the answer as the API does; it returns false when
// the client left during a stall.
func (a *responsesAnswer) writeStream(w http.ResponseWriter, r *http.Request) bool {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	if a.fault == ResetMidBody {
		panic(http.ErrAbortHandler) // headers, then nothing
	}
	e := &responsesEvents{w: w, rc: rc}
	started := a.response("in_progress", nil, "null", "null")
	e.send("response.created", `,"response":`+started)
	e.send("response.in_progress", `,"response":`+started)
	if a.fault == MalformedJSON {
		fmt.Fprintf(w, "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":%d,\"output_index\":0,\"item\":{\"id\":\"msg_\n\n", e.seq)
		rc.Flush()
		return true
	}
	n := len(a.toolCalls)
	if a.text != "" {
		n++
	}
	var output []string // the items done
	if a.text != "" {
		id := jsonString(a.messageID())
		e.send("response.output_item.added", `,"output_index":0,"item":`+a.messageItem("", "in_progress"))
		e.send("response.content_part.added", `,"item_id":`+id+`,"output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}`)
		var sent strings.Builder
		for i, word := range providertest.Words(a.text) {
			sent.WriteString(word)
			e.send("response.output_text.delta", `,"item_id":`+id+`,"output_index":0,"content_index":0,"delta":`+jsonString(word)+`,"logprobs":[],"obfuscation":"f4k3"`)
			if i > 0 {
				continue
			}
			switch a.fault {
			case StallMidStream:
				<-r.Context().Done()
				return false
			case CutMidStream:
				panic(http.ErrAbortHandler)
			case ErrorEventMidStream:
				partial := fmt.Sprintf(`{"id":%q,"type":"message","status":"incomplete","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":%s}],"role":"assistant"}`,
					a.messageID(), jsonString(sent.String()))
				failure := `{"code":"server_error","message":"The server had an error while processing your request. Sorry about that!"}`
				e.send("response.failed", `,"response":`+a.response("failed", []string{partial}, "null", failure))
				return true
			}
		}
		text := jsonString(a.text)
		e.send("response.output_text.done", `,"item_id":`+id+`,"output_index":0,"content_index":0,"text":`+text+`,"logprobs":[]`)
		e.send("response.content_part.done", `,"item_id":`+id+`,"output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":`+text+`}`)
		item := a.messageItem(a.text, a.itemStatus(0, n))
		e.send("response.output_item.done", `,"output_index":0,"item":`+item)
		output = append(output, item)
	}
	for i, c := range a.toolCalls {
		// The arguments in two deltas, as OpenAI streams them.
		index, id := strconv.Itoa(len(output)), jsonString(a.callID(i))
		e.send("response.output_item.added", `,"output_index":`+index+`,"item":`+a.callItem(i, "", "in_progress"))
		half := len(c.Arguments) / 2
		for _, piece := range []string{c.Arguments[:half], c.Arguments[half:]} {
			e.send("response.function_call_arguments.delta", `,"item_id":`+id+`,"output_index":`+index+`,"delta":`+jsonString(piece)+`,"obfuscation":"f4k3"`)
		}
		e.send("response.function_call_arguments.done", `,"item_id":`+id+`,"output_index":`+index+`,"arguments":`+jsonString(c.Arguments))
		item := a.callItem(i, c.Arguments, a.itemStatus(len(output), n))
		e.send("response.output_item.done", `,"output_index":`+index+`,"item":`+item)
		output = append(output, item)
	}
	e.send("response."+a.status(), `,"response":`+a.response(a.status(), output, a.usage(), "null"))
	return true
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
