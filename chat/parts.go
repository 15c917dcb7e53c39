package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Part is one element of a content array: text, or an image.
type Part struct {
	// Type is "text" or "image_url" (others pass through in Extra).
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`

	Extra Extra `json:"-"`
}

// ImageURL points at an image: an http(s) URL or a data: URL with the bytes.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type plainPart Part

var partFields = fieldsOf(reflect.TypeFor[plainPart]())

// UnmarshalJSON decodes a Part, keeping unknown members in Extra.
func (p *Part) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainPart)(p), &p.Extra, partFields)
}

// MarshalJSON encodes a Part with the members kept in Extra, as
// json.Marshal would write it.
func (p Part) MarshalJSON() ([]byte, error) {
	return finish(&p, partsSize([]Part{p}), encodePart)
}

// MarshalParts encodes parts as a JSON array, as json.Marshal(parts)
// would, without encoding/json's second pass over the text: the content of
// a message built from parts.
func MarshalParts(parts []Part) (json.RawMessage, error) {
	return finish(&parts, partsSize(parts), func(e *encoder, parts *[]Part) { array(e, *parts, encodePart) })
}

// Parts returns the message's content as parts: a string content is one
// text part, null or missing content is none.
func (m Message) Parts() ([]Part, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return nil, nil
	}
	if c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		return []Part{{Type: "text", Text: s}}, nil
	}
	var parts []Part
	if err := json.Unmarshal(c, &parts); err != nil {
		return nil, fmt.Errorf("content must be a string or an array of content parts: %w", err)
	}
	return parts, nil
}
