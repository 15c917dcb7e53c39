package spend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The ledger file. Bucket "meta" holds the format version. Bucket "days"
// holds one record per UTC day × provider × deployment × group:
//
//	key:   day as 4 bytes big-endian yyyymmdd (so keys sort by day), then
//	       provider, deployment and group, each as a uvarint length and
//	       its bytes
//	value: 1 byte value version (1), then 8 bytes big-endian each: USD
//	       (float64 bits), requests, unpriced requests, prompt tokens,
//	       completion tokens
var (
	bucketMeta = []byte("meta")
	bucketDays = []byte("days")
	metaFormat = []byte("format")
)

const (
	formatVersion = 1
	valueVersion  = 1
	valueLen      = 1 + 5*8
)

// dayNum is a UTC day as the number yyyymmdd (20261123).
type dayNum int32

// monthNum is a UTC month as the number yyyymm (202611).
type monthNum int32

// dayOf returns the UTC day of t.
func dayOf(t time.Time) dayNum {
	y, m, d := t.UTC().Date()
	return dayNum(y*10000 + int(m)*100 + d)
}

func (d dayNum) month() monthNum { return monthNum(d / 100) }

// time returns the start of d, in UTC.
func (d dayNum) time() time.Time {
	return time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 0, 0, 0, 0, time.UTC)
}

// String returns d as YYYY-MM-DD.
func (d dayNum) String() string { return d.time().Format(time.DateOnly) }

// firstDay returns the first day of m.
func (m monthNum) firstDay() dayNum { return dayNum(m)*100 + 1 }

// String returns m as YYYY-MM.
func (m monthNum) String() string { return m.firstDay().time().Format("2006-01") }

// cellID names the deployment a request went to: the ledger's unit below a
// day.
type cellID struct {
	provider, deployment, group string
}

// cellKey is one record of the file: a cell on a day.
type cellKey struct {
	day dayNum
	cellID
}

// amount is what a cell, or a sum of cells, holds.
type amount struct {
	usd                          float64
	requests, unpriced           int64
	promptTokens, completionToks int64
}

func (a *amount) add(b amount) {
	a.usd += b.usd
	a.requests += b.requests
	a.unpriced += b.unpriced
	a.promptTokens += b.promptTokens
	a.completionToks += b.completionToks
}

func encodeKey(k cellKey) []byte {
	b := make([]byte, 4, 4+3*binary.MaxVarintLen64+len(k.provider)+len(k.deployment)+len(k.group))
	binary.BigEndian.PutUint32(b, uint32(k.day))
	for _, s := range []string{k.provider, k.deployment, k.group} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeKey(b []byte) (cellKey, error) {
	if len(b) < 4 {
		return cellKey{}, errors.New("short key")
	}
	k := cellKey{day: dayNum(binary.BigEndian.Uint32(b))}
	b = b[4:]
	for _, dst := range []*string{&k.provider, &k.deployment, &k.group} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return cellKey{}, errors.New("bad key")
		}
		*dst = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	if len(b) != 0 {
		return cellKey{}, errors.New("trailing bytes in key")
	}
	return k, nil
}

func encodeAmount(a amount) []byte {
	b := make([]byte, 1, valueLen)
	b[0] = valueVersion
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(a.usd))
	for _, n := range []int64{a.requests, a.unpriced, a.promptTokens, a.completionToks} {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}

func decodeAmount(b []byte) (amount, error) {
	if len(b) != valueLen || b[0] != valueVersion {
		return amount{}, fmt.Errorf("value of %d bytes, version %d", len(b), firstByte(b))
	}
	u := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[1+8*i:])) }
	a := amount{usd: math.Float64frombits(uint64(u(0))), requests: u(1), unpriced: u(2), promptTokens: u(3), completionToks: u(4)}
	if math.IsNaN(a.usd) || math.IsInf(a.usd, 0) || a.usd < 0 || a.requests < 0 || a.unpriced < 0 || a.promptTokens < 0 || a.completionToks < 0 {
		return amount{}, errors.New("value out of range")
	}
	return a, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// openFile opens the ledger file at path, moving a corrupt one aside, and
// returns the DB and the name a corrupt file was moved to ("" if none).
func openFile(path string, o Options) (*bolt.DB, string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", fmt.Errorf("create ledger directory: %w", err)
	}
	db, err := openChecked(path, o)
	if !errors.Is(err, errCorrupt) {
		return db, "", err
	}
	aside, mvErr := moveAside(path, o)
	if mvErr != nil {
		return nil, "", fmt.Errorf("open ledger %s: %w; move it aside: %w", path, err, mvErr)
	}
	// Spend history is lost to the running gateway (not deleted: the old
	// file is kept), so this is an error, not a warning.
	o.Logger.Error("spend: the ledger file was unreadable; moved it aside and started an empty ledger: spend recorded before now does not count toward budgets",
		"path", path, "moved_to", aside, "err", err)
	db, err = openChecked(path, o)
	return db, aside, err
}

