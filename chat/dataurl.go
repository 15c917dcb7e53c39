package chat

import "strings"

// ParseDataURL reads a base64 data: URL (RFC 2397), the form in which
// clients send images inline: "data:image/png;base64,iVBORw0KGgo…".
// mediaType is the media type, lowercased and without its parameters
// ("image/png"), or "" when the URL names none. data is the base64 text
// after the first comma as written, not decoded; it may be empty. ok is
// false when url is not a data: URL ("data:" in any case, then a comma
// somewhere) or is not base64 encoded (the part before the comma does not
// end in ";base64", in any case).
func ParseDataURL(url string) (mediaType, data string, ok bool) {
	if len(url) < len("data:") || !strings.EqualFold(url[:len("data:")], "data:") {
		return "", "", false
	}
	meta, data, found := strings.Cut(url[len("data:"):], ",")
	mediaType, isBase64 := strings.CutSuffix(strings.ToLower(meta), ";base64")
	if !found || !isBase64 {
		return "", "", false
	}
	mediaType, _, _ = strings.Cut(mediaType, ";")
	return mediaType, data, true
}
