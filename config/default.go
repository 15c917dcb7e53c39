package config

// DefaultYAML is the config WriteDefault writes on first run: two OpenAI
// groups with a fallback between them, a mock group that works with no key
// and no network, every router setting at its default, and the detour
// section. It parses with no errors and no warnings.
const DefaultYAML = `# Detour config. This is LiteLLM's proxy config format, plus a detour: section,
# so a LiteLLM config.yaml you already have works here too.
# Check it with: detour config check

# Each entry is one deployment: an upstream model at a provider. Clients ask for
# a model_name (a model group); Detour picks one deployment of that group.
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o          # provider/model; a bare name means openai/
      # No api_key: Detour uses the keychain entry "openai" (detour keys set openai),
      # then $OPENAI_API_KEY. Or write api_key: keychain/NAME or os.environ/VAR.
      # Literal keys are refused: keys never live in this file.
      # api_base: https://api.openai.com/v1   # optional; may be os.environ/VAR
      # weight: 1                # share of traffic within the group
      # rpm: 500                 # requests per minute this deployment allows
      # tpm: 30000               # tokens per minute this deployment allows
      # timeout: 60              # seconds for one whole attempt
      # stream_timeout: 10       # seconds to the first streamed content
    model_info:
      input_cost_per_token: 0.0000025    # USD, for the spend ledger
      output_cost_per_token: 0.00001
      max_input_tokens: 128000
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
    model_info:
      input_cost_per_token: 0.00000015
      output_cost_per_token: 0.0000006
      max_input_tokens: 128000
  # More providers work the same way, e.g.:
  # - model_name: llama
  #   litellm_params: {model: groq/llama-3.1-8b-instant, api_key: keychain/groq}
  # - model_name: local
  #   litellm_params: {model: lm_studio/qwen2.5-7b-instruct}
  - model_name: demo
    litellm_params:
      model: mock/demo             # built-in mock: no key, no network
      mock_response: "Hello from Detour! Add your keys with: detour keys set openai"
      mock_latency_ms: 200

router_settings:
  routing_strategy: simple-shuffle # or least-busy, cost-based-routing, latency-based-routing, usage-based-routing-v2
  num_retries: 2                   # retries within a group before falling back
  allowed_fails: 3                 # a deployment cools down after more failures than this in a minute
  cooldown_time: 60                # seconds a cooled-down deployment is skipped
  timeout: 600                     # seconds for a whole request, retries and fallbacks included
  fallbacks:                       # when a group fails, try these groups in order
    - gpt-4o: [gpt-4o-mini]
  default_fallbacks: []            # tried for groups with no fallbacks entry
  context_window_fallbacks: []     # tried when a prompt is too long for a group
  content_policy_fallbacks: []     # tried when a provider refuses on content policy
  max_fallbacks: 5                 # most fallback groups one request tries

detour:
  listen: 127.0.0.1:4000           # where clients connect: http://127.0.0.1:4000/v1
  max_body_bytes: 33554432         # largest request body, in bytes (32 MiB)
  # server:                        # who may use Detour; see the README's Security section
  #   auth: true                   # clients must send a local key (detour keys local add NAME)
  #   allowed_hosts: [studio.local] # Host names answered besides localhost and 127.0.0.1
  #   cors_origins: ["http://localhost:3000"]  # your own web apps that may call /v1
  cache:                           # answers to repeated requests, from a local file
    enabled: true
    # path: ~/.cache/detour/cache.db  # default: the user cache directory
    ttl: 86400                     # seconds an answer is served fresh (24 h)
    stale_ttl: 604800              # seconds it is kept past that, served only when every provider fails (7 d)
    max_bytes: 536870912           # size cap in bytes (512 MiB); least recently used answers go first
    mode: deterministic            # which requests: deterministic (temperature 0 or a seed), all, or off
  offline:                         # when every provider fails, or the machine is offline: a local Ollama model
    enabled: true
    # ollama_host: 127.0.0.1:11434 # default: $OLLAMA_HOST, then this
    # model: llama3.2              # default: the first chat model in Ollama's list
  # budgets:                       # USD; block refuses with 429, downgrade goes to fallbacks, then Ollama
  #   daily_usd: 5
  #   monthly_usd: 50
  #   on_exceed: block
  #   groups: {gpt-4o: {daily_usd: 2, on_exceed: downgrade}}
  request_log:                     # decision traces of the last requests, for /api/v1/requests
    keep: 1000
    prompts: false                 # true also keeps each request's messages
`
