// Package jsonstring reads the body of a JSON string literal (what lies
// between its quotes) the way encoding/json does, for the hand-written
// one-pass readers and writers of the wire formats: which escape sequences
// JSON has, and what the text decodes to.
package jsonstring

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// EscapeLen returns the length of the escape sequence s starts with, or 0
// when it is none JSON has.
func EscapeLen(s []byte) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(s) >= 6 && isHex(s[2]) && isHex(s[3]) && isHex(s[4]) && isHex(s[5]) {
			return 6
		}
	}
	return 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Hex4 reads the four hexadecimal digits s starts with.
func Hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Unquote decodes the body of a JSON string, one whose escapes are valid, as
// encoding/json does: a byte that is not UTF-8, and a \u escape of half a
// surrogate pair without the other half, become U+FFFD.
func Unquote(s []byte) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			i = unescape(&b, s, i)
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(s) && s[j] != '\\' && s[j] < utf8.RuneSelf {
				j++
			}
			b.Write(s[i:j])
			i = j
		default:
			ch, size := utf8.DecodeRune(s[i:])
			if ch == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.Write(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// unescape writes what the escape sequence at s[i] stands for, and returns
// the index after it.
func unescape(b *strings.Builder, s []byte, i int) int {
	switch c := s[i+1]; c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		ch := Hex4(s[i+2:])
		i += 6
		if utf16.IsSurrogate(ch) {
			ch2 := rune(-1)
			if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				ch2 = Hex4(s[i+2:])
			}
			if pair := utf16.DecodeRune(ch, ch2); pair != utf8.RuneError {
				b.WriteRune(pair)
				return i + 6
			}
			ch = utf8.RuneError
		}
		b.WriteRune(ch)
		return i
	default: // '"', '\\' and '/' stand for themselves
		b.WriteByte(c)
	}
	return i + 2
}
