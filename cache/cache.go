// Package cache is the storage layer of Detour's response cache: opaque
// values under 32-byte keys in a bbolt file, with a fresh lifetime (TTL), a
// window past it in which entries may still be served stale, a size cap
// kept by evicting the least recently used entries, and hit/miss/savings
// counters that survive restarts.
//
// The package knows nothing of HTTP or chat formats; the caller computes the
// key (a SHA-256 over a canonical request) and encodes the value, and
// decides from Mode which requests use the cache.
//
// Freshness follows the configured TTL in force, not the one an entry was
// stored under: each entry keeps the time it was stored (and the TTL its
// Put gave, if any), and Get works out its expiry now. So a TTL lowered by
// SetLimits stops older entries being served at once.
//
// Reads are synchronous and never write: Get reads in a bbolt read
// transaction. Every write — Put, the access time of a hit, the counters —
// goes through a bounded queue to one background writer, which commits them
// in batches (at most every 200ms, or every 256 events) and then evicts.
// When the queue is full, Put and access-time updates are dropped rather
// than waited for: the request path never blocks on the disk. The counters
// are kept in memory and written by the writer with each batch, so a full
// queue never loses a hit from the counts, only its access-time update.
//
// Every commit is fsynced (bbolt's NoSync stays off, see Open): after a
// crash or a power cut the file opens with every committed batch whole;
// only what was still queued is lost. A Get may wait a moment while the
// writer grows the file, as bbolt runs no read transaction during the
// remapping of its memory map.
package cache

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Entry is a value found by Get.
type Entry struct {
	// Value is a copy of the stored value, taken out of the read
	// transaction: safe to keep and to modify.
	Value []byte
	// Stored is when the value was Put.
	Stored time.Time
	// Expires is when the entry stops being fresh under the TTL in force at
	// the Get: Stored plus its lifetime (see Put).
	Expires time.Time
	// Stale reports an entry served only because Get allowed stale ones: it
	// is past Expires (or older than the maxAge asked for) but within
	// Options.StaleTTL of Expires.
	Stale bool
	// Saved is what the original answer cost, in USD, as given to Put.
	Saved float64
}

// Stats describes the cache.
type Stats struct {
	// Entries and Bytes are the entries stored and their keys' and values'
	// bytes (what Options.MaxBytes caps), as of the writer's last commit:
	// Puts still queued are not counted.
	Entries int64
	Bytes   int64
	// Hits counts fresh entries served, Misses the calls to RecordMiss,
	// StaleHits the stale entries served. SavedUSD sums Entry.Saved over
	// the fresh hits (a stale answer stood in for a failure, it saved no
	// spend). These four are persisted and survive a restart; the last
	// ≤200ms of them may be lost in a crash.
	Hits, Misses, StaleHits int64
	SavedUSD                float64
	// Dropped counts writes dropped since Open because the writer's queue
	// was full: Puts and access-time updates of hits. Not persisted.
	Dropped int64
}

// Cache is a response cache in one bbolt file. Its methods are safe for
// concurrent use. Open it with Open; Close it to release the file.
type Cache struct {
	db  *bolt.DB
	opt Options

	// Counters, live; the writer persists them.
	hits, misses, staleHits atomic.Int64
	savedBits               atomic.Uint64 // float64 bits of SavedUSD
	dropped                 atomic.Int64

	// Totals as of the writer's last commit.
	bytes, entries atomic.Int64

	// ttl and maxBytes are Options.TTL and Options.MaxBytes, changed by
	// SetLimits while the cache is in use; mode is Options.Mode, changed
	// by SetMode.
	ttl, maxBytes atomic.Int64
	mode          atomic.Value // Mode

	events chan event    // to the writer
	kick   chan struct{} // counters changed: the writer should commit soon
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the writer has returned

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	w *writer
}

