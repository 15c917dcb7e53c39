package spend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
	bolt "go.etcd.io/bbolt"
)

func rec(provider, deployment, group string, usd float64) Record {
	return Record{Provider: provider, Deployment: deployment, Group: group, USD: usd, Known: true,
		PromptTokens: 100, CompletionTokens: 10}
}

func TestLedgerBuckets(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	l.Record(rec("openai", "openai-a", "main", 1.00))
	l.Record(rec("openai", "openai-b", "main", 0.50))
	l.Record(rec("anthropic", "anthropic-a", "main", 0.25))
	l.Record(rec("anthropic", "anthropic-a", "cheap", 0.125))
	yesterday := rec("openai", "openai-a", "main", 4)
	yesterday.Time = epoch.Add(-24 * time.Hour)
	l.Record(yesterday)

	got := l.Totals(epoch)
	tests := []struct {
		name       string
		by         map[string]Spend
		key        string
		today, mon float64
		todayReqs  int
	}{
		{"provider openai", got.ByProvider, "openai", 1.5, 5.5, 2},
		{"provider anthropic", got.ByProvider, "anthropic", 0.375, 0.375, 2},
		{"group main", got.ByGroup, "main", 1.75, 5.75, 3},
		{"group cheap", got.ByGroup, "cheap", 0.125, 0.125, 1},
		{"deployment openai-a", got.ByDeployment, "openai-a", 1, 5, 1},
		{"deployment openai-b", got.ByDeployment, "openai-b", 0.5, 0.5, 1},
		{"deployment anthropic-a", got.ByDeployment, "anthropic-a", 0.375, 0.375, 2},
	}
	for _, tt := range tests {
		s := tt.by[tt.key]
		if !near(s.TodayUSD, tt.today) || !near(s.MonthUSD, tt.mon) || s.TodayRequests != tt.todayReqs {
			t.Errorf("%s: %+v; want today $%v (%d requests), month $%v", tt.name, s, tt.today, tt.todayReqs, tt.mon)
		}
	}
	if !near(got.TodayUSD, 1.875) || !near(got.MonthUSD, 5.875) || got.TodayRequests != 4 || got.MonthRequests != 5 {
		t.Errorf("totals %+v", got)
	}
	if got.Day != "2026-03-15" || got.Month != "2026-03" {
		t.Errorf("Day %q, Month %q", got.Day, got.Month)
	}
	if len(got.ByProvider) != 2 || len(got.ByGroup) != 2 || len(got.ByDeployment) != 3 {
		t.Errorf("breakdowns: %v %v %v", got.ByProvider, got.ByGroup, got.ByDeployment)
	}
}

func TestLedgerMonthBoundary(t *testing.T) {
	lastDay := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	clk := clock.NewFake(lastDay)
	l, _, _ := newTestLedger(t, Options{Clock: clk})
	l.Record(rec("openai", "d", "g", 1)) // no Time: the clock's
	clk.Advance(2 * time.Minute)         // 2026-02-01 00:01
	l.Record(rec("openai", "d", "g", 2))
	clk.Advance(24 * time.Hour) // 2026-02-02
	l.Record(rec("openai", "d", "g", 4))

	tests := []struct {
		name            string
		now             time.Time
		day, month      string
		today, monthUSD float64
	}{
		{"last day of January", lastDay, "2026-01-31", "2026-01", 1, 1},
		{"first day of February (its month is the whole month)", lastDay.Add(2 * time.Minute), "2026-02-01", "2026-02", 2, 6},
		{"second day of February", clk.Now(), "2026-02-02", "2026-02", 4, 6},
		{"zero now means the clock", time.Time{}, "2026-02-02", "2026-02", 4, 6},
		{"a day with nothing", lastDay.AddDate(0, 0, 5), "2026-02-05", "2026-02", 0, 6},
		{"a month with nothing", lastDay.AddDate(0, 2, 0), "2026-03-31", "2026-03", 0, 0},
	}
	for _, tt := range tests {
		got := l.Totals(tt.now)
		if got.Day != tt.day || got.Month != tt.month || !near(got.TodayUSD, tt.today) || !near(got.MonthUSD, tt.monthUSD) {
			t.Errorf("%s: Totals = %s/%s today $%v month $%v; want %s/%s $%v $%v", tt.name,
				got.Day, got.Month, got.TodayUSD, got.MonthUSD, tt.day, tt.month, tt.today, tt.monthUSD)
		}
	}
}

