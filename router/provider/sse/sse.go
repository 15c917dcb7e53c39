// Package sse reads server-sent events (text/event-stream), the framing
// OpenAI-compatible and other LLM APIs stream answers in.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxEventBytes bounds one event's size, so a broken upstream cannot make
// Detour buffer without limit. 8 MiB.
const MaxEventBytes = 8 << 20

// ErrEventTooLarge is returned for an event over MaxEventBytes.
var ErrEventTooLarge = errors.New("sse: event too large")

// Event is one dispatched event.
type Event struct {
	// Name is the event field, "" when absent (the default "message").
	Name string
	// Data is the event's data lines joined by "\n".
	Data []byte
}

// Reader reads events from a stream.
type Reader struct {
	br *bufio.Reader
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 32<<10)}
}

// Next returns the next event. It returns io.EOF when the stream ends
// cleanly between events, and io.ErrUnexpectedEOF when it ends inside one.
// Comment lines (": keep-alive") and the id and retry fields are skipped.
func (r *Reader) Next() (Event, error) {
	var (
		ev      Event
		data    []byte
		hasData bool
		started bool
	)
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && started {
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !hasData && ev.Name == "" {
				started = false
				continue // blank lines between events
			}
			ev.Data = data
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		started = true
		field, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
			if len(data) > MaxEventBytes {
				return Event{}, ErrEventTooLarge
			}
		case "event":
			ev.Name = string(value)
		}
	}
}

// readLine returns one line without its "\n" or "\r\n". The slice is valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line: gather it in a fresh buffer.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			buf = append(buf, line...)
			if len(buf) > MaxEventBytes {
				return nil, ErrEventTooLarge
			}
		}
		line = buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF // a line cut short
		}
		if err != io.EOF {
			return nil, fmt.Errorf("read event stream: %w", err)
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// AppendEvent appends ev to dst framed as "event: NAME\ndata: DATA\n\n"
// (without the event line when Name is empty): how Anthropic's and
// OpenAI's streams frame their events, so an event read and framed again
// is the upstream's bytes.
func AppendEvent(dst []byte, ev Event) []byte {
	if ev.Name != "" {
		dst = append(append(append(dst, "event: "...), ev.Name...), '\n')
	}
	return append(append(append(dst, "data: "...), ev.Data...), "\n\n"...)
}
