package requestlog

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var seedTime = time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC)

// seedRecords are six requests a minute apart, oldest first: one of each
// kind the Requests page shows.
func seedRecords() []Record {
	at := func(min int) time.Time { return seedTime.Add(time.Duration(min) * time.Minute) }
	cost := 0.000125
	return []Record{
		{ID: "ok", Time: at(0), Group: "main", Status: 200, Cache: "MISS", CostUSD: &cost,
			Attempts: []Attempt{{Deployment: "main#0", Group: "main", Status: 200}}},
		{ID: "failover", Time: at(1), Group: "main", Groups: []string{"main", "backup"}, Status: 200, Cache: "MISS",
			Attempts: []Attempt{
				{Deployment: "main#0", Group: "main", Class: "server_error", Status: 503, Error: "The server is overloaded."},
				{Deployment: "backup#0", Group: "backup", Status: 200},
			}},
		{ID: "hit", Time: at(2), Group: "main", Status: 200, Cache: "HIT"},
		{ID: "limited", Time: at(3), Group: "other", Status: 429, Cache: "BYPASS",
			Attempts: []Attempt{{Deployment: "other#0", Group: "other", Class: "rate_limited", Status: 429, Error: "Rate limit reached for requests"}}},
		{ID: "refused", Time: at(4), Group: "main", Status: 400,
			Attempts: []Attempt{{Deployment: "main#0", Group: "main", Class: "bad_request", Status: 400, Error: "Invalid 'messages': empty array"}}},
		{ID: "broken", Time: at(5), Group: "other", Stream: true, Status: 200, Error: "the stream broke: connection reset",
			Tags:     []string{"=HYPERLINK(\"http://x\")", "team-a"},
			Attempts: []Attempt{{Deployment: "other#0", Group: "other", Status: 200}}},
	}
}