// TestLedgerUTCDays checks that a record counts for its UTC day, whatever
// the time zone of its Time.
func TestLedgerUTCDays(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	sydney := time.FixedZone("AEDT", 11*3600)
	r := rec("openai", "d", "g", 3)
	r.Time = time.Date(2026, 3, 16, 9, 0, 0, 0, sydney) // 2026-03-15 22:00 UTC
	l.Record(r)
	if got := l.Totals(epoch); !near(got.TodayUSD, 3) {
		t.Errorf("today (UTC) = $%v, want $3", got.TodayUSD)
	}
	if got := l.Totals(epoch.Add(24 * time.Hour)); got.TodayUSD != 0 {
		t.Errorf("next UTC day = $%v, want $0", got.TodayUSD)
	}
}

func TestLedgerSurvivesReopen(t *testing.T) {
	l, clk, path := newTestLedger(t, Options{})
	l.Record(rec("openai", "d1", "g1", 1.5))
	l.Record(rec("gemini", "d2", "g2", 0.5))
	l.Record(Record{Provider: "groq", Deployment: "d3", Group: "g1", PromptTokens: 7, CompletionTokens: 3}) // unknown price
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	l.Record(rec("openai", "d1", "g1", 100)) // dropped
	if got := l.Totals(epoch); !near(got.TodayUSD, 2) {
		t.Errorf("totals after Close = $%v, want $2 (readable from memory, later records dropped)", got.TodayUSD)
	}

	l2 := openTestLedger(t, path, Options{Clock: clk})
	got := l2.Totals(epoch)
	if !near(got.TodayUSD, 2) || got.TodayRequests != 3 || got.UnpricedToday != 1 ||
		!near(got.ByProvider["openai"].TodayUSD, 1.5) || got.ByGroup["g1"].TodayRequests != 2 {
		t.Errorf("after reopen: %+v", got)
	}
	days := l2.Daily(epoch, epoch)
	if len(days) != 1 || days[0].PromptTokens != 207 || days[0].CompletionTokens != 23 {
		t.Errorf("tokens after reopen: %+v", days)
	}
}

func TestLedgerUnpriced(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	l.Record(rec("openai", "d", "g", 1))
	unknown := rec("openrouter", "d2", "g", 0)
	unknown.Known = false
	l.Record(unknown)
	unknownWithCost := rec("openrouter", "d2", "g", 5) // USD is ignored when not Known
	unknownWithCost.Known = false
	l.Record(unknownWithCost)
	for _, bad := range []float64{-1, posInf(), nan()} {
		l.Record(rec("openai", "d", "g", bad))
	}
	l.Record(rec("openai", "d", "g", 0)) // a known price and no tokens: a real $0

	got := l.Totals(epoch)
	if !near(got.TodayUSD, 1) || got.TodayRequests != 7 || got.UnpricedToday != 5 || got.UnpricedMonth != 5 {
		t.Errorf("totals %+v; want $1, 7 requests, 5 unpriced", got)
	}
	if s := got.ByProvider["openrouter"]; s.TodayUSD != 0 || s.UnpricedToday != 2 || s.TodayRequests != 2 {
		t.Errorf("openrouter %+v; want 2 unpriced requests, $0", s)
	}
}

