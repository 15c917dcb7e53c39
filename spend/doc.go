// Package spend knows what requests cost and how much has been spent.
//
// It has three parts:
//
//   - A price table (prices.json, embedded): list prices in USD per token
//     for models of OpenAI, Anthropic, Gemini, Mistral, DeepSeek, Groq and
//     xAI. Lookup finds a model's Price, Price.Cost prices a response's
//     usage, EstimateTokens and EstimateCost price a request before it is
//     sent. A model missing from the table has an unknown price: callers
//     must treat it as unknown, never as free.
//   - A Ledger: spend per UTC day × provider × deployment × group, in a
//     bbolt file of its own (not the response cache's: clearing the cache
//     never loses spend). Totals are kept in memory, so reading them never
//     touches the disk; writes are batched by a background goroutine.
//   - Budgets: a Checker holds daily and monthly limits per provider, per
//     model group or overall, and says before a request is sent whether it
//     may go. Reservations make that hold under concurrency: a request
//     reserves its estimated cost, and no reservation is granted that
//     would take committed plus reserved spend over a limit.
//
// The package knows nothing of HTTP, routing or the GUI; it is given the
// provider, deployment, group and usage of each request by its caller.
package spend
