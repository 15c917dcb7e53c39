package spend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/detour-gateway/detour/boltfile"
	bolt "go.etcd.io/bbolt"
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
	return boltfile.Open(path, boltfile.Options{
		Name:        "ledger",
		LockTimeout: o.LockTimeout,
		ErrLocked:   ErrLocked,
		Verify:      verify,
		Keep:        func(err error) bool { return errors.Is(err, ErrNewerFormat) },
		Now:         o.Clock.Now,
		MovedAside: func(path, aside string, err error) {
			// Spend history is lost to the running gateway (not deleted:
			// the old file is kept), so this is an error, not a warning.
			o.Logger.Error("spend: the ledger file was unreadable; moved it aside and started an empty ledger: spend recorded before now does not count toward budgets",
				"path", path, "moved_to", aside, "err", err)
		},
	})
}

// verify checks the format of a DB that boltfile found sound — it is a
// ledger, of this format — and creates the buckets of a new file.
func verify(db *bolt.DB) error {
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
