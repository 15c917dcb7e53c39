package server

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"time"

	"github.com/detour-gateway/detour/chat"
)

// embeddings serves POST /v1/embeddings: decode, route, answer, with the
// vectors as floats or, for encoding_format "base64", as base64 of
// little-endian float32s, as OpenAI sends them.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	ex := &exchange{id: s.opts.NewID(), start: time.Now(), api: "embeddings"}
	w.Header().Set("X-Detour-Request-Id", ex.id)
	defer s.logExchange(ex)

	var req chat.EmbeddingRequest
	apiErr := s.readJSON(w, r, &req)
	if apiErr == nil {
		apiErr = checkEmbeddingRequest(&req)
	}
	if apiErr != nil {
		ex.status = apiErr.Status
		writeError(w, apiErr)
		return
	}
	ex.group = req.Model
	resp, tr, err := s.opts.Router().Embed(r.Context(), &req)
	ex.trace = tr
	if err != nil {
		ex.status = s.writeRouteError(w, req.Model, tr, err)
		return
	}
	if resp.Model == "" {
		resp.Model = tr.Answered.Model
	}
	setRouteHeaders(w.Header(), tr)
	if req.EncodingFormat != "base64" {
		ex.status = writeJSON(w, resp)
		return
	}
	ex.status = writeJSON(w, base64Embeddings(resp))
}

func checkEmbeddingRequest(req *chat.EmbeddingRequest) *apiError {
	switch {
	case req.Model == "":
		return invalidRequest("you must provide a model parameter (a model group from GET /v1/models)", "model")
	case len(req.Input) == 0 || string(req.Input) == "null":
		return invalidRequest("input is required: a string or an array of strings", "input")
	case req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64":
		return invalidRequest(`encoding_format must be "float" or "base64"`, "encoding_format")
	}
	return nil
}

// base64Response is an EmbeddingResponse with base64-encoded vectors.
type base64Response struct {
	Object string               `json:"object"`
	Data   []base64Embedding    `json:"data"`
	Model  string               `json:"model"`
	Usage  *chat.EmbeddingUsage `json:"usage,omitempty"`
}

type base64Embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding string `json:"embedding"`
}

func base64Embeddings(resp *chat.EmbeddingResponse) base64Response {
	out := base64Response{Object: resp.Object, Model: resp.Model, Usage: resp.Usage, Data: make([]base64Embedding, len(resp.Data))}
	for i, e := range resp.Data {
		b := make([]byte, 4*len(e.Embedding))
		for j, f := range e.Embedding {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(f))
		}
		out.Data[i] = base64Embedding{Object: e.Object, Index: e.Index, Embedding: base64.StdEncoding.EncodeToString(b)}
	}
	return out
}