// seededLog is a log holding seedRecords: the first four committed, the
// last two added after (pending, or committed by the background writer:
// Find must not care which).
func seededLog(t testing.TB) *Log {
	t.Helper()
	l, err := Open(filepath.Join(t.TempDir(), "requests.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for i, r := range seedRecords() {
		l.Add(r)
		if i == 3 {
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return l
}

func ids(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func TestFind(t *testing.T) {
	l := seededLog(t)
	at := func(min int) time.Time { return seedTime.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name   string
		filter Filter
		n      int
		want   []string
	}{
		{"everything, newest first", Filter{}, 0, []string{"broken", "refused", "limited", "hit", "failover", "ok"}},
		{"the limit stops the scan", Filter{}, 2, []string{"broken", "refused"}},
		{"the limit counts matches", Filter{Group: "main"}, 3, []string{"refused", "hit", "failover"}},
		{"a group asked for", Filter{Group: "other"}, 0, []string{"broken", "limited"}},
		{"a group tried as a fallback", Filter{Group: "backup"}, 0, []string{"failover"}},
		{"a deployment tried", Filter{Deployment: "main#0"}, 0, []string{"refused", "failover", "ok"}},
		{"a deployment nobody has", Filter{Deployment: "main#9"}, 0, []string{}},
		{"one status", Filter{MinStatus: 429, MaxStatus: 429}, 0, []string{"limited"}},
		{"a status class", Filter{MinStatus: 400, MaxStatus: 499}, 0, []string{"refused", "limited"}},
		{"an error class", Filter{Class: "server_error"}, 0, []string{"failover"}},
		{"a cache result", Filter{Cache: "HIT"}, 0, []string{"hit"}},
		{"no cache result", Filter{Cache: NoCache}, 0, []string{"broken", "refused"}},
		{"since is inclusive", Filter{Since: at(4)}, 0, []string{"broken", "refused"}},
		{"until is exclusive", Filter{Until: at(1)}, 0, []string{"ok"}},
		{"a time range", Filter{Since: at(1), Until: at(3)}, 0, []string{"hit", "failover"}},
		{"text in an upstream error, any case", Filter{Text: "OVERLOADED"}, 0, []string{"failover"}},
		{"text in the request's error", Filter{Text: "stream broke"}, 0, []string{"broken"}},
		{"text nowhere", Filter{Text: "quota"}, 0, []string{}},
		{"every field at once", Filter{Group: "main", Deployment: "main#0", MinStatus: 400, MaxStatus: 499,
			Class: "bad_request", Since: at(0), Until: at(9), Text: "messages"}, 0, []string{"refused"}},
		{"fields that hold apart", Filter{Group: "other", Class: "server_error"}, 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Find(tt.filter, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Find = %v, want %v", ids(got), tt.want)
			}
			// Match agrees with Find, record by record.
			for _, r := range seedRecords() {
				if want := slices.Contains(tt.want, r.ID); tt.n == 0 && tt.filter.Match(r) != want {
					t.Errorf("Match(%s) = %v, want %v", r.ID, !want, want)
				}
			}
		})
	}
	// The same answers once everything is committed.
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Find(Filter{Cache: NoCache}, 0); !slices.Equal(ids(got), []string{"broken", "refused"}) {
		t.Errorf("after the commit: Find(no cache) = %v", ids(got))
	}
}

// TestFindPrefilterEscapes: the raw-bytes prefilter looks for values as
// JSON encodes them, so a group with characters JSON escapes is found.
func TestFindPrefilterEscapes(t *testing.T) {
	l := seededLog(t)
	group := `team "a" <&> ü`
	l.Add(Record{ID: "odd", Time: seedTime.Add(time.Hour), Group: group, Status: 200})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := l.Find(Filter{Group: group}, 0); err != nil || !slices.Equal(ids(got), []string{"odd"}) {
		t.Errorf("Find(%q) = %v, %v", group, ids(got), err)
	}
}

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, seedRecords()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v", err)
	}
	if len(rows) != 7 || !slices.Equal(rows[0], csvHeader) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	col := func(row []string, name string) string { return row[slices.Index(csvHeader, name)] }
	tests := []struct {
		id, column, want string
	}{
		{"ok", "time", "2025-01-31T09:00:00Z"},
		{"ok", "cost_usd", "0.000125"},
		{"ok", "deployment", "main#0"},
		{"failover", "attempts", "2"},
		{"failover", "deployment", "backup#0"},
		{"failover", "deployments", "main#0; backup#0"},
		{"failover", "groups", "main; backup"},
		{"failover", "classes", "server_error"},
		{"failover", "upstream_errors", "main#0: The server is overloaded."},
		{"hit", "cost_usd", ""},
		{"hit", "deployment", ""},
		{"limited", "status", "429"},
		{"broken", "stream", "true"},
		{"broken", "error", "the stream broke: connection reset"},
		// A cell a spreadsheet would run as a formula is made text.
		{"broken", "tags", `'=HYPERLINK("http://x"); team-a`},
	}
	for _, tt := range tests {
		i := slices.IndexFunc(rows, func(r []string) bool { return r[0] == tt.id })
		if i < 0 {
			t.Fatalf("no row for %s", tt.id)
		}
		if got := col(rows[i], tt.column); got != tt.want {
			t.Errorf("%s.%s = %q, want %q", tt.id, tt.column, got, tt.want)
		}
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"plain":     "plain",
		"=1+1":      "'=1+1",
		"+1":        "'+1",
		"-1":        "'-1",
		"@SUM(A1)":  "'@SUM(A1)",
		"\tx":       "'\tx",
		"a=b":       "a=b",
		"'already":  "'already",
		"main#0; b": "main#0; b",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkFind scans a full log (DefaultKeep records, all committed) for
// the latest 100, and for filters that match nothing, the worst case:
// every record is looked at. "prefiltered" filters on a value the raw
// JSON must hold, so records are skipped undecoded; "decoded" (status and
// text) decodes every one.
func BenchmarkFind(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "requests.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	seed := seedRecords()
	for i := range DefaultKeep {
		r := seed[i%len(seed)]
		r.ID = fmt.Sprint("r", i)
		r.Time = seedTime.Add(time.Duration(i) * time.Second)
		l.Add(r)
		if i%256 == 255 {
			l.Flush() // the queue holds 1024
		}
	}
	if err := l.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		f    Filter
		n    int
	}{
		{"latest-100", Filter{}, 100},
		{"prefiltered-no-match", Filter{Deployment: "nowhere#0"}, 0},
		{"decoded-no-match", Filter{MinStatus: 500, MaxStatus: 599, Text: strings.Repeat("x", 8)}, 0},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := l.Find(bb.f, bb.n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
