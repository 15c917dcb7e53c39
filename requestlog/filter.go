package requestlog

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// NoCache is the Filter.Cache value that matches the records without a
// cache result: those of a gateway without a cache, and requests refused
// before the cache was asked.
const NoCache = "none"

// Filter selects records. The zero Filter matches every record; each field
// that is set narrows the selection, and a record must match all of them.
type Filter struct {
	// Group matches the model group asked for, or one tried as a fallback.
	// "" matches any.
	Group string
	// Deployment matches a record with an attempt on this deployment (its
	// id as in Attempt.Deployment). "" matches any.
	Deployment string
	// MinStatus and MaxStatus bound the record's status, both inclusive;
	// 0 is no bound. Both 502 asks for 502 exactly, 500 and 599 for 5xx.
	MinStatus, MaxStatus int
	// Class matches a record with an attempt that failed with this error
	// class (rate_limited, server_error …). "" matches any.
	Class string
	// Cache matches the cache result (HIT, MISS, BYPASS, STALE), or no
	// result for NoCache. "" matches any.
	Cache string
	// Since and Until bound the record's time: Since inclusive, Until
	// exclusive. The zero time is no bound.
	Since, Until time.Time
	// Text matches, ignoring case, a record whose error or one of whose
	// attempts' errors contains it. "" matches any.
	Text string
}

// Match reports whether r is one of the records f selects.
func (f Filter) Match(r Record) bool {
	m := f.compile()
	return m.match(&r)
}

// matcher is a Filter made ready to test many records: the text is
// lowered once, not once per record.
type matcher struct {
	Filter
	text string
	// needles are byte strings that a record's JSON must contain to match
	// (a quoted group, deployment, class or cache value), so that most
	// records that cannot match are skipped without being decoded.
	needles [][]byte
}

func (f Filter) compile() matcher {
	m := matcher{Filter: f, text: strings.ToLower(f.Text)}
	for _, s := range []string{f.Group, f.Deployment, f.Class} {
		if s != "" {
			q, _ := json.Marshal(s) // a string always encodes
			m.needles = append(m.needles, q)
		}
	}
	if f.Cache != "" && f.Cache != NoCache {
		q, _ := json.Marshal(f.Cache)
		m.needles = append(m.needles, q)
	}
	return m
}

// mayMatch reports whether the encoded record v can match: false only
// when it cannot.
func (m *matcher) mayMatch(v []byte) bool {
	for _, n := range m.needles {
		if !bytes.Contains(v, n) {
			return false
		}
	}
	return true
}

func (m *matcher) match(r *Record) bool {
	switch {
	case m.Group != "" && r.Group != m.Group && !slices.Contains(r.Groups, m.Group):
		return false
	case m.MinStatus != 0 && r.Status < m.MinStatus, m.MaxStatus != 0 && r.Status > m.MaxStatus:
		return false
	case m.Cache == NoCache && r.Cache != "", m.Cache != "" && m.Cache != NoCache && r.Cache != m.Cache:
		return false
	case !m.Since.IsZero() && r.Time.Before(m.Since), !m.Until.IsZero() && !r.Time.Before(m.Until):
		return false
	}
	if m.Deployment == "" && m.Class == "" && m.text == "" {
		return true
	}
	deployment, class := m.Deployment == "", m.Class == ""
	text := m.text == "" || strings.Contains(strings.ToLower(r.Error), m.text)
	for _, a := range r.Attempts {
		deployment = deployment || a.Deployment == m.Deployment
		class = class || a.Class == m.Class
		text = text || a.Error != "" && strings.Contains(strings.ToLower(a.Error), m.text)
	}
	return deployment && class && text
}

// Find returns up to n of the records f selects, newest first; n ≤ 0
// means all of them. It reads the log newest first and stops at the n-th
// match: the log is bounded (DefaultKeep records), so a scan is cheap,
// and an index would cost every write for a page that is seldom open.
func (l *Log) Find(f Filter, n int) ([]Record, error) {
	m := f.compile()
	full := func(out []Record) bool { return n > 0 && len(out) >= n }
	pending := l.pendingRecords()
	seen := make(map[string]bool, len(pending))
	var out []Record
	for i := len(pending) - 1; i >= 0; i-- {
		seen[pending[i].ID] = true
		if !full(out) && m.match(&pending[i]) {
			out = append(out, pending[i])
		}
	}
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Last(); k != nil && !full(out); k, v = c.Prev() {
			if !m.mayMatch(v) {
				continue
			}
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !seen[r.ID] && m.match(&r) { // seen: committed while this read began
				out = append(out, r)
			}
		}
		return nil
	})
	// A record added after the pending snapshot may have been committed
	// before the read: put it in its place.
	slices.SortStableFunc(out, func(a, b Record) int { return b.Time.Compare(a.Time) })
	return out, err
}
