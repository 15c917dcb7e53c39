package complexity

import (
	"fmt"
	"strings"
)

// category is what a matched concept says about a text.
type category uint8

const (
	catNone      category = iota // only the start of a longer phrase
	catCode                      // programming words
	catTechnical                 // technical terms
	catReasoning                 // strong reasoning markers
	catExplain                   // weak reasoning markers
	catFirst                     // opens a sequence: "first"
	catThen                      // continues a sequence: "then", "finally"
	catGreeting                  // greetings and acknowledgements
	numCategories
)

// The word lists. Each inner list is one concept: its variants count once
// together. Entries are lower case, whole words (letters, digits, _, and '
// inside a word), or phrases of up to maxPhraseWords words joined by single
// spaces or hyphens. Scanning treats a hyphen as a space, so "b-tree" is the
// phrase "b tree" and matches "B-tree" and "b tree" alike. A word or phrase
// belongs to one concept only; init panics otherwise.
var (
	codeWords = [][]string{
		{"function", "functions"}, {"func"}, {"def"}, {"class", "classes"},
		{"struct", "structs"}, {"return", "returns"}, {"import", "imports"},
		{"export"}, {"const"}, {"var"}, {"async"}, {"await"}, {"lambda"},
		{"enum"}, {"namespace"}, {"void"},
		{"null", "nil", "undefined", "nullptr"}, {"boolean", "bool"},
		{"println", "printf"}, {"regex", "regexp"}, {"json"}, {"yaml"},
		{"bug", "bugs", "buggy"}, {"debug", "debugging", "debugger"},
		{"refactor", "refactoring"}, {"implement", "implementing"},
		{"compile", "compiles", "compiling", "compilation"},
		{"exception", "exceptions"}, {"traceback"}, {"segfault"},
		{"unit test", "unit tests"}, {"snippet"}, {"endpoint", "endpoints"},
		{"api", "apis"}, {"script", "scripts"}, {"code", "codebase"},
		{"variable", "variables"}, {"array", "arrays"},
		{"python"}, {"golang"}, {"javascript", "typescript"}, {"java"},
		{"rust"}, {"kotlin"}, {"ruby"}, {"php"}, {"sql"}, {"bash"},
		{"html", "css"}, {"react"}, {"npm", "pip"}, {"git"},
	}
	technicalWords = [][]string{
		// algorithms
		{"algorithm", "algorithms", "algorithmic"},
		{"big-o", "time complexity", "space complexity", "asymptotic"},
		{"recursion", "recursive"}, {"dynamic programming"},
		{"binary search"}, {"hash table", "hashmap", "hash map"},
		{"linked list"}, {"binary tree", "b-tree", "red-black", "trie"},
		{"graph", "graphs"}, {"dijkstra"}, {"np-hard", "np-complete"},
		{"heuristic", "heuristics"},
		// math
		{"theorem", "theorems"}, {"lemma"}, {"integral", "integrals"},
		{"derivative", "derivatives"},
		{"eigenvalue", "eigenvalues", "eigenvector", "eigenvectors"},
		{"matrix", "matrices"}, {"polynomial", "polynomials"},
		{"probability", "probabilistic"}, {"bayesian", "bayes"},
		{"differential equation", "differential equations"},
		{"convex", "convexity"}, {"gradient", "gradients"},
		{"topology", "topological"}, {"irrational"},
		{"prime number", "prime numbers", "primes"}, {"modular arithmetic"},
		{"induction"}, {"logarithm", "logarithmic"},
		{"vector space", "linear algebra"}, {"stochastic"},
		{"combinatorics", "combinatorial"},
		// distributed systems and infrastructure
		{"distributed"}, {"consensus"}, {"raft", "paxos"},
		{"replication", "replica", "replicas"},
		{"sharding", "shard", "shards"},
		{"eventual consistency", "linearizability", "linearizable", "consistency model"},
		{"idempotent", "idempotency"}, {"cap theorem"},
		{"load balancer", "load balancing"}, {"latency"}, {"throughput"},
		{"microservice", "microservices"}, {"kubernetes", "k8s"},
		{"docker", "container", "containers"}, {"kafka", "message queue"},
		{"rate limiter", "rate limiting"},
		{"cache", "caching", "cache invalidation"}, {"cdn"},
		{"scalability", "scalable"},
		{"fault tolerance", "fault-tolerant", "failover"},
		{"system design", "architecture"},
		// concurrency and memory
		{"race condition", "data race"}, {"deadlock", "deadlocks"},
		{"mutex", "lock-free", "semaphore"},
		{"concurrency", "concurrent", "parallelism"},
		{"goroutine", "goroutines", "thread", "threads", "multithreading"},
		{"memory leak", "garbage collection", "garbage collector"},
		{"pointer", "pointers"},
		// security
		{"encryption", "encrypt", "decrypt", "cryptography", "cryptographic"},
		{"tls", "ssl", "mtls"}, {"oauth", "oidc", "jwt"},
		{"xss", "csrf", "sql injection"},
		{"vulnerability", "vulnerabilities", "exploit", "cve"},
		{"authentication", "authorization"}, {"rsa", "ecdh", "ecdsa", "aes"},
		{"hashing", "sha-256", "bcrypt"}, {"threat model", "zero-knowledge"},
		// networking
		{"tcp", "udp"}, {"http", "https"}, {"dns"}, {"quic"},
		{"congestion control"}, {"websocket", "websockets"},
		{"grpc", "protobuf"}, {"protocol", "protocols"}, {"bgp"},
		// data and machine learning
		{"neural network", "neural networks"},
		{"transformer", "transformers", "attention mechanism"},
		{"backpropagation"}, {"gradient descent"}, {"regression"},
		{"embedding", "embeddings"}, {"machine learning", "deep learning"},
		{"llm", "llms"}, {"fine-tuning", "fine-tune"}, {"overfitting"},
		{"database", "databases"}, {"transaction", "transactions", "acid"},
		{"postgres", "postgresql", "mysql", "sqlite", "mongodb", "redis"},
		{"schema", "schemas"}, {"query planner", "query optimization"},
		// systems
		{"compiler", "compilers"}, {"kernel"}, {"syscall", "system call"},
		{"virtual memory", "page table"}, {"scheduler", "scheduling"},
		{"parser", "lexer", "ast"}, {"bytecode", "jit"},
	}
	reasoningWords = [][]string{
		{"prove", "proof", "proofs", "show that", "demonstrate that"},
		{"step by step"},
		{"derive", "derivation", "deriving"},
		{"why"},
		{"analyze", "analyse", "analyzing", "analysing", "analysis"},
		{"trade-off", "trade-offs", "tradeoff", "tradeoffs", "pros and cons"},
		{"compare", "comparing", "comparison", "contrast", "versus", "vs"},
		{"evaluate", "evaluating", "assess", "assessment", "critique"},
		{"justify", "justification"},
		{"think through", "think carefully", "think hard", "reason about", "reason through", "reasoning"},
		{"root cause"},
		{"implication", "implications"},
		{"rigorous", "rigorously", "formally"},
		{"counterexample", "counter-example"},
		{"deduce", "deduction"},
		{"what if"},
		{"in depth", "deep dive"},
	}
	explainWords = [][]string{
		{"explain", "explanation"}, {"describe"},
		{"how does", "how do", "how would", "how can", "how to"},
		{"walk me through"},
		{"difference", "differences", "differ", "differs", "distinguish"},
		{"summarize", "summarise", "summary"}, {"what happens"},
		{"overview"},
	}
	firstWords    = [][]string{{"first", "firstly"}}
	thenWords     = [][]string{{"then", "next", "finally", "afterwards", "after that", "lastly", "subsequently"}}
	greetingWords = [][]string{
		{"hi", "hello", "hey", "yo", "howdy", "greetings"},
		{"thanks", "thank", "thx", "ty", "cheers"},
		{"ok", "okay", "cool", "great", "nice", "yes", "no", "yep", "nope", "sure"},
		{"bye", "goodbye"},
		{"good morning", "good afternoon", "good evening"},
	}
)

