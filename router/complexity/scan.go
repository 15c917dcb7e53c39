package complexity

import "strings"

// A text longer than scanHead+scanTail bytes is scanned in its first
// scanHead and its last scanTail bytes only, which bounds the cost of a
// pasted log while keeping the question that often follows it.
const (
	scanHead = 8 << 10
	scanTail = 2 << 10
)

// signals is what scanning found in one or more texts. Scanning several
// texts into one signals counts each concept once across all of them.
type signals struct {
	// distinct counts the distinct concepts seen, by category.
	distinct [numCategories]int
	seen     [seenWords]uint64
	// words counts the words scanned.
	words int
	// questions counts question marks.
	questions int
	// fence is a ``` or ~~~ code fence; trace a stack trace or compiler
	// error (tracePatterns).
	fence, trace bool
	// codeLines counts lines that look like code; listItems lines that
	// start with a number and "." or ")", or with a bullet.
	codeLines, listItems int
}

// scan adds what text holds to s.
func (s *signals) scan(text string) {
	if len(text) <= scanHead+scanTail {
		s.scanWindow(text)
		return
	}
	s.scanWindow(text[:scanHead])
	s.scanWindow(text[len(text)-scanTail:])
}

func (s *signals) scanWindow(w string) {
	s.questions += strings.Count(w, "?")
	if !s.fence {
		s.fence = strings.Contains(w, "```") || strings.Contains(w, "~~~")
	}
	if !s.trace {
		for _, p := range tracePatterns {
			if strings.Contains(w, p) {
				s.trace = true
				break
			}
		}
	}
	s.scanLines(w)
	s.scanWords(w)
}

// scanLines counts code-like lines and list items.
func (s *signals) scanLines(w string) {
	for len(w) > 0 {
		line := w
		if i := strings.IndexByte(w, '\n'); i >= 0 {
			line, w = w[:i], w[i+1:]
		} else {
			w = ""
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if isListItem(line) {
			s.listItems++
		}
		if isCodeLine(line) {
			s.codeLines++
		}
	}
}

// isListItem reports whether a trimmed line starts a list item: "1. ",
// "12) ", "- ", "* " or "• ".
func isListItem(line string) bool {
	n := 0
	for n < len(line) && n < 3 && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	if n > 0 {
		return n+1 < len(line) && (line[n] == '.' || line[n] == ')') && line[n+1] == ' '
	}
	return strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || strings.HasPrefix(line, "• ")
}

// isCodeLine reports whether a trimmed line looks like code: it ends in ;
// { or }, or holds one of codeLineMarkers.
func isCodeLine(line string) bool {
	switch line[len(line)-1] {
	case ';', '{', '}':
		return true
	}
	for _, m := range codeLineMarkers {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// Byte classes for scanWords: a word byte is an ASCII letter or digit, _,
// or any byte of a non-ASCII character; a space separates words without
// breaking a phrase (a hyphen counts as one, so "step-by-step" is "step by
// step"); anything else separates words and breaks phrases. A ' between
// word bytes belongs to the word ("what's").
const (
	classOther = iota
	classWord
	classSpace
)

var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c >= 0x80:
			t[c] = classWord
		case c == ' ', c == '\t', c == '\r', c == '\n', c == '-':
			t[c] = classSpace
		}
	}
	return t
}()

// scanWords looks every word, and every run of two or three words that
// starts a known phrase, up in the lexicon. It allocates nothing: words are
// lower-cased into fixed buffers, and a map index by string(bytes) does not
// copy.
func (s *signals) scanWords(w string) {
	var (
		cur, prev1, prev2 [maxWordLen]byte
		n, n1, n2         int
		tooLong           bool
		// prefix1: prev1 starts a phrase; prefix2: "prev2 prev1" does.
		prefix1, prefix2 bool
		// broken: something other than white space came since prev1,
		// so no phrase runs across.
		broken bool
		key    [maxPhraseWords*maxWordLen + maxPhraseWords - 1]byte
	)
	for i := 0; i <= len(w); i++ {
		c, class := byte(' '), uint8(classSpace) // the end of w ends a word
		if i < len(w) {
			c, class = w[i], byteClass[w[i]]
		}
		if class == classWord || c == '\'' && n > 0 && i+1 < len(w) && byteClass[w[i+1]] == classWord {
			if n < maxWordLen {
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				cur[n] = c
				n++
			} else {
				tooLong = true
			}
			continue
		}
		if n == 0 {
			if class == classOther {
				broken = true
			}
			continue
		}

		// A word ended at i.
		s.words++
		if broken {
			prefix1, prefix2 = false, false
		}
		next1, next2 := false, false
		if !tooLong {
			word := cur[:n]
			if e, ok := lexicon[string(word)]; ok {
				s.hit(e)
				next1 = e.prefix
			}
			if prefix1 {
				k := append(append(append(key[:0], prev1[:n1]...), ' '), word...)
				if e, ok := lexicon[string(k)]; ok {
					s.hit(e)
					next2 = e.prefix
				}
			}
			if prefix2 {
				k := append(append(append(append(append(key[:0], prev2[:n2]...), ' '), prev1[:n1]...), ' '), word...)
				if e, ok := lexicon[string(k)]; ok {
					s.hit(e)
				}
			}
		}
		prev2, n2 = prev1, n1
		prev1, n1 = cur, n
		prefix1, prefix2 = next1, next2
		n, tooLong, broken = 0, false, class == classOther
	}
}

// hit records a matched lexicon entry.
func (s *signals) hit(e entry) {
	if e.cat == catNone {
		return
	}
	word, bit := e.concept/64, uint64(1)<<(e.concept%64)
	if s.seen[word]&bit != 0 {
		return
	}
	s.seen[word] |= bit
	s.distinct[e.cat]++
}

// count returns how many distinct concepts of category c were seen.
func (s *signals) count(c category) int { return s.distinct[c] }
