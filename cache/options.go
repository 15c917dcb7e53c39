package cache

import (
	"log/slog"
	"time"

	"github.com/detour-gateway/detour/clock"
)

// Defaults for the zero Options.
const (
	DefaultTTL         = 24 * time.Hour     // Options.TTL: fresh lifetime of an entry
	DefaultStaleTTL    = 7 * 24 * time.Hour // Options.StaleTTL: stale window past expiry
	DefaultMaxBytes    = 512 << 20          // Options.MaxBytes: 512 MiB of keys and values
	DefaultLockTimeout = time.Second        // Options.LockTimeout: wait for the file lock
	DefaultEvictBatch  = 256                // Options.EvictBatch: deletions per eviction transaction
)

// Tuning of the background writer. Not options: they trade latency of
// persistence against fsyncs, and nothing outside the package needs them.
const (
	// queueLen is the capacity of the writer's queue. Put and the access
	// updates of hits are dropped, never waited for, when it is full.
	queueLen = 1024
	// batchDelay is the longest an event waits in the writer before its
	// batch is committed (real time, not Options.Clock: it schedules
	// fsyncs, it does not decide freshness).
	batchDelay = 200 * time.Millisecond
	// batchMax is the number of queued events that commits a batch early.
	batchMax = 256
)

// Options configure a Cache. The zero value works: every field's zero
// value means the default given in its comment.
type Options struct {
	// TTL is the fresh lifetime of an entry, for Puts that give no TTL of
	// their own. Zero or negative means DefaultTTL (24h). SetLimits changes
	// it for the entries already stored too: see Cache.Put.
	TTL time.Duration

	// Mode says which requests the caller should answer from the cache and
	// store in it; the cache only keeps it (see Mode). "" or an unknown
	// value means ModeDeterministic. SetMode changes it.
	Mode Mode

	// StaleTTL is how long past its expiry an entry is kept so that Get
	// with allowStale can still serve it (when every provider is down).
	// After that it is deleted by the background writer. Zero means
	// DefaultStaleTTL (7 days); negative means no stale window: entries
	// are gone at expiry.
	StaleTTL time.Duration

	// MaxBytes caps the bytes of keys and values stored: 32 bytes of key
	// plus the value, per entry. Above it, the writer evicts the least
	// recently used entries down to 90% of MaxBytes. A value larger than
	// MaxBytes on its own is not stored. Zero or negative means
	// DefaultMaxBytes (512 MiB).
	//
	// The file is larger than this: bbolt's half-empty pages, a 57-byte
	// header per record and two 40-byte index keys per entry. With 2 KiB
	// values it is about 1.7 times MaxBytes. bbolt never shrinks a file; it
	// reuses the pages freed by eviction.
	MaxBytes int64

	// LockTimeout is how long Open waits for the file lock held by another
	// Detour before giving up with ErrLocked. Zero or negative means
	// DefaultLockTimeout (1s); Open never waits forever.
	LockTimeout time.Duration

	// Clock gives the time entries are stored, expire and are accessed.
	// Nil means the system clock.
	Clock clock.Clock

	// Logger receives warnings: a corrupt file moved aside, a failed
	// background write, a damaged entry deleted. Nil means slog.Default().
	Logger *slog.Logger

	// EvictBatch is the most entries one eviction transaction deletes, so
	// that a large eviction never holds bbolt's write lock (and delays
	// Puts) for long. Zero or negative means DefaultEvictBatch (256).
	EvictBatch int
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	o.Mode = o.Mode.orDefault()
	if o.StaleTTL == 0 {
		o.StaleTTL = DefaultStaleTTL
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.EvictBatch <= 0 {
		o.EvictBatch = DefaultEvictBatch
	}
	return o
}

// staleWindow is StaleTTL as used: never negative.
func (o Options) staleWindow() time.Duration {
	return max(o.StaleTTL, 0)
}
