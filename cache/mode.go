package cache

// Mode says which requests the cache answers and stores. The cache stores
// whatever it is given and never looks at a request: its caller (the
// server) reads Mode for each request and decides. Mode is kept on the
// Cache, beside the TTL, so that one SetMode on the cache in use changes
// it for every request that follows, without a restart.
type Mode string

// The modes. The zero Mode ("") means ModeDeterministic.
const (
	// ModeDeterministic answers and stores only requests that ask for the
	// same answer again: temperature 0, or a seed. A request that samples
	// (any other temperature, or none: providers default to about 1)
	// expects a new answer each time — a "regenerate" button — and must
	// not be answered from the cache. The default.
	ModeDeterministic Mode = "deterministic"
	// ModeAll answers and stores every request, whatever its temperature.
	ModeAll Mode = "all"
	// ModeOff neither answers nor stores any request. Unlike closing the
	// cache, the file stays open, so turning the cache back on needs no
	// restart.
	ModeOff Mode = "off"
)

// orDefault returns m, or ModeDeterministic for "" or a value that is no
// mode: when in doubt the cache answers less, never more.
func (m Mode) orDefault() Mode {
	switch m {
	case ModeAll, ModeOff:
		return m
	}
	return ModeDeterministic
}
