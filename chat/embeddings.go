package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// EmbeddingRequest is an embeddings request (POST /v1/embeddings).
type EmbeddingRequest struct {
	Model string `json:"model"`
	// Input is a string, an array of strings, or token arrays, kept as it
	// came; Texts reads it.
	Input json.RawMessage `json:"input"`
	// EncodingFormat is "float" (default) or "base64". Adapters always ask
	// their upstream for floats; the server encodes base64 for the client.
	EncodingFormat string `json:"encoding_format,omitempty"`
	Dimensions     *int   `json:"dimensions,omitempty"`
	User           string `json:"user,omitempty"`

	Extra Extra `json:"-"`
}

// Texts returns the inputs as strings. Token-array inputs, which only
// OpenAI-compatible services accept, are an error here.
func (r *EmbeddingRequest) Texts() ([]string, error) {
	in := bytes.TrimSpace(r.Input)
	if len(in) == 0 || bytes.Equal(in, []byte("null")) {
		return nil, fmt.Errorf("input is required")
	}
	if in[0] == '"' {
		var s string
		if err := json.Unmarshal(in, &s); err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		return []string{s}, nil
	}
	var many []string
	if err := json.Unmarshal(in, &many); err != nil {
		return nil, fmt.Errorf("input must be a string or an array of strings")
	}
	if len(many) == 0 {
		return nil, fmt.Errorf("input must not be empty")
	}
	return many, nil
}

// EmbeddingResponse is the answer to an EmbeddingRequest.
type EmbeddingResponse struct {
	// Object is "list".
	Object string          `json:"object"`
	Data   []Embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  *EmbeddingUsage `json:"usage,omitempty"`

	Extra Extra `json:"-"`
}

// EmbeddingUsage counts the tokens of an embeddings request.
type EmbeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// Embedding is one input's vector.
type Embedding struct {
	// Object is "embedding".
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

type (
	plainEmbeddingRequest  EmbeddingRequest
	plainEmbeddingResponse EmbeddingResponse
)

var (
	embeddingRequestFields  = fieldsOf(reflect.TypeFor[plainEmbeddingRequest]())
	embeddingResponseFields = fieldsOf(reflect.TypeFor[plainEmbeddingResponse]())
)

// UnmarshalJSON decodes an EmbeddingRequest, keeping unknown members in Extra.
func (r *EmbeddingRequest) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainEmbeddingRequest)(r), &r.Extra, embeddingRequestFields)
}

// MarshalJSON encodes an EmbeddingRequest with the members kept in Extra,
// as json.Marshal would write it.
func (r EmbeddingRequest) MarshalJSON() ([]byte, error) {
	return finish(&r, 128+len(r.Input), encodeEmbeddingRequest)
}

// UnmarshalJSON decodes an EmbeddingResponse, keeping unknown members in Extra.
func (r *EmbeddingResponse) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainEmbeddingResponse)(r), &r.Extra, embeddingResponseFields)
}

// MarshalJSON encodes an EmbeddingResponse with the members kept in
// Extra, as json.Marshal would write it.
func (r EmbeddingResponse) MarshalJSON() ([]byte, error) {
	size := 128
	for _, d := range r.Data {
		size += 48 + 12*len(d.Embedding)
	}
	return finish(&r, size, encodeEmbeddingResponse)
}
