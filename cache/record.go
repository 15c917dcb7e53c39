package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// The file holds four buckets. Every operation changes them together in
// one bbolt transaction, so they always agree.
var (
	// bucketEntries maps a 32-byte key to a record (header, then value).
	bucketEntries = []byte("entries")
	// bucketLRU indexes entries by last access: 8-byte big-endian unix
	// nanoseconds, then the 32-byte key; empty values. Walked from the
	// first (oldest) key to evict.
	bucketLRU = []byte("lru")
	// bucketExpiry indexes entries by expiry, laid out like bucketLRU, so
	// that entries past the stale window are found without a scan.
	bucketExpiry = []byte("expiry")
	// bucketMeta holds the format version, the totals and the counters,
	// each an 8-byte big-endian number under one of the meta* keys.
	bucketMeta = []byte("meta")
)

// Keys in bucketMeta.
var (
	metaVersion   = []byte("version")
	metaBytes     = []byte("bytes")
	metaEntries   = []byte("entries")
	metaHits      = []byte("hits")
	metaMisses    = []byte("misses")
	metaStaleHits = []byte("stale_hits")
	metaSavedUSD  = []byte("saved_usd") // float64 bits
)

// formatVersion is the layout of the buckets and records. A file with
// another version is treated like a corrupt one: moved aside.
const formatVersion = 1

// keyLen is the length of a cache key; indexKeyLen of an lru or expiry key.
const (
	keyLen      = 32
	indexKeyLen = 8 + keyLen
)

// A record is laid out as:
//
//	offset size
//	0      1    record version (1)
//	1      8    stored, unix nanoseconds, big-endian
//	9      8    expires, unix nanoseconds
//	17     8    last access, unix nanoseconds
//	25     8    saved USD, float64 bits
//	33     4    value length
//	37     4    CRC-32 (Castagnoli) of the value
//	41     …    value
const (
	recordVersion = 1
	headerLen     = 41
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	errShortRecord = errors.New("record shorter than its header")
	errRecordCRC   = errors.New("value does not match its CRC")
)

// record is one decoded entry. value aliases the bytes it was decoded from:
// inside a bbolt transaction, bbolt's memory.
type record struct {
	stored, expires, lastAccess int64 // unix nanoseconds
	saved                       float64
	value                       []byte
}

// encode returns the record in a new buffer, with the CRC of its value.
func (r record) encode() []byte {
	b := make([]byte, headerLen+len(r.value))
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(r.stored))
	binary.BigEndian.PutUint64(b[9:], uint64(r.expires))
	binary.BigEndian.PutUint64(b[17:], uint64(r.lastAccess))
	binary.BigEndian.PutUint64(b[25:], math.Float64bits(r.saved))
	binary.BigEndian.PutUint32(b[33:], uint32(len(r.value)))
	binary.BigEndian.PutUint32(b[37:], crc32.Checksum(r.value, castagnoli))
	copy(b[headerLen:], r.value)
	return b
}

// decodeRecord reads a record and checks its length and, if checkCRC, the
// CRC of its value. The value aliases b.
func decodeRecord(b []byte, checkCRC bool) (record, error) {
	if len(b) < headerLen {
		return record{}, errShortRecord
	}
	if b[0] != recordVersion {
		return record{}, fmt.Errorf("record version %d, want %d", b[0], recordVersion)
	}
	r := record{
		stored:     int64(binary.BigEndian.Uint64(b[1:])),
		expires:    int64(binary.BigEndian.Uint64(b[9:])),
		lastAccess: int64(binary.BigEndian.Uint64(b[17:])),
		saved:      math.Float64frombits(binary.BigEndian.Uint64(b[25:])),
		value:      b[headerLen:],
	}
	if n := binary.BigEndian.Uint32(b[33:]); int64(n) != int64(len(r.value)) {
		return record{}, fmt.Errorf("record says %d value bytes, has %d", n, len(r.value))
	}
	if checkCRC && crc32.Checksum(r.value, castagnoli) != binary.BigEndian.Uint32(b[37:]) {
		return record{}, errRecordCRC
	}
	return r, nil
}

// entrySize is what an entry counts against Options.MaxBytes: its key and
// value. raw is the stored record.
func entrySize(raw []byte) int64 {
	return keyLen + int64(max(len(raw)-headerLen, 0))
}

// indexKey returns the lru or expiry key of key at time t (unix nanos):
// big-endian so that bbolt's byte order is time order. Times before 1970
// are clamped to 0 so they sort first.
func indexKey(t int64, key []byte) []byte {
	b := make([]byte, indexKeyLen)
	binary.BigEndian.PutUint64(b, uint64(max(t, 0)))
	copy(b[8:], key)
	return b
}

// splitIndexKey returns the time and the entry key of an index key.
func splitIndexKey(k []byte) (int64, []byte, bool) {
	if len(k) != indexKeyLen {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k)), k[8:], true
}

// putUint64 returns n as 8 big-endian bytes.
func putUint64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// readUint64 reads an 8-byte meta value; absent reads as 0.
func readUint64(v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("meta value of %d bytes, want 8", len(v))
}

// addSat returns a+b, saturating instead of overflowing.
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	if b < 0 && a < math.MinInt64-b {
		return math.MinInt64
	}
	return a + b
}
