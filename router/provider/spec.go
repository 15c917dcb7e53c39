package provider

import (
	"slices"
	"strings"

	"github.com/detour-gateway/detour/chat"
)

// Wire names the request format an adapter speaks.
type Wire string

// Wire formats Detour has adapters for.
const (
	// WireOpenAI is the OpenAI chat-completions format, spoken by OpenAI and
	// by every OpenAI-compatible service.
	WireOpenAI Wire = "openai"
	// WireMock is the built-in mock provider: no network at all.
	WireMock Wire = "mock"
	// WireAnthropic is Anthropic's Messages API.
	WireAnthropic Wire = "anthropic"
	// WireGemini is Google's Gemini API (generateContent).
	WireGemini Wire = "gemini"
	// WireOllama is Ollama's native API (/api/chat, /api/embed).
	WireOllama Wire = "ollama"
	// WireAzure is Azure OpenAI: the OpenAI format at deployment URLs.
	WireAzure Wire = "azure"
	// WireAuto is not a provider: an auto_router deployment picks another
	// model group for each request (the complexity router).
	WireAuto Wire = "auto"
)

// Spec describes one provider prefix of a LiteLLM model string
// ("groq/llama-3.1-8b-instant" has prefix "groq").
type Spec struct {
	// Name is the prefix, and the default keychain entry for its key.
	Name string
	// Wire is the format its API speaks.
	Wire Wire
	// BaseURL is the API base used when a deployment sets no api_base.
	// Empty means api_base is required.
	BaseURL string
	// EnvKey is the environment variable conventionally holding its key
	// (the one LiteLLM reads), tried after the keychain.
	EnvKey string
	// KeyOptional is true for local servers that accept requests without a key.
	KeyOptional bool
	// NoStreamOptions is true for services that refuse stream_options
	// (Mistral answers 422 "extra_forbidden"); they report usage in the
	// last chunk anyway.
	NoStreamOptions bool
	// EnvBase, if set, is an environment variable holding the base URL,
	// used when a deployment sets no api_base (OLLAMA_HOST, AZURE_API_BASE).
	EnvBase string
}

// specs is the table of known prefixes. It is never modified.
var specs = map[string]Spec{
	"openai":       {Name: "openai", Wire: WireOpenAI, BaseURL: "https://api.openai.com/v1", EnvKey: "OPENAI_API_KEY"},
	"groq":         {Name: "groq", Wire: WireOpenAI, BaseURL: "https://api.groq.com/openai/v1", EnvKey: "GROQ_API_KEY"},
	"mistral":      {Name: "mistral", Wire: WireOpenAI, BaseURL: "https://api.mistral.ai/v1", EnvKey: "MISTRAL_API_KEY", NoStreamOptions: true},
	"deepseek":     {Name: "deepseek", Wire: WireOpenAI, BaseURL: "https://api.deepseek.com/v1", EnvKey: "DEEPSEEK_API_KEY"},
	"openrouter":   {Name: "openrouter", Wire: WireOpenAI, BaseURL: "https://openrouter.ai/api/v1", EnvKey: "OPENROUTER_API_KEY"},
	"together_ai":  {Name: "together_ai", Wire: WireOpenAI, BaseURL: "https://api.together.xyz/v1", EnvKey: "TOGETHERAI_API_KEY"},
	"xai":          {Name: "xai", Wire: WireOpenAI, BaseURL: "https://api.x.ai/v1", EnvKey: "XAI_API_KEY"},
	"fireworks_ai": {Name: "fireworks_ai", Wire: WireOpenAI, BaseURL: "https://api.fireworks.ai/inference/v1", EnvKey: "FIREWORKS_AI_API_KEY"},
	"lm_studio":    {Name: "lm_studio", Wire: WireOpenAI, BaseURL: "http://127.0.0.1:1234/v1", EnvKey: "LM_STUDIO_API_KEY", KeyOptional: true},
	"hosted_vllm":  {Name: "hosted_vllm", Wire: WireOpenAI, BaseURL: "http://127.0.0.1:8000/v1", EnvKey: "HOSTED_VLLM_API_KEY", KeyOptional: true},
	"mock":         {Name: "mock", Wire: WireMock, KeyOptional: true},
	"anthropic":    {Name: "anthropic", Wire: WireAnthropic, BaseURL: "https://api.anthropic.com", EnvKey: "ANTHROPIC_API_KEY"},
	"gemini":       {Name: "gemini", Wire: WireGemini, BaseURL: "https://generativelanguage.googleapis.com", EnvKey: "GEMINI_API_KEY"},
	"ollama":       {Name: "ollama", Wire: WireOllama, BaseURL: "http://127.0.0.1:11434", EnvBase: "OLLAMA_HOST", KeyOptional: true},
	"ollama_chat":  {Name: "ollama_chat", Wire: WireOllama, BaseURL: "http://127.0.0.1:11434", EnvBase: "OLLAMA_HOST", KeyOptional: true},
	"azure":        {Name: "azure", Wire: WireAzure, EnvKey: "AZURE_API_KEY", EnvBase: "AZURE_API_BASE"},
	"auto_router":  {Name: "auto_router", Wire: WireAuto, KeyOptional: true},
}

// Lookup returns the Spec for a provider prefix.
func Lookup(name string) (Spec, bool) {
	s, ok := specs[name]
	return s, ok
}

// Names returns every known provider prefix, sorted.
func Names() []string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SplitModel splits a LiteLLM model string into its provider prefix and the
// upstream model name at the first slash. A bare name ("gpt-4o") is an
// OpenAI model, as in LiteLLM. Later slashes stay in the name:
// "openrouter/meta-llama/Llama-3" gives ("openrouter", "meta-llama/Llama-3").
// Callers check the prefix with Lookup.
func SplitModel(model string) (prefix, name string) {
	if p, rest, ok := strings.Cut(model, "/"); ok {
		return p, rest
	}
	return "openai", model
}

// Speaks reports whether a deployment of the provider named name takes
// requests in a client dialect (chat.DialectAnthropic …) as they are, so
// the client's own bytes can go to it.
func Speaks(name, dialect string) bool {
	s, ok := specs[name]
	return ok && dialect == chat.DialectAnthropic && s.Wire == WireAnthropic
}