// TestLedgerFlush checks that Flush puts every record on disk: a copy of
// the file taken right after it, with the ledger still open, has them all.
func TestLedgerFlush(t *testing.T) {
	l, clk, path := newTestLedger(t, Options{})
	for i := range 10 {
		l.Record(rec("openai", "d", fmt.Sprint("g", i%2), 0.1))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	copyFile(t, path, cp)
	got := openTestLedger(t, cp, Options{Clock: clk}).Totals(epoch)
	if !near(got.TodayUSD, 1) || got.TodayRequests != 10 || got.ByGroup["g1"].TodayRequests != 5 {
		t.Errorf("copy after Flush: %+v", got)
	}
}

// TestLedgerWritesInBackground checks that records reach the file without
// Flush, within the batch delay (polled, not timed).
func TestLedgerWritesInBackground(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	l.Record(rec("openai", "d", "g", 0.25))
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := l.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bucketDays).Stats().KeyN
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the record did not reach the file")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLedgerConcurrentRecord(t *testing.T) {
	l, clk, path := newTestLedger(t, Options{})
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := rec("openai", fmt.Sprint("d", w%3), fmt.Sprint("g", i%4), 0.001)
				if i%10 == 0 {
					r.Known = false
				}
				l.Record(r)
				if i%100 == 0 {
					_ = l.Totals(time.Time{})
				}
			}
		})
	}
	// Flushes and the background writer run concurrently with the records.
	wg.Go(func() {
		for range 20 {
			if err := l.Flush(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()

	check := func(what string, got Totals) {
		t.Helper()
		const n = workers * each
		unpriced := workers * (each / 10)
		if got.TodayRequests != n || got.UnpricedToday != unpriced || !near(got.TodayUSD, float64(n-unpriced)*0.001) {
			t.Errorf("%s: %d requests, %d unpriced, $%v", what, got.TodayRequests, got.UnpricedToday, got.TodayUSD)
		}
	}
	check("in memory", l.Totals(epoch))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	check("after reopen", openTestLedger(t, path, Options{Clock: clk}).Totals(epoch))
}

func TestLedgerLocked(t *testing.T) {
	_, clk, path := newTestLedger(t, Options{})
	start := time.Now()
	_, err := Open(path, Options{Clock: clk, Logger: discard, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("second Open took %v", time.Since(start))
	}
}

func TestLedgerCorruptFileMovedAside(t *testing.T) {
	for _, tt := range []struct {
		name    string
		content []byte
	}{
		{"garbage", []byte(strings.Repeat("not a bbolt file ", 1000))},
		{"truncated", nil}, // filled below from a real ledger
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "spend.db")
			content := tt.content
			if content == nil {
				l := openTestLedger(t, filepath.Join(dir, "whole.db"), Options{Clock: clock.NewFake(epoch)})
				l.Record(rec("openai", "d", "g", 1))
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				whole, err := os.ReadFile(filepath.Join(dir, "whole.db"))
				if err != nil {
					t.Fatal(err)
				}
				content = whole[:len(whole)/2]
			}
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			l := openTestLedger(t, path, Options{Clock: clock.NewFake(epoch)})
			aside := l.Recovered()
			if aside == "" || !strings.HasPrefix(aside, path+".corrupt-") {
				t.Fatalf("Recovered() = %q", aside)
			}
			if kept, err := os.ReadFile(aside); err != nil || string(kept) != string(content) {
				t.Errorf("moved-aside file not kept as it was: %v", err)
			}
			l.Record(rec("openai", "d", "g", 2))
			if err := l.Flush(); err != nil {
				t.Errorf("new ledger does not write: %v", err)
			}
			if got := l.Totals(epoch); !near(got.TodayUSD, 2) {
				t.Errorf("new ledger totals $%v", got.TodayUSD)
			}
		})
	}
}

func TestLedgerNewerFormatLeftAlone(t *testing.T) {
	l, clk, path := newTestLedger(t, Options{})
	if err := l.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaFormat, []byte{0, 0, 0, 0, 0, 0, 0, formatVersion + 1})
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{Clock: clk, Logger: discard}); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("Open = %v, want ErrNewerFormat", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file moved: %v", err)
	}
}

