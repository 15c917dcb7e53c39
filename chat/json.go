package chat

// JSON methods of the types that keep unknown members in Extra. Decoding
// delegates to the type's plain twin (see extra.go); encoding is done by
// the type's own encoder (see encode.go).

func setExtra(data []byte, plain any, extra *Extra, known fieldSet) error {
	e, err := decodeWithExtra(data, plain, known)
	if err != nil {
		return err
	}
	*extra = e
	return nil
}

// UnmarshalJSON decodes a Request, keeping unknown members in Extra.
func (r *Request) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainRequest)(r), &r.Extra, requestFields)
}

// MarshalJSON encodes a Request with the members kept in Extra, as json.Marshal
// would write it.
func (r Request) MarshalJSON() ([]byte, error) {
	return finish(&r, requestSize(&r), encodeRequest)
}

// UnmarshalJSON decodes a StreamOptions, keeping unknown members in Extra.
func (s *StreamOptions) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainStreamOptions)(s), &s.Extra, streamOptionsFields)
}

// MarshalJSON encodes a StreamOptions with the members kept in Extra, as json.Marshal
// would write it.
func (s StreamOptions) MarshalJSON() ([]byte, error) {
	return finish(&s, 128, encodeStreamOptions)
}

// UnmarshalJSON decodes a Message, keeping unknown members in Extra.
func (m *Message) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainMessage)(m), &m.Extra, messageFields)
}

// MarshalJSON encodes a Message with the members kept in Extra, as json.Marshal
// would write it.
func (m Message) MarshalJSON() ([]byte, error) {
	return finish(&m, messageSize(&m), encodeMessage)
}

// UnmarshalJSON decodes a Tool, keeping unknown members in Extra.
func (t *Tool) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainTool)(t), &t.Extra, toolFields)
}

// MarshalJSON encodes a Tool with the members kept in Extra, as json.Marshal
// would write it.
func (t Tool) MarshalJSON() ([]byte, error) {
	return finish(&t, 128, encodeTool)
}

// UnmarshalJSON decodes a FunctionDef, keeping unknown members in Extra.
func (f *FunctionDef) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainFunctionDef)(f), &f.Extra, functionDefFields)
}

// MarshalJSON encodes a FunctionDef with the members kept in Extra, as json.Marshal
// would write it.
func (f FunctionDef) MarshalJSON() ([]byte, error) {
	return finish(&f, 128, encodeFunctionDef)
}

// UnmarshalJSON decodes a ToolCall, keeping unknown members in Extra.
func (t *ToolCall) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainToolCall)(t), &t.Extra, toolCallFields)
}

// MarshalJSON encodes a ToolCall with the members kept in Extra, as json.Marshal
// would write it.
func (t ToolCall) MarshalJSON() ([]byte, error) {
	return finish(&t, 128, encodeToolCall)
}

// UnmarshalJSON decodes a FunctionCall, keeping unknown members in Extra.
func (f *FunctionCall) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainFunctionCall)(f), &f.Extra, functionCallFields)
}

// MarshalJSON encodes a FunctionCall with the members kept in Extra, as json.Marshal
// would write it.
func (f FunctionCall) MarshalJSON() ([]byte, error) {
	return finish(&f, 128, encodeFunctionCall)
}

// UnmarshalJSON decodes a Response, keeping unknown members in Extra.
func (r *Response) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainResponse)(r), &r.Extra, responseFields)
}

// MarshalJSON encodes a Response with the members kept in Extra, as json.Marshal
// would write it.
func (r Response) MarshalJSON() ([]byte, error) {
	return finish(&r, responseSize(&r), encodeResponse)
}

// UnmarshalJSON decodes a Choice, keeping unknown members in Extra.
func (c *Choice) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainChoice)(c), &c.Extra, choiceFields)
}

// MarshalJSON encodes a Choice with the members kept in Extra, as json.Marshal
// would write it.
func (c Choice) MarshalJSON() ([]byte, error) {
	return finish(&c, 128, encodeChoice)
}

// UnmarshalJSON decodes a Chunk, keeping unknown members in Extra.
func (c *Chunk) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainChunk)(c), &c.Extra, chunkFields)
}

// MarshalJSON encodes a Chunk with the members kept in Extra, as json.Marshal
// would write it.
func (c Chunk) MarshalJSON() ([]byte, error) {
	return finish(&c, 128, encodeChunk)
}

// UnmarshalJSON decodes a ChunkChoice, keeping unknown members in Extra.
func (c *ChunkChoice) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainChunkChoice)(c), &c.Extra, chunkChoiceFields)
}

// MarshalJSON encodes a ChunkChoice with the members kept in Extra, as json.Marshal
// would write it.
func (c ChunkChoice) MarshalJSON() ([]byte, error) {
	return finish(&c, 128, encodeChunkChoice)
}

// UnmarshalJSON decodes a Delta, keeping unknown members in Extra.
func (d *Delta) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainDelta)(d), &d.Extra, deltaFields)
}

// MarshalJSON encodes a Delta with the members kept in Extra, as json.Marshal
// would write it.
func (d Delta) MarshalJSON() ([]byte, error) {
	return finish(&d, 128, encodeDelta)
}

// UnmarshalJSON decodes a Usage, keeping unknown members in Extra.
func (u *Usage) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainUsage)(u), &u.Extra, usageFields)
}

// MarshalJSON encodes a Usage with the members kept in Extra, as json.Marshal
// would write it.
func (u Usage) MarshalJSON() ([]byte, error) {
	return finish(&u, 128, encodeUsage)
}

// UnmarshalJSON decodes a PromptTokensDetails, keeping unknown members in Extra.
func (p *PromptTokensDetails) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainPromptTokensDetails)(p), &p.Extra, promptTokensDetailsFields)
}

// MarshalJSON encodes a PromptTokensDetails with the members kept in Extra, as json.Marshal
// would write it.
func (p PromptTokensDetails) MarshalJSON() ([]byte, error) {
	return finish(&p, 128, encodePromptTokensDetails)
}

// UnmarshalJSON decodes a CompletionTokensDetails, keeping unknown members in Extra.
func (c *CompletionTokensDetails) UnmarshalJSON(data []byte) error {
	return setExtra(data, (*plainCompletionTokensDetails)(c), &c.Extra, completionTokensDetailsFields)
}

// MarshalJSON encodes a CompletionTokensDetails with the members kept in Extra, as json.Marshal
// would write it.
func (c CompletionTokensDetails) MarshalJSON() ([]byte, error) {
	return finish(&c, 128, encodeCompletionTokensDetails)
}
