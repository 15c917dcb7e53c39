package cache

import (
	"errors"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

type eventKind uint8

const (
	evPut   eventKind = iota // store value under key
	evTouch                  // key was read at time at
	evDrop                   // Get found key's record damaged: delete it
	evFlush                  // commit everything before this, then reply
	evClear                  // commit, delete every entry, then reply
)

// event is one unit of work for the writer.
type event struct {
	kind    eventKind
	key     [32]byte
	at      int64 // evPut: stored; evTouch: access time (unix nanos)
	expires int64 // evPut: expiry under the TTL in force at the Put
	ttl     int64 // evPut: the record's own TTL, 0 for none (nanoseconds)
	base    int64 // evPut: the configured TTL at the Put (nanoseconds)
	saved   float64
	value   []byte     // evPut, owned by the event
	reply   chan error // evFlush, evClear
}

// counters is a snapshot of the persisted counters.
type counters struct {
	hits, misses, staleHits int64
	savedBits               uint64
}

// writer is the one goroutine that writes the file. It gathers events into
// a batch, commits the batch in one bbolt transaction, then evicts.
type writer struct {
	c *Cache

	// The batch being gathered. Later events for a key replace earlier
	// ones of the same kind.
	puts    map[[32]byte]event
	touches map[[32]byte]int64
	drops   map[[32]byte]struct{}
	n       int // events in the batch

	bytes, entries int64    // totals as committed
	saved          counters // counters as committed

	err error // first commit error since the last Flush

	hooks hooks
}

func newWriter(c *Cache, st persisted, h hooks) *writer {
	return &writer{
		c:       c,
		hooks:   h,
		puts:    map[[32]byte]event{},
		touches: map[[32]byte]int64{},
		drops:   map[[32]byte]struct{}{},
		bytes:   st.bytes,
		entries: st.entries,
		saved: counters{
			hits: st.hits, misses: st.misses, staleHits: st.staleHits,
			savedBits: math.Float64bits(st.savedUSD),
		},
	}
}

// run is the writer's loop; it returns when Cache.stop is closed, after
// committing everything queued.
func (w *writer) run() {
	defer close(w.c.done)
	timer := time.NewTimer(batchDelay)
	timer.Stop()
	armed := false
	arm := func() {
		if !armed {
			timer.Reset(batchDelay)
			armed = true
		}
	}
	commit := func() {
		if armed {
			timer.Stop()
			armed = false
		}
		w.commit()
		w.maintain()
	}
	handle := func(ev event) {
		switch ev.kind {
		case evFlush:
			commit()
			ev.reply <- w.takeErr()
		case evClear:
			commit()
			ev.reply <- w.clear()
		default:
			w.add(ev)
			if w.n >= batchMax {
				commit()
			} else {
				arm()
			}
		}
	}

	w.maintain() // entries that died while the cache was closed
	for {
		select {
		case ev := <-w.c.events:
			handle(ev)
		case <-w.c.kick:
			arm()
		case <-timer.C:
			armed = false
			commit()
		case <-w.c.stop:
			for {
				select {
				case ev := <-w.c.events:
					handle(ev)
					continue
				default:
				}
				break
			}
			w.commit()
			return
		}
	}
}

// add puts ev into the batch.
func (w *writer) add(ev event) {
	w.n++
	switch ev.kind {
	case evPut:
		w.puts[ev.key] = ev
	case evTouch:
		if ev.at > w.touches[ev.key] {
			w.touches[ev.key] = ev.at
		}
	case evDrop:
		w.drops[ev.key] = struct{}{}
	}
}

// takeErr returns and forgets the first error since the last call.
func (w *writer) takeErr() error {
	err := w.err
	w.err = nil
	return err
}

func (w *writer) fail(what string, err error) {
	w.c.opt.Logger.Warn("cache: "+what, "err", err)
	if w.err == nil {
		w.err = err
	}
}

// commit writes the batch and the counters in one transaction. A failed
// commit loses the batch (it is a cache) and is reported to the next Flush.
func (w *writer) commit() {
	cnt := counters{
		hits:      w.c.hits.Load(),
		misses:    w.c.misses.Load(),
		staleHits: w.c.staleHits.Load(),
		savedBits: w.c.savedBits.Load(),
	}
	if w.n == 0 && cnt == w.saved {
		return
	}
	bytes, entries := w.bytes, w.entries
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		s := openStore(tx, bytes, entries)
		for k, ev := range w.puts {
			if err := s.put(k, ev); err != nil {
				return err
			}
		}
		for k, at := range w.touches {
			if err := s.touch(k, at); err != nil {
				return err
			}
		}
		for k := range w.drops {
			deleted, err := s.dropDamaged(k)
			if err != nil {
				return err
			}
			if deleted {
				w.c.opt.Logger.Warn("cache: deleted an entry whose value failed its CRC check")
			}
		}
		bytes, entries = s.bytes, s.count
		return s.writeMeta(cnt)
	})
	clear(w.puts)
	clear(w.touches)
	clear(w.drops)
	w.n = 0
	if err != nil {
		w.fail("write batch", err)
		return
	}
	w.setTotals(bytes, entries)
	w.saved = cnt
}

