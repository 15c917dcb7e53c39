// Package requestlog keeps the decision traces of the last requests in a
// bbolt file: for each request, which deployments were tried and why, with
// what result, and how it ended. It is bounded, written in the background,
// and holds no prompt text unless asked to.
package requestlog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/detour-gateway/detour/boltfile"
	bolt "go.etcd.io/bbolt"
)

// DefaultKeep is how many requests are kept: the last 1,000.
const DefaultKeep = 1000

var (
	// ErrNotFound is returned for a request id the log does not hold.
	ErrNotFound = errors.New("requestlog: no such request")

	// ErrLocked is returned by Open when another process (or another Open
	// in this process) holds the log file and did not let go within a
	// second. The error also wraps bbolt's ErrTimeout.
	ErrLocked = errors.New("requestlog: file is locked by another process")
)

// Record is one request's decision trace.
type Record struct {
	ID string `json:"id"`
	// API is the endpoint's API: chat, embeddings, messages or responses;
	// "" in records from before it was kept.
	API       string    `json:"api,omitempty"`
	Time      time.Time `json:"time"`
	Group     string    `json:"group"`
	Stream    bool      `json:"stream"`
	Status    int       `json:"status"`
	TotalMS   int64     `json:"total_ms"`
	Cache     string    `json:"cache,omitempty"`
	Tier      string    `json:"tier,omitempty"`
	TierScore float64   `json:"tier_score,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	Groups    []string  `json:"groups,omitempty"` // tried, the requested one first
	Degraded  string    `json:"degraded,omitempty"`
	CostUSD   *float64  `json:"cost_usd,omitempty"` // nil: unknown
	Attempts  []Attempt `json:"attempts"`
	// Error is why a stream broke after it started, or the failure a
	// stale cached answer stood in for; each failed attempt holds its
	// upstream's own error.
	Error string `json:"error,omitempty"`
	// Prompt is the request's messages, only when the log was opened to
	// keep them.
	Prompt json.RawMessage `json:"prompt,omitempty"`
	// Answer is the answer's text, kept only with the prompt.
	Answer string `json:"answer,omitempty"`
}

// Attempt is one upstream call of a request.
type Attempt struct {
	Deployment string `json:"deployment"`
	Provider   string `json:"provider"`
	Group      string `json:"group"`
	Reason     string `json:"reason"`
	Class      string `json:"class,omitempty"` // "" for the answering attempt
	Status     int    `json:"status"`
	MS         int64  `json:"ms"`
	// Error is the upstream's error message for a failed attempt, as safe
	// to show as a client's error answer (no key, no upstream URL).
	Error string `json:"error,omitempty"`
}

var (
	bucketRecords = []byte("records") // sequence → record
	bucketIDs     = []byte("ids")     // id → sequence
)

// Log is the bounded request log. Safe for concurrent use.
type Log struct {
	db     *bolt.DB
	keep   uint64
	log    *slog.Logger
	queue  chan Record
	done   chan struct{}
	flush  chan chan error
	closed sync.Once

	// pending holds the records added but not yet committed, oldest
	// first, so that Recent and Get see a request as soon as it ended
	// (the dashboard fetches the log the moment the stats say it changed).
	mu      sync.Mutex
	pending []Record
}

// Options configure Open.
type Options struct {
	// Keep is how many requests are kept; 0 means DefaultKeep.
	Keep int
	// Logger gets write failures. Nil means slog.Default().
	Logger *slog.Logger
}

// Open opens the log at path, creating it (mode 0600) and its directory
// (mode 0700) if need be. Another process holding the file is an error
// wrapping ErrLocked after one second. A file that is not a usable bbolt
// file (unreadable, truncated, failing bbolt's consistency check) is
// renamed to "<path>.corrupt-<UTC time>", a warning names the new path,
// and Open starts an empty log: a broken log must not stop the gateway.
func Open(path string, o Options) (*Log, error) {
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	db, _, err := boltfile.Open(path, boltfile.Options{
		Name:        "request log",
		LockTimeout: time.Second,
		ErrLocked:   ErrLocked,
		Verify:      createBuckets,
		Logger:      o.Logger,
	})
	if err != nil {
		return nil, err
	}
	l := &Log{db: db, keep: uint64(o.Keep), log: o.Logger, queue: make(chan Record, 1024),
		done: make(chan struct{}), flush: make(chan chan error)}
	go l.writer()
	return l, nil
}

// createBuckets creates the buckets of a new log.
func createBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketRecords); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(bucketIDs)
		return err
	})
}

// Add hands r to the background writer. It never blocks: when the queue
// is full the record is dropped.
func (l *Log) Add(r Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.queue <- r:
		l.pending = append(l.pending, r)
	default:
		l.log.Warn("request log: queue full, a trace was dropped", "id", r.ID)
	}
}

// written drops the n oldest pending records: they are committed (or
// their write failed and they are gone).
func (l *Log) written(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending[:0], l.pending[min(n, len(l.pending)):]...)
}

// pendingRecords returns a copy of the pending records, oldest first.
func (l *Log) pendingRecords() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Record(nil), l.pending...)
}

// Flush waits until every record added so far is written.
func (l *Log) Flush() error {
	ch := make(chan error)
	select {
	case l.flush <- ch:
		return <-ch
	case <-l.done:
		return errors.New("requestlog: closed")
	}
}

// Get returns the trace of request id.
func (l *Log) Get(id string) (Record, error) {
	for _, r := range l.pendingRecords() {
		if r.ID == id {
			return r, nil
		}
	}
	var r Record
	err := l.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketIDs).Get([]byte(id))
		if seq == nil {
			return ErrNotFound
		}
		v := tx.Bucket(bucketRecords).Get(seq)
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &r)
	})
	return r, err
}

// Recent returns up to n traces, newest first.
func (l *Log) Recent(n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	return l.Find(Filter{}, n)
}

// Close writes what is queued and closes the file.
func (l *Log) Close() error {
	err := l.Flush()
	l.closed.Do(func() { close(l.done) })
	return errors.Join(err, l.db.Close())
}

// batchWindow is how long the writer gathers records before one commit:
// traces are not worth an fsync per request.
const batchWindow = 200 * time.Millisecond

// writer gathers queued records for up to batchWindow (or 256 records)
// and commits them in one transaction.
func (l *Log) writer() {
	var batch []Record
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	commit := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.write(batch)
		l.written(len(batch))
		batch = batch[:0]
		return err
	}
	for {
		select {
		case <-l.done:
			return
		case r := <-l.queue:
			if len(batch) == 0 {
				timer.Reset(batchWindow)
			}
			batch = append(batch, r)
			if len(batch) >= 256 {
				timer.Stop()
				if err := commit(); err != nil {
					l.log.Warn("request log: write failed", "err", err)
				}
			}
		case <-timer.C:
			if err := commit(); err != nil {
				l.log.Warn("request log: write failed", "err", err)
			}
		case ch := <-l.flush:
			for more := true; more; {
				select {
				case r := <-l.queue:
					batch = append(batch, r)
				default:
					more = false
				}
			}
			timer.Stop()
			ch <- commit()
		}
	}
}

// write stores batch and drops the oldest records beyond keep, in one
// transaction.
func (l *Log) write(batch []Record) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		recs, ids := tx.Bucket(bucketRecords), tx.Bucket(bucketIDs)
		for _, r := range batch {
			seq, _ := recs.NextSequence()
			key := binary.BigEndian.AppendUint64(nil, seq)
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := recs.Put(key, v); err != nil {
				return err
			}
			if err := ids.Put([]byte(r.ID), key); err != nil {
				return err
			}
		}
		// Sequences are dense, so everything at or below last-keep goes.
		last := recs.Sequence()
		if last <= l.keep {
			return nil
		}
		var drop [][]byte // collected first: deleting under a cursor skips keys
		c := recs.Cursor()
		for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= last-l.keep; k, v = c.Next() {
			var old Record
			if json.Unmarshal(v, &old) == nil {
				if err := ids.Delete([]byte(old.ID)); err != nil {
					return err
				}
			}
			drop = append(drop, bytes.Clone(k))
		}
		for _, k := range drop {
			if err := recs.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
