package chat

import "testing"

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		name, url   string
		media, data string
		ok          bool
	}{
		{"png", "data:image/png;base64,iVBORw0KGgo=", "image/png", "iVBORw0KGgo=", true},
		{"any case", "DATA:Image/JPEG;BASE64,/9j/4AAQ", "image/jpeg", "/9j/4AAQ", true},
		{"parameters dropped", "data:image/png;name=a.png;base64,AAAA", "image/png", "AAAA", true},
		{"no media type", "data:;base64,AAAA", "", "AAAA", true},
		{"empty data", "data:image/gif;base64,", "image/gif", "", true},
		{"data kept as written", "data:image/png;base64, AA==\n", "image/png", " AA==\n", true},
		{"first comma ends the metadata", "data:image/png;base64,AA,BB", "image/png", "AA,BB", true},
		{"media type not trimmed", "data: image/png;base64,AAAA", " image/png", "AAAA", true},
		{"not base64", "data:image/png,rawbytes", "", "", false},
		{"base64 not last", "data:image/png;base64;x=y,AAAA", "", "", false},
		{"base64 alone is a media type", "data:base64,AAAA", "", "", false},
		{"no comma", "data:image/png;base64", "", "", false},
		{"http URL", "https://example.com/cat.png", "", "", false},
		{"prefix too short", "data", "", "", false},
		{"empty", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			media, data, ok := ParseDataURL(tt.url)
			if media != tt.media || data != tt.data || ok != tt.ok {
				t.Errorf("ParseDataURL(%q) = %q, %q, %v; want %q, %q, %v", tt.url, media, data, ok, tt.media, tt.data, tt.ok)
			}
		})
	}
}
