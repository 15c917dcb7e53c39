package server

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/detour-gateway/detour/redact"
)

// response is the ResponseWriter every handler writes through. It starts
// the write timeout when the answer starts, and holds back error answers
// (and, with all, every answer) until the end to remove the secrets
// Detour knows from them. Successful model answers pass straight through:
// their bytes are the upstream's own, and streams must flow.
type response struct {
	http.ResponseWriter
	secrets      *redact.Secrets
	writeTimeout time.Duration
	all          bool // hold back every answer (the management API)
	// errorShape writes an error in the client's dialect; nil means
	// OpenAI's shape.
	errorShape  func(*apiError) []byte
	held        bool // the answer is being held back
	wroteHeader bool
	status      int
	buf         bytes.Buffer
}

// Unwrap returns the ResponseWriter response wraps, for
// http.ResponseController.
func (w *response) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.status = true, code
	if w.writeTimeout > 0 {
		http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
	if w.secrets.Len() > 0 && (w.all || code >= http.StatusBadRequest) {
		w.held = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.held {
		return w.buf.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush sends what was written, unless the answer is held back.
func (w *response) Flush() {
	if !w.held {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// finish writes a held-back answer with the secrets removed.
func (w *response) finish() {
	if !w.held {
		return
	}
	b := w.secrets.Bytes(w.buf.Bytes())
	if w.Header().Get("Content-Length") != "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(b)
}
