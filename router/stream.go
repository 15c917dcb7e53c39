package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/detour-gateway/detour/chat"
	"github.com/detour-gateway/detour/router/provider"
)

// errFirstByteTimeout is the cause when stream_timeout passes before the
// first content chunk.
var errFirstByteTimeout = errors.New("no content within stream_timeout")

// Stream is a routed answer arriving in chunks. Routing is over by the time
// the caller has it: Stream returns only once an upstream sent its first
// content chunk, so retries and failover never show in a stream, and a
// failure after that ends the stream rather than splicing in another
// answer. Its cost is recorded when it ends: from the usage it reported
// when it completes, as of unknown cost when it breaks or is closed early
// (tokens were spent; how many is not known).
type Stream struct {
	held   []*chat.Chunk // read while waiting for content, not yet returned
	up     provider.Stream
	cancel func()
	closed bool
	hold   Hold
	usage  *chat.Usage // the last usage a chunk reported
	billed bool        // hold is settled
}

// Recv returns the next chunk, io.EOF at the end, or an *provider.Error.
func (s *Stream) Recv() (*chat.Chunk, error) {
	if len(s.held) > 0 {
		c := s.held[0]
		s.held = s.held[1:]
		s.note(c)
		return c, nil
	}
	c, err := s.up.Recv()
	switch {
	case err == io.EOF:
		s.bill(s.usage)
		return nil, err
	case err != nil:
		s.bill(nil)
		return nil, provider.AsError(err)
	}
	s.note(c)
	return c, nil
}

// note keeps the usage a chunk reports.
func (s *Stream) note(c *chat.Chunk) {
	if c != nil && c.Usage != nil {
		s.usage = c.Usage
	}
}

// bill settles the stream's budget reservation once.
func (s *Stream) bill(usage *chat.Usage) {
	if s.billed || s.hold == nil {
		return
	}
	s.billed = true
	s.hold.Commit(usage)
}

// Close ends the upstream call. Closing before the end cancels it.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.bill(nil)
	err := s.up.Close()
	s.cancel()
	return err
}

// Stream routes a streamed request. It returns once a deployment sent its
// first content chunk; every failure before that is retried or failed over
// like a non-streamed request. The caller must Close the Stream.
func (r *Router) Stream(ctx context.Context, req *chat.Request) (*Stream, *Trace, error) {
	ctx, cancel := context.WithTimeout(ctx, r.settings.Timeout)
	var out *Stream
	tr, err := r.route(ctx, req.Model, r.newRouting(ctx, req, func(ctx context.Context, d *Deployment) (*chat.Usage, error) {
		s, err := r.openStream(ctx, d, req)
		out = s
		return nil, err
	}))
	if err != nil {
		cancel()
		return nil, tr, err
	}
	attemptCancel := out.cancel
	out.cancel = func() { attemptCancel(); cancel() }
	out.hold = tr.hold
	return out, tr, nil
}

// openStream makes one streamed attempt on d and reads up to its first
// content chunk.
func (r *Router) openStream(ctx context.Context, d *Deployment, req *chat.Request) (*Stream, error) {
	actx, cancelCause := context.WithCancelCause(ctx)
	cancelTimeout := func() {}
	if d.Timeout > 0 {
		actx, cancelTimeout = context.WithTimeout(actx, d.Timeout)
	}
	cancel := func() { cancelTimeout(); cancelCause(context.Canceled) }
	firstByte := d.StreamTimeout
	if firstByte <= 0 {
		firstByte = d.Timeout
	}
	stopTimer := func() bool { return true }
	if firstByte > 0 {
		stopTimer = time.AfterFunc(firstByte, func() { cancelCause(errFirstByteTimeout) }).Stop
	}
	fail := func(err error) error {
		stopTimer()
		cancel()
		if errors.Is(context.Cause(actx), errFirstByteTimeout) && ctx.Err() == nil {
			return &provider.Error{Class: provider.Timeout, Err: err, Message: fmt.Sprintf(
				"%s sent no content within stream_timeout (%s)", d.Provider, firstByte)}
		}
		return err
	}
	up, err := d.Client.Stream(actx, req)
	if err != nil {
		return nil, fail(err)
	}
	var held []*chat.Chunk
	for {
		c, err := up.Recv()
		if err == io.EOF {
			up.Close()
			return nil, fail(&provider.Error{Class: provider.ServerError,
				Message: d.Provider + " ended the stream without any content"})
		}
		if err != nil {
			up.Close()
			return nil, fail(err)
		}
		held = append(held, c)
		if c.HasContent() {
			stopTimer()
			return &Stream{held: held, up: up, cancel: cancel}, nil
		}
	}
}