// openChecked opens path with bbolt and checks it. An error wrapping
// errCorrupt means the file should be moved aside.
func openChecked(path string, o Options) (db *bolt.DB, err error) {
	// bbolt reads the file through a memory map: a truncated file faults
	// (SIGBUS) when a page past its end is touched, which would kill the
	// process. Make such a fault a panic of this goroutine, and recover.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))

	var file *os.File // the file bbolt opened, to close it if bbolt panics
	bo := &bolt.Options{
		// A second Detour gets ErrTimeout after this, never waits forever.
		Timeout: o.LockTimeout,
		// NoSync stays false, bbolt's default: every commit is fsynced, so
		// a crash or power cut loses at most the batch being written,
		// never the file. NoSync would be faster and unsafe.
		NoSync: false,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		// The memory map of a DB that panicked inside bbolt.Open cannot be
		// unmapped from here; it leaks, once, on this rare path. Closing
		// the file releases its lock.
		if db != nil {
			closeAfterPanic(db)
		} else if file != nil {
			_ = file.Close()
		}
		db = nil
		if f, ok := r.(interface{ Addr() uintptr }); ok {
			r = fmt.Sprintf("memory fault at %#x reading the file: truncated or damaged", f.Addr())
		}
		err = fmt.Errorf("open ledger %s: %w: %v", path, errCorrupt, r)
	}()

	db, err = bolt.Open(path, 0o600, bo)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open ledger %s: %w (%w)", path, ErrLocked, err)
	}
	if err != nil {
		if !worthMovingAside(path) {
			return nil, fmt.Errorf("open ledger %s: %w", path, err)
		}
		return nil, fmt.Errorf("open ledger %s: %w: %w", path, errCorrupt, err)
	}
	if err := verify(db, file); err != nil {
		_ = db.Close()
		if errors.Is(err, ErrNewerFormat) {
			return nil, fmt.Errorf("open ledger %s: %w", path, err)
		}
		return nil, fmt.Errorf("open ledger %s: %w: %w", path, errCorrupt, err)
	}
	return db, nil
}

// closeAfterPanic closes db, which may panic again on a broken file.
func closeAfterPanic(db *bolt.DB) {
	defer func() { _ = recover() }()
	_ = db.Close()
}

// worthMovingAside reports whether a file bbolt failed to open should be
// moved aside: a regular file with something in it. An empty file, a
// directory or a missing one is an environment problem (permissions, a
// full disk) that a fresh file would not fix.
func worthMovingAside(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// moveAside renames path to "<path>.corrupt-<UTC time>" (with a numeric
// suffix if that exists) and returns the new name.
func moveAside(path string, o Options) (string, error) {
	base := path + ".corrupt-" + o.Clock.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = base + "." + strconv.Itoa(i)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	return aside, nil
}

// verify checks an open DB — the file holds every page its meta page
// counts, bbolt's consistency check passes, the format is this one's — and
// creates the buckets of a new file.
func verify(db *bolt.DB, file *os.File) error {
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	err = db.View(func(tx *bolt.Tx) error {
		// Pages past the end of a truncated file fault when read, and
		// tx.Check reads them on a goroutine of its own where a fault
		// cannot be recovered: refuse a short file before checking.
		if tx.Size() > fi.Size() {
			return fmt.Errorf("file is %d bytes, its meta page says %d: truncated", fi.Size(), tx.Size())
		}
		var first error
		for err := range tx.Check() { // drain: Check's goroutine sends every error
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("consistency check: %w", first)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A new file, or not one of ours: only an empty file is made ours.
			if k, _ := tx.Cursor().First(); k != nil {
				return errors.New("file has buckets but no meta bucket: not a Detour spend ledger")
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
			if err := meta.Put(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion)); err != nil {
				return err
			}
		}
		v := meta.Get(metaFormat)
		if len(v) != 8 {
			return errors.New("meta bucket has no format version")
		}
		switch n := binary.BigEndian.Uint64(v); {
		case n > formatVersion:
			return fmt.Errorf("%w: format version %d, this Detour knows %d", ErrNewerFormat, n, formatVersion)
		case n != formatVersion:
			return fmt.Errorf("ledger format version %d, want %d", n, formatVersion)
		}
		_, err := tx.CreateBucketIfNotExists(bucketDays)
		return err
	})
}