// Limits of the word lists, checked at init.
const (
	// maxWordLen is the longest word looked up; longer words match nothing.
	maxWordLen = 24
	// maxPhraseWords is the most words a phrase may have.
	maxPhraseWords = 3
	// maxConcepts is the most concepts the lists may hold (the size of
	// the seen-set in signals).
	maxConcepts = 64 * seenWords
	seenWords   = 8
)

// entry is what the lexicon knows about a word or phrase.
type entry struct {
	concept uint16
	cat     category
	// prefix says the key also starts a longer phrase.
	prefix bool
}

// lexicon maps each lower-case word or phrase to its entry. Built once at
// init and only read afterwards.
var lexicon = buildLexicon()

func buildLexicon() map[string]entry {
	lex := make(map[string]entry, 512)
	concept := 0
	add := func(cat category, lists [][]string) {
		for _, variants := range lists {
			for _, v := range variants {
				v = strings.ReplaceAll(v, "-", " ")
				words, start := 0, 0
				for i := 0; i <= len(v); i++ {
					if i < len(v) && v[i] != ' ' {
						continue
					}
					if i-start == 0 || i-start > maxWordLen {
						panic(fmt.Sprintf("complexity: bad word in %q", v))
					}
					words++
					if i < len(v) { // v[:i] starts a longer phrase
						e := lex[v[:i]]
						e.prefix = true
						lex[v[:i]] = e
					}
					start = i + 1
				}
				if words > maxPhraseWords {
					panic(fmt.Sprintf("complexity: phrase %q is longer than %d words", v, maxPhraseWords))
				}
				e := lex[v]
				if e.cat != catNone {
					panic(fmt.Sprintf("complexity: %q is listed twice", v))
				}
				e.cat, e.concept = cat, uint16(concept)
				lex[v] = e
			}
			concept++
		}
	}
	add(catCode, codeWords)
	add(catTechnical, technicalWords)
	add(catReasoning, reasoningWords)
	add(catExplain, explainWords)
	add(catFirst, firstWords)
	add(catThen, thenWords)
	add(catGreeting, greetingWords)
	if concept > maxConcepts {
		panic(fmt.Sprintf("complexity: %d concepts, more than %d", concept, maxConcepts))
	}
	return lex
}

// tracePatterns are byte strings, matched case-sensitively as they appear in
// real output, that mark a stack trace or compiler error.
var tracePatterns = [...]string{
	"Traceback (most recent call last)", // Python
	"\", line ",                         // Python frame: File "x.py", line 3
	"panic: ",                           // Go
	" [running]:",                       // Go goroutine header
	"\n\tat ",                           // Java, JavaScript
	"\n    at ",                         // JavaScript
	"Exception in thread",               // Java
	"Caused by: ",                       // Java
	"Segmentation fault",
	"core dumped",
	"error[E",                // Rust
	"fatal error: ",          // C, C++, Go runtime
	"Uncaught ",              // JavaScript
	"TypeError: ",            // Python, JavaScript
	"ValueError: ",           // Python
	"NullPointerException",   // Java
	"undefined reference to", // linker
	"cannot find symbol",     // javac
	"thread 'main' panicked", // Rust
	"Stack trace:", "stack trace:",
}

// codeLineMarkers are substrings that make a line look like code.
var codeLineMarkers = [...]string{":=", "==", "!=", "&&", "||", "=>", "::"}