func newCache(db *bolt.DB, o Options, st persisted, h hooks) *Cache {
	c := &Cache{
		db:     db,
		opt:    o,
		events: make(chan event, queueLen),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	c.ttl.Store(int64(o.TTL))
	c.maxBytes.Store(o.MaxBytes)
	c.mode.Store(o.Mode)
	c.hits.Store(st.hits)
	c.misses.Store(st.misses)
	c.staleHits.Store(st.staleHits)
	c.savedBits.Store(math.Float64bits(st.savedUSD))
	c.bytes.Store(st.bytes)
	c.entries.Store(st.entries)
	c.w = newWriter(c, st, h)
	go c.w.run()
	return c
}

// Get returns the entry stored under key.
//
// A fresh entry (before its Expires under the TTL in force now and, if
// maxAge > 0, younger than maxAge — the request's Cache-Control max-age) is
// a hit: it counts in
// Stats.Hits and its Saved in Stats.SavedUSD. An entry that is not fresh but
// within Options.StaleTTL of its expiry is returned with Stale set if
// allowStale, and counts in Stats.StaleHits; without allowStale it is
// ErrNotFound. Anything else — no entry, past the stale window, a value
// that fails its CRC — is ErrNotFound (a damaged entry is then deleted by
// the writer). Get does not count misses: the caller calls RecordMiss when
// a lookup it made really missed (a bypass is not a miss).
//
// Get never writes in the caller's goroutine: the hit's access time (which
// orders eviction) is queued to the background writer, and dropped if the
// queue is full. Returns ErrClosed after Close.
func (c *Cache) Get(key [32]byte, maxAge time.Duration, allowStale bool) (Entry, error) {
	if c.closed.Load() {
		return Entry{}, ErrClosed
	}
	now := c.opt.Clock.Now().UnixNano()
	var (
		r       record
		damaged bool
	)
	err := c.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketEntries).Get(key[:])
		if raw == nil {
			return ErrNotFound
		}
		var err error
		if r, err = decodeRecord(raw, true); err != nil {
			damaged = true
			return ErrNotFound
		}
		r.value = append(make([]byte, 0, len(r.value)), r.value...) // out of bbolt's memory
		return nil
	})
	if damaged {
		c.enqueue(event{kind: evDrop, key: key})
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return Entry{}, ErrClosed
	}
	if err != nil {
		return Entry{}, err
	}

	expires := r.freshUntil(c.ttl.Load())
	fresh := now < expires && (maxAge <= 0 || now-r.stored < int64(maxAge))
	switch {
	case fresh:
		c.hits.Add(1)
		c.addSaved(r.saved)
	case allowStale && now < addSat(expires, int64(c.opt.staleWindow())):
		c.staleHits.Add(1)
	default:
		return Entry{}, ErrNotFound
	}
	if !c.enqueue(event{kind: evTouch, key: key, at: now}) {
		c.kickWriter() // the counters must still reach the disk
	}
	return Entry{
		Value:   r.value,
		Stored:  time.Unix(0, r.stored),
		Expires: time.Unix(0, expires),
		Stale:   !fresh,
		Saved:   r.saved,
	}, nil
}

// RecordMiss counts one miss in Stats.Misses. Get leaves that to the
// caller, who knows whether a lookup that found nothing was a miss or a
// bypass. It never blocks; the count is persisted by the writer.
func (c *Cache) RecordMiss() {
	c.misses.Add(1)
	c.kickWriter()
}

// Put stores value under key, fresh for its lifetime and then stale for
// Options.StaleTTL. saved is what the answer cost in USD; each fresh hit
// adds it to Stats.SavedUSD.
//
// The lifetime follows the TTL in force at each Get, not the one at the
// Put. With ttl zero or negative it is the configured TTL (Options.TTL, or
// what SetLimits set since), whatever that is now: raising or lowering the
// TTL moves the entry's expiry with it. A positive ttl is the entry's own
// lifetime, which may be longer or shorter than the configured TTL; but a
// configured TTL lowered below the one in force at the Put cuts it down
// too, so that lowering the TTL stops every older entry being served.
//
// Put is asynchronous: it copies value and queues it to the background
// writer, which commits it within 200ms (call Flush to wait). It never
// blocks: if the queue is full the Put is dropped and counted in
// Stats.Dropped — the answer simply is not cached. A value larger than
// Options.MaxBytes is not stored. After Close, Put does nothing.
func (c *Cache) Put(key [32]byte, value []byte, ttl time.Duration, saved float64) {
	if c.closed.Load() {
		return
	}
	if int64(len(value))+keyLen > c.maxBytes.Load() || uint64(len(value)) > math.MaxUint32 {
		c.opt.Logger.Debug("cache: value larger than the cache, not stored", "bytes", len(value))
		return
	}
	now := c.opt.Clock.Now().UnixNano()
	r := record{stored: now, ttl: max(int64(ttl), 0), base: c.ttl.Load()}
	c.enqueue(event{
		kind:    evPut,
		key:     key,
		at:      now,
		expires: r.freshUntil(r.base),
		ttl:     r.ttl,
		base:    r.base,
		saved:   saved,
		value:   append(make([]byte, 0, len(value)), value...),
	})
}

