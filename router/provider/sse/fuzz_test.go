package sse

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader feeds arbitrary bytes to the event reader. It must never
// panic and must end, with io.EOF, or io.ErrUnexpectedEOF when the bytes
// stop inside an event. The events depend on the bytes only, not on how
// they arrive: the default reader, one whose buffer is the smallest bufio
// allows (so every line longer than 16 bytes takes the long-line path) and
// one fed a byte at a time all give the events of a line-by-line reading of
// the format (parseEvents).
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		": keep-alive\r\n\r\nevent: message_start\r\ndata: {}\r\n\r\n",
		"data: a\ndata: b\nid: 7\nretry: 10\n\n",
		"data:x\n\ndata:  two spaces\n\ndata\n\ndata:\n\n",
		"event: ping\n\nevent:\n\nevent: error\ndata: {\"error\":{}}\n\n",
		"id: 1\n\n: comment only\n",
		"data: {\"a\":1}\n\ndata: {\"b\"",
		"data: x\n",
		"data: x\r\n\r",
		"\n\n\r\n",
		"data: a\rb\n\n",
		"data: " + string(bytes.Repeat([]byte("x"), 100)) + "\n\n",
		"dATa: case\n\nDATA: x\n\n",
		"data: \xff\xfe\x00\n\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := parseEvents(in)
		readers := []struct {
			name string
			r    *Reader
		}{
			{"default", NewReader(bytes.NewReader(in))},
			{"16-byte", &Reader{br: bufio.NewReaderSize(bytes.NewReader(in), 16)}},
			{"byte-wise", NewReader(iotest.OneByteReader(bytes.NewReader(in)))},
		}
		for _, rr := range readers {
			name, r := rr.name, rr.r
			var got []Event
			var err error
			for {
				var ev Event
				if ev, err = r.Next(); err != nil {
					break
				}
				if len(got) == len(want) {
					t.Fatalf("%s reader: more than the %d events in %q", name, len(want), in)
				}
				got = append(got, Event{Name: ev.Name, Data: bytes.Clone(ev.Data)})
			}
			if err != wantErr {
				t.Fatalf("%s reader: ended with %v, want %v", name, err, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%s reader: %d events, want %d", name, len(got), len(want))
			}
			for i := range got {
				if got[i].Name != want[i].Name || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("%s reader: event %d = %q %q, want %q %q", name, i, got[i].Name, got[i].Data, want[i].Name, want[i].Data)
				}
			}
			// A reader that has ended stays ended.
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("%s reader: Next after the end = %v", name, err)
			}
		}
		if pe := ReadError("openai", wantErr); pe.Class == "" || pe.Status != 200 || pe.Message == "" {
			t.Fatalf("ReadError(%v) = %+v", wantErr, pe)
		}
	})
}

// parseEvents is the reference the fuzz target holds Reader to: the
// text/event-stream format as Reader documents it, read a whole line at a
// time. Lines end in "\n" or "\r\n"; a blank line dispatches the event
// gathered so far if it has data or a name; ":" starts a comment; a field's
// value loses one leading space; data lines join with "\n"; fields other
// than data and event are ignored but, like them, start an event. The
// bytes after the last "\n" are a line cut short. It ignores
// MaxEventBytes: the fuzzer's inputs are far smaller.
func parseEvents(in []byte) ([]Event, error) {
	lines := bytes.Split(in, []byte("\n"))
	last := lines[len(lines)-1] // after the last "\n": "" when in ends a line
	lines = lines[:len(lines)-1]
	var events []Event
	var ev Event
	var dataLines [][]byte
	started := false
	for _, line := range lines {
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(line) == 0:
			if dataLines != nil || ev.Name != "" {
				ev.Data = bytes.Join(dataLines, []byte("\n"))
				events = append(events, ev)
			}
			ev, dataLines, started = Event{}, nil, false
		case line[0] == ':':
		default:
			started = true
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "data":
				dataLines = append(dataLines, value)
			case "event":
				ev.Name = string(value)
			}
		}
	}
	if len(last) > 0 || started {
		return events, io.ErrUnexpectedEOF
	}
	return events, io.EOF
}