func (w *writer) setTotals(bytes, entries int64) {
	w.bytes, w.entries = bytes, entries
	w.c.bytes.Store(bytes)
	w.c.entries.Store(entries)
}

// maintain deletes the entries past their stale window (under the TTL in
// force: an entry whose expiry a raised TTL moved later is indexed anew,
// not deleted), then, if the
// entries exceed MaxBytes, the least recently used ones down to 90% of it
// (so that eviction does not run again at the next Put), each in
// transactions of at most EvictBatch deletions. Checking costs a read
// transaction, no fsync.
func (w *writer) maintain() {
	o := w.c.opt
	// Entries that expired at or before this are past their stale window.
	deadline := addSat(o.Clock.Now().UnixNano(), -int64(o.staleWindow()))
	ttl := w.c.ttl.Load()
	for w.hasDead(deadline) {
		n, err := w.evictTx(func(s *store, limit int) (int, error) {
			return s.evictDead(deadline, ttl, limit)
		})
		if err != nil {
			w.fail("evict expired entries", err)
			return
		}
		if n == 0 {
			break
		}
	}
	limit := w.c.maxBytes.Load()
	if w.bytes <= limit {
		return
	}
	target := limit / 10 * 9
	for w.bytes > target {
		n, err := w.evictTx(func(s *store, limit int) (int, error) {
			return s.evictLRU(target, limit)
		})
		if err != nil {
			w.fail("evict least recently used entries", err)
			return
		}
		if n == 0 {
			return // the index is empty: nothing left to evict
		}
	}
}

// hasDead reports whether the oldest expiry is at or before deadline.
func (w *writer) hasDead(deadline int64) bool {
	var dead bool
	_ = w.c.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketExpiry).Cursor().First()
		t, _, ok := splitIndexKey(k)
		dead = ok && t <= deadline
		return nil
	})
	return dead
}

// evictTx runs evict in one write transaction, with a limit of EvictBatch
// deletions, and returns how many keys it deleted.
func (w *writer) evictTx(evict func(s *store, limit int) (int, error)) (int, error) {
	var n int
	bytes, entries := w.bytes, w.entries
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		s := openStore(tx, bytes, entries)
		var err error
		if n, err = evict(s, w.c.opt.EvictBatch); err != nil {
			return err
		}
		bytes, entries = s.bytes, s.count
		return s.writeTotals()
	})
	if err != nil {
		return 0, err
	}
	w.setTotals(bytes, entries)
	if w.hooks.evictTx != nil {
		w.hooks.evictTx(n)
	}
	return n, nil
}

// clear deletes every entry in one transaction, keeping the counters.
func (w *writer) clear() error {
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEntries, bucketLRU, bucketExpiry} {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return openStore(tx, 0, 0).writeTotals()
	})
	if err != nil {
		w.c.opt.Logger.Warn("cache: clear", "err", err)
		return err
	}
	w.setTotals(0, 0)
	return nil
}
