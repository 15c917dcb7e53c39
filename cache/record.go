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

// formatVersion is the layout of the buckets. A file with another version
// is treated like a corrupt one: moved aside. Records carry their own
// version (recordVersion), so a new record layout that still reads the
// old one needs no new formatVersion and loses no entries.
const formatVersion = 1

// keyLen is the length of a cache key; indexKeyLen of an lru or expiry key.
const (
	keyLen      = 32
	indexKeyLen = 8 + keyLen
)

// A record is laid out as (version 2):
//
//	offset size
//	0      1    record version (2)
//	1      8    stored, unix nanoseconds, big-endian
//	9      8    expires, unix nanoseconds: its key in bucketExpiry
//	17     8    last access, unix nanoseconds
//	25     8    saved USD, float64 bits
//	33     8    own TTL, nanoseconds: the TTL given to Put; 0 = none
//	41     8    base TTL, nanoseconds: Options.TTL in force at the Put
//	49     4    value length
//	53     4    CRC-32 (Castagnoli) of the value
//	57     …    value
//
// Version 1, written before a TTL change applied to stored entries, has
// no TTLs: the value length is at 33, the CRC at 37, the value at 41.
// It still decodes, with expires minus stored as both its own and its
// base TTL: it keeps the life it was given, cut short only when the
// configured TTL goes below it. The writer rewrites a record as version 2
// whenever it rewrites it anyway (an access time). A Detour that knows
// only version 1 reads a version 2 record as damaged and deletes it: a
// downgrade loses entries one by one, never the file.
const (
	recordVersion = 2
	headerLen     = 57

	recordVersion1 = 1
	headerLen1     = 41
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	errShortRecord = errors.New("record shorter than its header")
	errRecordCRC   = errors.New("value does not match its CRC")
)

// record is one decoded entry. value aliases the bytes it was decoded from:
// inside a bbolt transaction, bbolt's memory.
type record struct {
	stored, lastAccess int64 // unix nanoseconds
	// expires is where bucketExpiry holds the entry: when it stops being
	// fresh as of the last time the writer indexed it. It orders the
	// deletion of dead entries; freshness is freshUntil, which follows
	// the configured TTL.
	expires int64
	// ttl is the entry's own TTL (Put's ttl), in nanoseconds; 0 means
	// none: the configured TTL applies, whatever it is now. base is the
	// configured TTL when the entry was stored.
	ttl, base int64
	saved     float64
	value     []byte
}

// lifetime returns how long r is fresh when the configured TTL is ttl
// (nanoseconds): its own TTL if Put was given one, else ttl. An own TTL
// is cut to ttl when ttl is below the configured TTL r was stored under:
// lowering the TTL shortens every stored entry at once, while a request
// that asked for a longer life than the TTL keeps it as long as the TTL
// is not lowered.
func (r record) lifetime(ttl int64) int64 {
	switch {
	case r.ttl <= 0:
		return ttl
	case ttl < r.base:
		return min(r.ttl, ttl)
	}
	return r.ttl
}

// freshUntil returns when r stops being fresh, in unix nanoseconds, when
// the configured TTL is ttl.
func (r record) freshUntil(ttl int64) int64 {
	return addSat(r.stored, r.lifetime(ttl))
}

// encode returns the record in a new buffer, as version 2, with the CRC of
// its value.
func (r record) encode() []byte {
	b := make([]byte, headerLen+len(r.value))
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(r.stored))
	binary.BigEndian.PutUint64(b[9:], uint64(r.expires))
	binary.BigEndian.PutUint64(b[17:], uint64(r.lastAccess))
	binary.BigEndian.PutUint64(b[25:], math.Float64bits(r.saved))
	binary.BigEndian.PutUint64(b[33:], uint64(r.ttl))
	binary.BigEndian.PutUint64(b[41:], uint64(r.base))
	binary.BigEndian.PutUint32(b[49:], uint32(len(r.value)))
	binary.BigEndian.PutUint32(b[53:], crc32.Checksum(r.value, castagnoli))
	copy(b[headerLen:], r.value)
	return b
}

// recordHeaderLen returns the header length of a record of version v, 0
// for an unknown version.
func recordHeaderLen(v byte) int {
	switch v {
	case recordVersion:
		return headerLen
	case recordVersion1:
		return headerLen1
	}
	return 0
}

// decodeRecord reads a record of either version and checks its length
// and, if checkCRC, the CRC of its value. The value aliases b.
func decodeRecord(b []byte, checkCRC bool) (record, error) {
	if len(b) == 0 {
		return record{}, errShortRecord
	}
	hl := recordHeaderLen(b[0])
	if hl == 0 {
		return record{}, fmt.Errorf("record version %d, want %d or %d", b[0], recordVersion1, recordVersion)
	}
	if len(b) < hl {
		return record{}, errShortRecord
	}
	r := record{
		stored:     int64(binary.BigEndian.Uint64(b[1:])),
		expires:    int64(binary.BigEndian.Uint64(b[9:])),
		lastAccess: int64(binary.BigEndian.Uint64(b[17:])),
		saved:      math.Float64frombits(binary.BigEndian.Uint64(b[25:])),
		value:      b[hl:],
	}
	if b[0] == recordVersion {
		r.ttl = int64(binary.BigEndian.Uint64(b[33:]))
		r.base = int64(binary.BigEndian.Uint64(b[41:]))
	} else {
		// The life it was given, as its own: at least 1ns, so that a
		// record already dead never reads as "no TTL" and comes back.
		r.ttl = max(r.expires-r.stored, 1)
		r.base = r.ttl
	}
	n, sum := binary.BigEndian.Uint32(b[hl-8:]), binary.BigEndian.Uint32(b[hl-4:])
	if int64(n) != int64(len(r.value)) {
		return record{}, fmt.Errorf("record says %d value bytes, has %d", n, len(r.value))
	}
	if checkCRC && crc32.Checksum(r.value, castagnoli) != sum {
		return record{}, errRecordCRC
	}
	return r, nil
}

// entrySize is what an entry counts against Options.MaxBytes: its key and
// value. raw is the stored record, of either version; a record of no
// known version counts as version 2.
func entrySize(raw []byte) int64 {
	hl := headerLen
	if len(raw) > 0 && recordHeaderLen(raw[0]) != 0 {
		hl = recordHeaderLen(raw[0])
	}
	return keyLen + int64(max(len(raw)-hl, 0))
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