func TestLedgerDaily(t *testing.T) {
	l, _, _ := newTestLedger(t, Options{})
	for i, usd := range []float64{1, 0, 2} { // Mar 13, 14 (nothing), 15
		if usd == 0 {
			continue
		}
		r := rec("openai", "d", "g", usd)
		r.Time = epoch.AddDate(0, 0, i-2)
		l.Record(r)
	}
	r := rec("anthropic", "d2", "g2", 0.5)
	l.Record(r)

	days := l.Daily(epoch.AddDate(0, 0, -3), epoch)
	var got []string
	for _, d := range days {
		got = append(got, fmt.Sprintf("%s $%.2f %d %v", d.Day, d.USD, d.Requests, d.ByProvider))
	}
	want := []string{
		"2026-03-12 $0.00 0 map[]",
		"2026-03-13 $1.00 1 map[openai:1]",
		"2026-03-14 $0.00 0 map[]",
		"2026-03-15 $2.50 2 map[anthropic:0.5 openai:2]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Daily:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := l.Daily(epoch, epoch.AddDate(0, 0, -1)); d != nil {
		t.Errorf("Daily with to before from = %v", d)
	}
	if d := l.Daily(epoch.AddDate(-3, 0, 0), epoch); len(d) != maxDailyDays || d[len(d)-1].Day != "2026-03-15" {
		t.Errorf("Daily over 3 years: %d days ending %s", len(d), d[len(d)-1].Day)
	}
}

// TestLedgerPastMonths checks that a month before the one Open was called
// in is loaded from the file when asked for, records still pending
// included, and counted once.
func TestLedgerPastMonths(t *testing.T) {
	l, clk, path := newTestLedger(t, Options{})
	january := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	r := rec("openai", "d", "g", 3)
	r.Time = january
	l.Record(r)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour) // still March: January is before the loaded range
	l2 := openTestLedger(t, path, Options{Clock: clk})
	late := rec("openai", "d", "g", 1) // a late record for January, still pending
	late.Time = january
	l2.Record(late)
	for range 2 { // the second time from memory
		if got := l2.Totals(january); !near(got.TodayUSD, 4) || !near(got.MonthUSD, 4) {
			t.Errorf("January: today $%v month $%v, want $4 $4", got.TodayUSD, got.MonthUSD)
		}
	}
	if err := l2.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := l2.Totals(january); !near(got.MonthUSD, 4) {
		t.Errorf("January after Flush: $%v", got.MonthUSD)
	}
	if got := l2.Totals(time.Time{}); got.MonthUSD != 0 {
		t.Errorf("March: $%v", got.MonthUSD)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerFailedCommitKeepsRecords checks that the records of a commit
// that fails are kept in memory for the next one, not dropped.
func TestLedgerFailedCommitKeepsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spend.db")
	l, err := Open(path, Options{Clock: clock.NewFake(epoch), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	l.Record(rec("openai", "d", "g", 1))
	l.Record(rec("openai", "d", "g", 2))
	if err := l.db.Close(); err != nil { // the disk goes away
		t.Fatal(err)
	}
	if err := l.Flush(); err == nil {
		t.Fatal("Flush succeeded without a file")
	}
	l.mu.RLock()
	kept := l.pending[cellKey{day: dayOf(epoch), cellID: cellID{"openai", "d", "g"}}]
	l.mu.RUnlock()
	if !near(kept.usd, 3) || kept.requests != 2 {
		t.Errorf("pending after a failed commit: %+v", kept)
	}
	if got := l.Totals(epoch); !near(got.TodayUSD, 3) {
		t.Errorf("totals after a failed commit: $%v", got.TodayUSD)
	}
	if err := l.Close(); err == nil {
		t.Error("Close reported no error for records it could not write")
	}
}
