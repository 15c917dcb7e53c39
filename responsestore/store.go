// Package responsestore keeps the answers of the OpenAI Responses API that
// clients asked to store, so a later request can continue from one
// (previous_response_id) or fetch it (GET /v1/responses/{id}). It is a
// bbolt file on this machine, bounded in count and age; nothing in it is
// ever sent anywhere but back to the client.
package responsestore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/detour-gateway/detour/boltfile"
)

// Defaults of Options.
const (
	// DefaultKeep is how many responses are kept: the latest 1,000.
	DefaultKeep = 1000
	// DefaultTTL is how long a response is kept: 30 days, as OpenAI does.
	DefaultTTL = 30 * 24 * time.Hour
)

// ErrNotFound is returned for an id the store does not hold (never stored,
// deleted, expired or evicted).
var ErrNotFound = errors.New("responsestore: no such response")

var (
	bucketEntries = []byte("responses") // id → entry
	bucketOrder   = []byte("order")     // created (8 bytes, big endian) + id → nothing
)

// Entry is one stored response.
type Entry struct {
	// ID is the response's id ("resp_…").
	ID string `json:"id"`
	// Created is when it was stored.
	Created time.Time `json:"created"`
	// Response is the Responses API object as the client received it.
	Response json.RawMessage `json:"response"`
	// Conversation is the whole conversation up to and including this
	// response, as canonical chat messages (JSON): what a request that
	// continues from it is prefixed with.
	Conversation json.RawMessage `json:"conversation"`
}

// Options configure a Store; the zero value takes the defaults.
type Options struct {
	// Keep bounds the count; 0 means DefaultKeep.
	Keep int
	// TTL bounds the age; 0 means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a warning when an unusable file is moved aside; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Store is a bbolt file of responses, safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options
}

// Open opens (or creates) the store at path.
func Open(path string, o Options) (*Store, error) {
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	db, _, err := boltfile.Open(path, boltfile.Options{Name: "response store", Logger: o.Logger, Verify: func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(bucketEntries); err != nil {
				return err
			}
			_, err := tx.CreateBucketIfNotExists(bucketOrder)
			return err
		})
	}})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, opts: o}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func orderKey(created time.Time, id string) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(created.UnixNano()))
	return append(k, id...)
}

// Put stores e (its Created set now), then drops what is over the count or
// the age, oldest first.
func (s *Store) Put(e Entry) error {
	now := s.opts.Now()
	e.Created = now.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store response %s: %w", e.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		entries, order := tx.Bucket(bucketEntries), tx.Bucket(bucketOrder)
		if old := entries.Get([]byte(e.ID)); old != nil {
			var prev Entry
			if json.Unmarshal(old, &prev) == nil {
				order.Delete(orderKey(prev.Created, prev.ID))
			}
		}
		if err := entries.Put([]byte(e.ID), b); err != nil {
			return err
		}
		if err := order.Put(orderKey(e.Created, e.ID), nil); err != nil {
			return err
		}
		n := 0
		order.ForEach(func(_, _ []byte) error { n++; return nil })
		over := n - s.opts.Keep
		expired := binary.BigEndian.AppendUint64(nil, uint64(now.Add(-s.opts.TTL).UnixNano()))
		c := order.Cursor()
		for k, _ := c.First(); k != nil && (over > 0 || string(k[:8]) < string(expired)); k, _ = c.First() {
			if err := entries.Delete(k[8:]); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			over--
		}
		return nil
	})
}

// Get returns the response id; ErrNotFound when there is none, or it is
// older than the TTL.
func (s *Store) Get(id string) (Entry, error) {
	var e Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEntries).Get([]byte(id))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &e)
	})
	if err == nil && s.opts.Now().Sub(e.Created) > s.opts.TTL {
		return Entry{}, ErrNotFound
	}
	return e, err
}

// Delete removes the response id; ErrNotFound when there is none.
func (s *Store) Delete(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		entries := tx.Bucket(bucketEntries)
		b := entries.Get([]byte(id))
		if b == nil {
			return ErrNotFound
		}
		var e Entry
		if json.Unmarshal(b, &e) == nil {
			tx.Bucket(bucketOrder).Delete(orderKey(e.Created, e.ID))
		}
		return entries.Delete([]byte(id))
	})
}
