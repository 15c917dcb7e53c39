package chat

import (
	"encoding/json"
	"testing"
)

// A tool call's function object keeps the members it does not model and
// matches member names exactly, like every other object: found by
// FuzzRequest (a member lost) and FuzzKey (member order changed the key).
func TestFunctionCallKeepsUnknownMembers(t *testing.T) {
	in := `{"name":"get_weather","arguments":"{}","Name":"other","x_fn":{"a":1}}`
	var f FunctionCall
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.Name != "get_weather" || string(f.Extra["Name"]) != `"other"` || string(f.Extra["x_fn"]) != `{"a":1}` {
		t.Errorf("decoded %+v", f)
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"get_weather","arguments":"{}","Name":"other","x_fn":{"a":1}}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}

	var a Assembler
	i := 0
	a.Add(&Chunk{ID: "c", Choices: []ChunkChoice{{Delta: Delta{ToolCalls: []ToolCall{{Index: &i, ID: "call_1", Function: f}}}}}})
	a.Add(&Chunk{ID: "c", Choices: []ChunkChoice{{Delta: Delta{ToolCalls: []ToolCall{{Index: &i, Function: FunctionCall{Arguments: "x"}}}}}}})
	got := a.Response().Choices[0].Message.ToolCalls[0].Function
	if got.Name != "get_weather" || got.Arguments != "{}x" || string(got.Extra["x_fn"]) != `{"a":1}` {
		t.Errorf("assembled %+v", got)
	}
}