// SetLimits changes Options.TTL and Options.MaxBytes of a cache in use
// (zero or negative: their defaults). The TTL applies at once, to the
// entries already stored as to the next Puts (see Put): lowered, an entry
// older than the new TTL is no longer served fresh from the next Get, and
// stale only within Options.StaleTTL of its new expiry. Its space is
// reclaimed when it would have died under the old TTL, or earlier by the
// size cap. A smaller size evicts at the writer's next commit.
func (c *Cache) SetLimits(ttl time.Duration, maxBytes int64) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	c.ttl.Store(int64(ttl))
	c.maxBytes.Store(maxBytes)
	c.kickWriter()
}

// SetMode changes Options.Mode of a cache in use ("" or an unknown value:
// ModeDeterministic). The caller reads it per request with Mode, so it
// applies to the next request.
func (c *Cache) SetMode(m Mode) {
	c.mode.Store(m.orDefault())
}

// Mode returns the mode in use: Options.Mode, or what SetMode set since.
func (c *Cache) Mode() Mode {
	return c.mode.Load().(Mode)
}

// Flush waits until everything queued before it (Puts, access times,
// counters) is committed to the file and eviction has run, and returns the
// first error the writer met since the previous Flush. For tests and
// shutdown; the writer commits on its own within 200ms anyway.
func (c *Cache) Flush() error {
	return c.call(evFlush)
}

// Clear deletes every entry, in one transaction, after committing what is
// queued. Entries and Bytes go to zero; Hits, Misses, StaleHits and
// SavedUSD are history and are kept.
func (c *Cache) Clear() error {
	return c.call(evClear)
}

// Stats returns the cache's counters and totals. It reads no file: the
// totals are those of the writer's last commit, the counters are live.
func (c *Cache) Stats() (Stats, error) {
	if c.closed.Load() {
		return Stats{}, ErrClosed
	}
	return Stats{
		Entries:   c.entries.Load(),
		Bytes:     c.bytes.Load(),
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		StaleHits: c.staleHits.Load(),
		SavedUSD:  math.Float64frombits(c.savedBits.Load()),
		Dropped:   c.dropped.Load(),
	}, nil
}

// Close commits what is queued, stops the writer and closes the file.
// Calls after the first return the first's result.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.stop)
		<-c.done
		c.closeErr = errors.Join(c.w.takeErr(), c.db.Close())
	})
	return c.closeErr
}

// enqueue hands ev to the writer without waiting; if the queue is full it
// drops ev, counts it, and returns false.
func (c *Cache) enqueue(ev event) bool {
	select {
	case c.events <- ev:
		return true
	default:
		c.dropped.Add(1)
		return false
	}
}

// kickWriter tells the writer that counters changed, without waiting.
func (c *Cache) kickWriter() {
	select {
	case c.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// call queues a flush or clear behind everything queued so far and waits
// for the writer to answer.
func (c *Cache) call(kind eventKind) error {
	if c.closed.Load() {
		return ErrClosed
	}
	reply := make(chan error, 1)
	select {
	case c.events <- event{kind: kind, reply: reply}:
	case <-c.done:
		return ErrClosed
	}
	select {
	case err := <-reply:
		return err
	case <-c.done:
		select { // the writer may have answered on its way out
		case err := <-reply:
			return err
		default:
			return ErrClosed
		}
	}
}

// addSaved adds usd to the SavedUSD counter.
func (c *Cache) addSaved(usd float64) {
	if usd == 0 || math.IsNaN(usd) {
		return
	}
	for {
		old := c.savedBits.Load()
		if c.savedBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+usd)) {
			return
		}
	}
}
