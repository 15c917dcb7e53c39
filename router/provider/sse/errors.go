package sse

import (
	"errors"
	"io"
	"net/http"

	"github.com/detour-gateway/detour/router/provider"
)

// ReadError classifies an error from Reader.Next that ended a 200 stream
// from the provider called name before its proper end: an end of the body
// (io.EOF, io.ErrUnexpectedEOF) is Connection, the answer cut short; an
// event over MaxEventBytes is ServerError; both have Status 200, the
// stream's. Anything else, a reset connection or a deadline, is classified
// by provider.TransportError.
func ReadError(name string, err error) *provider.Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &provider.Error{Class: provider.Connection, Status: http.StatusOK,
			Message: "the stream from " + name + " ended before the answer was complete", Err: err}
	}
	if errors.Is(err, ErrEventTooLarge) {
		return &provider.Error{Class: provider.ServerError, Status: http.StatusOK, Message: name + " sent an oversized stream event", Err: err}
	}
	return provider.TransportError(err)
}
