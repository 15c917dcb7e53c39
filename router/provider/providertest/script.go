// Package providertest holds helpers for fake provider servers in tests
// (openaitest, anthropictest, geminitest, ollamatest), and for the adapter
// tests that run against them: the replies a fake hands out and the
// requests it records (Script), golden files (Golden), and small helpers
// every adapter's tests need.
package providertest

import (
	"context"
	"sync"
	"time"
)

// Script is the bookkeeping every fake provider server shares: the replies
// it was given, handed out in order with the last one repeating; the
// requests it received; and how many clients left while it held an answer
// back. A fake embeds it, so SetReplies, Requests, Count and Disconnects
// are the fake's own methods; its handler calls Next (or Record, then
// Take for a request that passed validation), Hold and ClientGone.
//
// The zero value has no replies: Take hands out the zero Reply, which a
// fake answers normally. A Script is safe for concurrent use and must not
// be copied after first use.
type Script[Reply, Request any] struct {
	mu       sync.Mutex
	replies  []Reply
	requests []Request
	taken    int // replies handed out
	gone     int // clients that left while held back
}

// SetReplies replaces the replies still to come.
func (s *Script[Reply, Request]) SetReplies(replies ...Reply) {
	s.mu.Lock()
	s.replies = replies
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Script[Reply, Request]) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests were received.
func (s *Script[Reply, Request]) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Disconnects returns how many requests the client abandoned while the fake
// was holding back (a Delay or a stall).
func (s *Script[Reply, Request]) Disconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone
}

// ClientGone counts a request the client abandoned while the fake was
// holding its answer back.
func (s *Script[Reply, Request]) ClientGone() {
	s.mu.Lock()
	s.gone++
	s.mu.Unlock()
}

// Record adds req to the requests received.
func (s *Script[Reply, Request]) Record(req Request) {
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
}

// Take hands out the next reply, and how many replies have been handed out
// with it, counting from 1. The last reply repeats; with none, the reply is
// the zero Reply.
func (s *Script[Reply, Request]) Take() (Reply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.take()
}

// Next records req and hands out the next reply, as Record and Take do,
// in one step.
func (s *Script[Reply, Request]) Next(req Request) (Reply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	return s.take()
}

// take is Take with s.mu held.
func (s *Script[Reply, Request]) take() (Reply, int) {
	s.taken++
	if len(s.replies) == 0 {
		var zero Reply
		return zero, s.taken
	}
	rep := s.replies[0]
	if len(s.replies) > 1 {
		s.replies = s.replies[1:]
	}
	return rep, s.taken
}

// Hold waits d before the fake answers (a slow first byte). It returns
// false, and counts a disconnect, when ctx (the request's) ends first; a d
// of 0 or less returns true at once.
func (s *Script[Reply, Request]) Hold(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		s.ClientGone()
		return false
	}
}
