package cache

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// store is the cache's buckets inside one write transaction, with the
// running totals. Each method keeps entries, lru, expiry and the totals in
// agreement; the caller writes the totals to meta before committing.
type store struct {
	entries, lru, expiry, meta *bolt.Bucket
	bytes, count               int64
}

func openStore(tx *bolt.Tx, bytes, count int64) *store {
	return &store{
		entries: tx.Bucket(bucketEntries),
		lru:     tx.Bucket(bucketLRU),
		expiry:  tx.Bucket(bucketExpiry),
		meta:    tx.Bucket(bucketMeta),
		bytes:   bytes,
		count:   count,
	}
}

// put stores ev's value under key, replacing any entry there.
func (s *store) put(key [32]byte, ev event) error {
	k := append([]byte(nil), key[:]...) // bbolt keeps it until commit
	if raw := s.entries.Get(k); raw != nil {
		if err := s.remove(k, raw); err != nil {
			return err
		}
	}
	r := record{stored: ev.at, expires: ev.expires, lastAccess: ev.at, ttl: ev.ttl, base: ev.base, saved: ev.saved, value: ev.value}
	rec := r.encode()
	if err := s.entries.Put(k, rec); err != nil {
		return err
	}
	if err := s.lru.Put(indexKey(r.lastAccess, k), nil); err != nil {
		return err
	}
	if err := s.expiry.Put(indexKey(r.expires, k), nil); err != nil {
		return err
	}
	s.bytes += entrySize(rec)
	s.count++
	return nil
}

// touch moves key's last access to at, if that is later than it was.
func (s *store) touch(key [32]byte, at int64) error {
	k := append([]byte(nil), key[:]...)
	raw := s.entries.Get(k)
	if raw == nil {
		return nil // evicted or replaced since the hit
	}
	r, err := decodeRecord(raw, false)
	if err != nil || at <= r.lastAccess {
		return nil // a damaged record is deleted by the evDrop of its Get
	}
	old := r.lastAccess
	r.lastAccess = at
	rec := r.encode() // copies the value out before bbolt's memory changes
	if err := s.lru.Delete(indexKey(old, k)); err != nil {
		return err
	}
	if err := s.lru.Put(indexKey(at, k), nil); err != nil {
		return err
	}
	return s.entries.Put(k, rec)
}

// dropDamaged deletes key if its record is damaged (checked again: a Put
// may have replaced it since Get saw it) and reports whether it did.
func (s *store) dropDamaged(key [32]byte) (bool, error) {
	k := append([]byte(nil), key[:]...)
	raw := s.entries.Get(k)
	if raw == nil {
		return false, nil
	}
	if _, err := decodeRecord(raw, true); err == nil {
		return false, nil
	}
	return true, s.remove(k, raw)
}

// remove deletes the entry key whose record is raw, with its index keys.
// If the header is unreadable the index keys cannot be found; they are
// left dangling and deleted when an eviction walk reaches them.
func (s *store) remove(key, raw []byte) error {
	size := entrySize(raw)
	r, hdrErr := decodeRecord(raw, false)
	if err := s.entries.Delete(key); err != nil {
		return err
	}
	s.bytes = max(s.bytes-size, 0)
	s.count = max(s.count-1, 0)
	if hdrErr != nil {
		return nil
	}
	if err := s.lru.Delete(indexKey(r.lastAccess, key)); err != nil {
		return err
	}
	return s.expiry.Delete(indexKey(r.expires, key))
}

