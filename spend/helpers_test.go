package spend

import (
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/detour-gateway/detour/clock"
)

// epoch is where the fake clocks of the tests start: mid-month, mid-day.
var epoch = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// discard is a logger for tests that do not look at the log.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestLedger opens a ledger in a fresh temporary directory with a fake
// clock at epoch (unless o.Clock is set) and closes it when the test ends.
func newTestLedger(t testing.TB, o Options) (*Ledger, *clock.Fake, string) {
	t.Helper()
	clk, _ := o.Clock.(*clock.Fake)
	if clk == nil {
		clk = clock.NewFake(epoch)
		o.Clock = clk
	}
	path := filepath.Join(t.TempDir(), "spend.db")
	return openTestLedger(t, path, o), clk, path
}

// openTestLedger opens the ledger at path and closes it when the test ends.
func openTestLedger(t testing.TB, path string, o Options) *Ledger {
	t.Helper()
	if o.Logger == nil {
		o.Logger = discard
	}
	l, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// near reports whether two amounts of USD agree to a nano-dollar.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func posInf() float64 { return math.Inf(1) }
func nan() float64    { return math.NaN() }
