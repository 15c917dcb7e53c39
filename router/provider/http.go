package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds the body of an answer that ReadAnswer reads, and of a
// failed answer that Send reads for classification, in bytes: 64 MiB.
const maxBody = 64 << 20

// NewRequest returns a POST of body, a JSON document, to url, with the
// Content-Type and Accept headers set: accept is "application/json", or
// "text/event-stream" for a stream. A url that does not parse is a local
// BadRequest naming the provider (name): the deployment's api_base is
// wrong.
func NewRequest(ctx context.Context, name, url string, body []byte, accept string) (*http.Request, *Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Class: BadRequest, Local: true, Message: "invalid api_base for " + name, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	return req, nil
}

// SetKey fetches the API key for one request from key and, when there is
// one, hands it to set, which puts it on the request (a header). A nil key,
// or an empty key, sends none. A failure to fetch it is an Auth error with
// Local set: nothing was sent, so it says nothing of the provider's health.
func SetKey(ctx context.Context, key KeyFunc, set func(key string)) *Error {
	if key == nil {
		return nil
	}
	k, err := key(ctx)
	if err != nil {
		return &Error{Class: Auth, Local: true, Message: err.Error(), Err: err}
	}
	if k != "" {
		set(k)
	}
	return nil
}

// Send sends req with client and returns the response when its status is
// 200 OK; the caller reads and closes its body. A failure to send it or to
// receive the answer's headers is classified by TransportError. An answer
// with any other status is read, up to 64 MiB (a read error keeps what
// arrived), and closed, and Send returns what classify makes of its status,
// headers and body.
func Send(client *http.Client, req *http.Request, classify func(status int, header http.Header, body []byte) *Error) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, TransportError(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return nil, classify(resp.StatusCode, resp.Header, body)
}

// ReadAnswer reads and closes the body of a 200 answer from the provider
// called name, up to 64 MiB: the rest is dropped, so a larger answer will
// not decode. what names the answer in the error ("answer", "embeddings").
// A failure to read it is classified by TransportError.
func ReadAnswer(resp *http.Response, name, what string) ([]byte, *Error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, TransportError(fmt.Errorf("read %s from %s: %w", what, name, err))
	}
	return body, nil
}