// evictDead walks the expiry index from the oldest key up to deadline, at
// most limit keys, and deletes the entries that expired at or before
// deadline when the configured TTL is ttl. An entry indexed there that
// is not dead under ttl (the TTL was raised since it was indexed) is
// indexed anew at its expiry under ttl instead. It returns how many index
// keys it deleted or moved (an index key whose entry is gone counts too).
func (s *store) evictDead(deadline, ttl int64, limit int) (int, error) {
	var victims [][]byte
	c := s.expiry.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < limit; k, _ = c.Next() {
		if t, _, ok := splitIndexKey(k); ok && t > deadline {
			break
		}
		victims = append(victims, append([]byte(nil), k...))
	}
	var dead [][]byte
	for _, ik := range victims {
		_, key, ok := splitIndexKey(ik)
		if !ok {
			dead = append(dead, ik)
			continue
		}
		raw := s.entries.Get(key)
		if raw == nil {
			dead = append(dead, ik)
			continue
		}
		r, err := decodeRecord(raw, false)
		if err != nil || !bytes.Equal(indexKey(r.expires, key), ik) {
			dead = append(dead, ik)
			continue
		}
		if at := r.freshUntil(ttl); at > deadline {
			if err := s.reindex(key, r, at); err != nil {
				return 0, err
			}
			continue
		}
		dead = append(dead, ik)
	}
	return len(victims), s.evict(s.expiry, dead, func(r record, key []byte) []byte {
		return indexKey(r.expires, key)
	})
}

// reindex moves the expiry index key of key, whose record is r, to at,
// and rewrites the record with it.
func (s *store) reindex(key []byte, r record, at int64) error {
	old := r.expires
	r.expires = at
	rec := r.encode() // copies the value out before bbolt's memory changes
	if err := s.expiry.Delete(indexKey(old, key)); err != nil {
		return err
	}
	if err := s.expiry.Put(indexKey(at, key), nil); err != nil {
		return err
	}
	return s.entries.Put(key, rec)
}

// evictLRU deletes up to limit least recently used entries, walking the lru
// index from the oldest, until the entries' bytes are at most target.
func (s *store) evictLRU(target int64, limit int) (int, error) {
	var victims [][]byte
	projected := s.bytes
	c := s.lru.Cursor()
	for k, _ := c.First(); k != nil && len(victims) < limit && projected > target; k, _ = c.Next() {
		victims = append(victims, append([]byte(nil), k...))
		if _, key, ok := splitIndexKey(k); ok {
			if raw := s.entries.Get(key); raw != nil {
				projected -= entrySize(raw)
			}
		}
	}
	return len(victims), s.evict(s.lru, victims, func(r record, key []byte) []byte {
		return indexKey(r.lastAccess, key)
	})
}

// evict deletes the entries that the index keys victims point to. An index
// key that does not match its entry (indexKeyOf the entry's record differs)
// is a leftover and only it is deleted.
func (s *store) evict(index *bolt.Bucket, victims [][]byte, indexKeyOf func(record, []byte) []byte) error {
	for _, ik := range victims {
		if _, key, ok := splitIndexKey(ik); ok {
			if raw := s.entries.Get(key); raw != nil {
				r, hdrErr := decodeRecord(raw, false)
				if hdrErr != nil || bytes.Equal(indexKeyOf(r, key), ik) {
					if err := s.remove(key, raw); err != nil {
						return err
					}
					if hdrErr == nil {
						continue // remove deleted ik with the entry
					}
				}
			}
		}
		if err := index.Delete(ik); err != nil {
			return err
		}
	}
	return nil
}

// writeTotals writes bytes and count to meta.
func (s *store) writeTotals() error {
	if err := s.meta.Put(metaBytes, putUint64(uint64(s.bytes))); err != nil {
		return err
	}
	return s.meta.Put(metaEntries, putUint64(uint64(s.count)))
}

// writeMeta writes the totals and the counters to meta.
func (s *store) writeMeta(c counters) error {
	if err := s.writeTotals(); err != nil {
		return err
	}
	for _, kv := range []struct {
		k []byte
		v uint64
	}{
		{metaHits, uint64(c.hits)},
		{metaMisses, uint64(c.misses)},
		{metaStaleHits, uint64(c.staleHits)},
		{metaSavedUSD, c.savedBits},
	} {
		if err := s.meta.Put(kv.k, putUint64(kv.v)); err != nil {
			return err
		}
	}
	return nil
}
