package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/detour-gateway/detour/chat"
)

// KeyVersion is part of every key; bump it when the canonical form changes
// so old entries stop matching instead of answering wrongly.
const KeyVersion = 1

// Excluded lists the request members that do not change the answer and so
// are left out of the key: how the answer is delivered (stream,
// stream_options), who asked (user, metadata), Detour's own cache control
// (cache), and OpenAI's storage flag (store). Every other member counts,
// including provider-specific extras. Never modified.
var Excluded = map[string]bool{
	"model":  true, // replaced by the model group
	"stream": true, "stream_options": true,
	"user": true, "metadata": true,
	"cache": true, "store": true,
}

// Key returns the cache key of req for a model group and namespace: a
// SHA-256 over a canonical JSON encoding of every member that changes the
// answer. Members are sorted, insignificant whitespace is gone, and numbers
// are normalised (1, 1.0 and 1e0 are one number), so two requests that
// differ only in key order, spacing or number spelling share a key.
func Key(group, namespace string, req *chat.Request) ([32]byte, error) {
	raw, err := json.Marshal(req)
	if err != nil {
		return [32]byte{}, fmt.Errorf("cache key: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var members map[string]any
	if err := dec.Decode(&members); err != nil {
		return [32]byte{}, fmt.Errorf("cache key: %w", err)
	}
	for k := range Excluded {
		delete(members, k)
	}
	// Hashed as it is written: a long prompt is not copied once more.
	h := sha256.New()
	fmt.Fprintf(h, "detour-cache/%d\x00%s\x00%s\x00", KeyVersion, group, namespace)
	if err := canonical(h, members); err != nil {
		return [32]byte{}, fmt.Errorf("cache key: %w", err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, nil
}

// canonical writes v as JSON with sorted object keys (encoding/json sorts
// map keys) and normalised numbers.
func canonical(w io.Writer, v any) error {
	n, err := normalise(v)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(n)
}

// normalise rewrites numbers, recursively, to one spelling: integers
// without exponent or fraction, others in the shortest form that reads back
// the same float64.
func normalise(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, err
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return json.RawMessage(strconv.FormatInt(int64(f), 10)), nil
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case map[string]any:
		for k, x := range v {
			n, err := normalise(x)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
	case []any:
		for i, x := range v {
			n, err := normalise(x)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
	}
	return v, nil
}
