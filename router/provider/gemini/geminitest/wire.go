package geminitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The request types below list exactly the members the Gemini API takes
// (camelCase, as the adapter sends them) and are decoded with unknown
// members refused, as Google refuses them ("Invalid JSON payload received.
// Unknown name …: Cannot find field.").

type generateRequest struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction"`
	Tools             []tool            `json:"tools"`
	ToolConfig        *toolConfig       `json:"toolConfig"`
	GenerationConfig  *generationConfig `json:"generationConfig"`
	SafetySettings    []struct {
		Category  string `json:"category"`
		Threshold string `json:"threshold"`
	} `json:"safetySettings"`
	CachedContent string `json:"cachedContent"`
}

type content struct {
	Role  string `json:"role"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             *string           `json:"text"`
	Thought          bool              `json:"thought"`
	ThoughtSignature *string           `json:"thoughtSignature"`
	InlineData       *blob             `json:"inlineData"`
	FileData         *fileData         `json:"fileData"`
	FunctionCall     *functionCall     `json:"functionCall"`
	FunctionResponse *functionResponse `json:"functionResponse"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Args map[string]any `json:"args"`
}

type functionResponse struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Response map[string]any `json:"response"`
}

type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
	GoogleSearch         *struct{}             `json:"googleSearch"`
	CodeExecution        *struct{}             `json:"codeExecution"`
}

type functionDeclaration struct {
	Name                 string  `json:"name"`
	Description          string  `json:"description"`
	Parameters           *schema `json:"parameters"`
	ParametersJSONSchema any     `json:"parametersJsonSchema"`
	Response             *schema `json:"response"`
}

// schema is Gemini's Schema, the OpenAPI 3.0 subset. Integers of int64
// format may come as numbers or strings, as proto JSON allows.
type schema struct {
	Type             string             `json:"type"`
	Format           string             `json:"format"`
	Title            string             `json:"title"`
	Description      string             `json:"description"`
	Nullable         bool               `json:"nullable"`
	Enum             []string           `json:"enum"`
	MaxItems         any                `json:"maxItems"`
	MinItems         any                `json:"minItems"`
	Properties       map[string]*schema `json:"properties"`
	Required         []string           `json:"required"`
	MinProperties    any                `json:"minProperties"`
	MaxProperties    any                `json:"maxProperties"`
	MinLength        any                `json:"minLength"`
	MaxLength        any                `json:"maxLength"`
	Pattern          string             `json:"pattern"`
	Example          any                `json:"example"`
	AnyOf            []*schema          `json:"anyOf"`
	PropertyOrdering []string           `json:"propertyOrdering"`
	Default          any                `json:"default"`
	Items            *schema            `json:"items"`
	Minimum          *float64           `json:"minimum"`
	Maximum          *float64           `json:"maximum"`
}

type toolConfig struct {
	FunctionCallingConfig *struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames"`
	} `json:"functionCallingConfig"`
}

type generationConfig struct {
	StopSequences      []string  `json:"stopSequences"`
	ResponseMimeType   string    `json:"responseMimeType"`
	ResponseSchema     *schema   `json:"responseSchema"`
	ResponseJSONSchema any       `json:"responseJsonSchema"`
	ResponseModalities []string  `json:"responseModalities"`
	CandidateCount     *int      `json:"candidateCount"`
	MaxOutputTokens    *int      `json:"maxOutputTokens"`
	Temperature        *float64  `json:"temperature"`
	TopP               *float64  `json:"topP"`
	TopK               *int      `json:"topK"`
	Seed               *int32    `json:"seed"`
	PresencePenalty    *float64  `json:"presencePenalty"`
	FrequencyPenalty   *float64  `json:"frequencyPenalty"`
	ResponseLogprobs   bool      `json:"responseLogprobs"`
	Logprobs           *int      `json:"logprobs"`
	MediaResolution    string    `json:"mediaResolution"`
	ThinkingConfig     *thinking `json:"thinkingConfig"`
}

type thinking struct {
	IncludeThoughts *bool  `json:"includeThoughts"`
	ThinkingBudget  *int   `json:"thinkingBudget"`
	ThinkingLevel   string `json:"thinkingLevel"`
}

type batchEmbedRequest struct {
	Requests []struct {
		Model                string  `json:"model"`
		Content              content `json:"content"`
		TaskType             string  `json:"taskType"`
		Title                string  `json:"title"`
		OutputDimensionality *int    `json:"outputDimensionality"`
	} `json:"requests"`
}

// decodeStrict decodes data into v refusing unknown members, and words a
// failure as Google does.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("Invalid JSON payload received. Unknown name %s: Cannot find field.", name)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("Invalid value at '%s' (%s), %s", snake(te.Field), protoType(te.Type.String()), te.Value)
	}
	return fmt.Errorf("Invalid JSON payload received. %s", strings.TrimPrefix(msg, "json: "))
}

func protoType(goType string) string {
	switch goType {
	case "string", "[]string":
		return "TYPE_STRING"
	case "int32", "*int32":
		return "TYPE_INT32"
	case "int", "*int":
		return "TYPE_INT32"
	case "float64", "*float64":
		return "TYPE_FLOAT"
	case "bool":
		return "TYPE_BOOL"
	}
	return "TYPE_MESSAGE"
}

// snake writes a Go JSON field path as Google's proto path
// ("generationConfig.maxOutputTokens" → "generation_config.max_output_tokens").
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			b.WriteRune(r + 'a' - 'A')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// validTypes are Gemini's Type values; the API takes them in either case.
var validTypes = map[string]bool{
	"TYPE_UNSPECIFIED": true, "STRING": true, "NUMBER": true, "INTEGER": true,
	"BOOLEAN": true, "ARRAY": true, "OBJECT": true, "NULL": true,
}

// checkSchema validates a schema as Gemini does, beyond its members.
func checkSchema(s *schema, at string) error {
	if s == nil {
		return nil
	}
	if s.Type != "" && !validTypes[strings.ToUpper(s.Type)] {
		return fmt.Errorf("Invalid value at '%s.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), %q", at, s.Type)
	}
	if s.Format != "" {
		switch s.Format {
		case "enum", "date-time", "float", "double", "int32", "int64":
		default:
			return fmt.Errorf("* GenerateContentRequest.%s.format: only 'enum' and 'date-time' are supported for STRING type\n", at)
		}
	}
	for i, r := range s.Required {
		if s.Properties[r] == nil {
			return fmt.Errorf("* GenerateContentRequest.%s.required[%d]: property is not defined\n", at, i)
		}
	}
	for name, p := range s.Properties {
		if err := checkSchema(p, at+".properties["+name+"].value"); err != nil {
			return err
		}
	}
	for i, a := range s.AnyOf {
		if err := checkSchema(a, fmt.Sprintf("%s.any_of[%d]", at, i)); err != nil {
			return err
		}
	}
	return checkSchema(s.Items, at+".items")
}

// validBase64 reports whether s decodes as Google's bytes fields accept:
// standard or URL-safe alphabet, padded or not.
func validBase64(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

// dataKinds counts the data members a part sets; Google requires one.
func (p *part) dataKinds() int {
	n := 0
	for _, set := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil, p.FunctionResponse != nil} {
		if set {
			n++
		}
	}
	return n
}
