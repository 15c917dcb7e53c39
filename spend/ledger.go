package spend

import (
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detour-gateway/detour/clock"
	bolt "go.etcd.io/bbolt"
)

// DefaultLockTimeout is Options.LockTimeout when it is zero.
const DefaultLockTimeout = time.Second

// Tuning of the background writer. Not options: they trade how much a
// crash can lose against fsyncs, and nothing outside the package needs
// them.
const (
	// batchDelay is the longest a record waits in memory before the writer
	// commits it (real time, not Options.Clock: it schedules fsyncs, it
	// does not decide which day a record belongs to). It bounds what a
	// crash loses: the records of the last batchDelay, plus those of a
	// commit under way.
	batchDelay = 200 * time.Millisecond
	// retryFirst and retryMax space the retries of a failed commit. The
	// records of a failed commit are kept in memory and retried, never
	// dropped.
	retryFirst = time.Second
	retryMax   = time.Minute
	// maxDailyDays is the most days Daily returns.
	maxDailyDays = 366
)

// Options configure a Ledger. The zero value works.
type Options struct {
	// Clock gives the time of records that carry none, and the "now" of
	// budget checks. Nil means the system clock.
	Clock clock.Clock

	// Logger receives errors and warnings: a corrupt file moved aside, a
	// failed write, a record after Close. Nil means slog.Default().
	Logger *slog.Logger

	// LockTimeout is how long Open waits for the file lock held by another
	// Detour before giving up with ErrLocked. Zero or negative means
	// DefaultLockTimeout (1s); Open never waits forever.
	LockTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	return o
}

// Record is one request, as the ledger counts it.
type Record struct {
	// Time is when the request ended; its UTC day is the day it counts
	// for. Zero means now, by Options.Clock.
	Time time.Time
	// Provider, Deployment and Group are the provider prefix ("openai"),
	// the deployment's ID and the model group the request was for.
	Provider, Deployment, Group string
	// USD is what the request cost, used only when Known.
	USD float64
	// PromptTokens and CompletionTokens are the request's usage, counted
	// whether or not its price is known.
	PromptTokens, CompletionTokens int
	// Known is false when the model's price is unknown: the request is
	// counted as an unpriced request, never as $0. A Known record whose
	// USD is negative, NaN or infinite is counted as unpriced too.
	Known bool
}

// Spend is what one provider, group or deployment spent.
type Spend struct {
	TodayUSD      float64 `json:"today_usd"`
	MonthUSD      float64 `json:"month_usd"`
	TodayRequests int     `json:"today_requests"`
	MonthRequests int     `json:"month_requests"`
	// UnpricedToday and UnpricedMonth count the requests among those whose
	// price was unknown: they are in the request counts, not in the USD.
	UnpricedToday int `json:"unpriced_today"`
	UnpricedMonth int `json:"unpriced_month"`
}

// Totals is what was spent on a day and in its month. Days and months are
// UTC: a budget's day ends at midnight UTC wherever Detour runs, so that
// it matches the providers' own bills. The month figures cover the whole
// month of the day: for today, the month to date.
type Totals struct {
	// Day is the UTC day (YYYY-MM-DD) and Month its month (YYYY-MM).
	Day   string `json:"day"`
	Month string `json:"month"`

	TodayUSD      float64 `json:"today_usd"`
	MonthUSD      float64 `json:"month_usd"`
	TodayRequests int     `json:"today_requests"`
	MonthRequests int     `json:"month_requests"`
	// UnpricedToday and UnpricedMonth count requests whose price was
	// unknown (not in the USD figures).
	UnpricedToday int `json:"unpriced_today"`
	UnpricedMonth int `json:"unpriced_month"`
	// InFlightUSD is the estimated cost of the requests under way that
	// hold a reservation (see Checker.Reserve), not yet in the figures
	// above.
	InFlightUSD float64 `json:"in_flight_usd"`

	// ByProvider, ByGroup and ByDeployment break the spend down by
	// provider prefix, model group and deployment ID, for the day and its
	// month. Never nil.
	ByProvider   map[string]Spend `json:"by_provider"`
	ByGroup      map[string]Spend `json:"by_group"`
	ByDeployment map[string]Spend `json:"by_deployment"`
}

// DaySpend is what was spent on one UTC day, for charts.
type DaySpend struct {
	// Day is YYYY-MM-DD, UTC.
	Day              string  `json:"day"`
	USD              float64 `json:"usd"`
	Requests         int     `json:"requests"`
	Unpriced         int     `json:"unpriced"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	// ByProvider, ByGroup and ByDeployment give the USD per provider,
	// group and deployment; nil on a day with no requests.
	ByProvider   map[string]float64 `json:"by_provider,omitempty"`
	ByGroup      map[string]float64 `json:"by_group,omitempty"`
	ByDeployment map[string]float64 `json:"by_deployment,omitempty"`
}

// Ledger records what requests cost, per UTC day × provider × deployment
// × group, in a bbolt file that survives restarts and crashes. Its methods
// are safe for concurrent use.
//
// Record updates running totals in memory and returns; it never waits for
// the disk. A background writer commits the records of the last 200ms in
// one bbolt transaction (fsynced), so a crash loses at most the records of
// the last 200ms or so (those not yet committed); Flush commits at once,
// and Close commits everything before it closes the file. A commit that
// fails is retried with the next ones, its records kept in memory: only the
// process dying loses records.
//
// Totals and the budget checks read only the memory, never the disk. The
// memory holds every day from the first day of the month Open was called
// in; asking for an earlier day (Totals of a past month, Daily over a past
// range) loads it from the file once.
type Ledger struct {
	db        *bolt.DB
	opt       Options
	recovered string

	// commitMu serializes commits with loads of past days, so that a load
	// sees each record exactly once: on disk, or still pending.
	commitMu sync.Mutex

	mu         sync.RWMutex
	loadedFrom atomic.Int32 // dayNum: memory holds every day >= this; written under mu
	days       map[dayNum]*period
	months     map[monthNum]*period
	pending    map[cellKey]amount // recorded, not yet committed
	flight     inFlight
	closed     bool
	warnedLate bool // a record after Close was logged

	kick     chan struct{}   // pending grew: the writer should commit soon
	flushReq chan chan error // Flush: commit now and reply
	stop     chan struct{}   // closed by Close
	done     chan struct{}   // closed when the writer has returned

	closeOnce sync.Once
	closeErr  error
}

// period is a day's or a month's spend, in memory.
type period struct {
	total                       amount
	provider, group, deployment map[string]*amount
}

func newPeriod() *period {
	return &period{provider: map[string]*amount{}, group: map[string]*amount{}, deployment: map[string]*amount{}}
}

func (p *period) add(id cellID, a amount) {
	p.total.add(a)
	for _, e := range []struct {
		m   map[string]*amount
		key string
	}{{p.provider, id.provider}, {p.group, id.group}, {p.deployment, id.deployment}} {
		s := e.m[e.key]
		if s == nil {
			s = &amount{}
			e.m[e.key] = s
		}
		s.add(a)
	}
}

// Open opens the ledger file at path, creating it (mode 0600) and its
// directory (mode 0700) if need be, loads the current month into memory
// and starts the background writer. Keep the file beside the response
// cache, never inside it: clearing the cache must not lose spend.
//
// Only one process can have the file open. If another holds it, Open waits
// up to Options.LockTimeout and then returns an error wrapping ErrLocked.
// A second Open of the same path in the same process is refused the same
// way.
//
// A file that is not a usable ledger (bbolt cannot open it, it is
// truncated, its consistency check fails, its buckets are not a ledger's)
// is renamed to "<path>.corrupt-<UTC time>" — kept, not deleted — an error
// is logged, Recovered reports the new name, and Open starts an empty
// ledger: a broken file must not stop the gateway. A file from a newer
// Detour is left alone and Open fails with ErrNewerFormat.
func Open(path string, o Options) (*Ledger, error) {
	o = o.withDefaults()
	db, aside, err := openFile(path, o)
	if err != nil {
		return nil, err
	}
	l := &Ledger{
		db:        db,
		opt:       o,
		recovered: aside,
		days:      map[dayNum]*period{},
		months:    map[monthNum]*period{},
		pending:   map[cellKey]amount{},
		flight:    newInFlight(),
		kick:      make(chan struct{}, 1),
		flushReq:  make(chan chan error),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	from := dayOf(o.Clock.Now()).month().firstDay()
	l.loadedFrom.Store(int32(from))
	if err := l.load(from, math.MaxInt32); err != nil {
		_ = db.Close()
		return nil, err
	}
	go l.run()
	return l, nil
}

// Recovered returns the name a corrupt ledger file was moved to by Open,
// or "" when Open found the file sound. A caller can show it: spend
// recorded before that moment no longer counts toward budgets.
func (l *Ledger) Recovered() string { return l.recovered }

// load adds the days in [from, to) from the file to memory. The caller
// holds mu for writing, or owns l alone.
func (l *Ledger) load(from, to dayNum) error {
	var bad int
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDays).Cursor()
		start := encodeKey(cellKey{day: from})[:4]
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			key, err := decodeKey(k)
			if err != nil {
				bad++
				continue
			}
			if key.day >= to {
				break
			}
			a, err := decodeAmount(v)
			if err != nil {
				bad++
				continue
			}
			l.addMemory(key, a)
		}
		return nil
	})
	if bad > 0 {
		l.opt.Logger.Warn("spend: skipped damaged ledger records", "count", bad)
	}
	return err
}

// addMemory adds a to the running totals of its day and month. The caller
// holds mu for writing.
func (l *Ledger) addMemory(k cellKey, a amount) {
	d := l.days[k.day]
	if d == nil {
		d = newPeriod()
		l.days[k.day] = d
	}
	d.add(k.cellID, a)
	m := l.months[k.day.month()]
	if m == nil {
		m = newPeriod()
		l.months[k.day.month()] = m
	}
	m.add(k.cellID, a)
}

// Record counts one request. It updates the totals at once and returns
// without waiting for the disk; see Ledger for when the record is on disk.
// A record after Close is dropped, with a warning.
func (l *Ledger) Record(r Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(r)
}

// recordLocked is Record; the caller holds mu for writing.
func (l *Ledger) recordLocked(r Record) {
	if l.closed {
		if !l.warnedLate {
			l.warnedLate = true
			l.opt.Logger.Warn("spend: request recorded after the ledger was closed; not counted",
				"provider", r.Provider, "deployment", r.Deployment, "group", r.Group)
		}
		return
	}
	k, a := l.cell(r)
	if k.day >= dayNum(l.loadedFrom.Load()) {
		l.addMemory(k, a)
	}
	p := l.pending[k]
	p.add(a)
	l.pending[k] = p
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// cell returns the record's cell and the amount it adds there.
func (l *Ledger) cell(r Record) (cellKey, amount) {
	t := r.Time
	if y := t.UTC().Year(); t.IsZero() || y < 1 || y > 9999 {
		t = l.opt.Clock.Now()
	}
	a := amount{requests: 1, promptTokens: int64(max(r.PromptTokens, 0)), completionToks: int64(max(r.CompletionTokens, 0))}
	if r.Known && r.USD >= 0 && !math.IsInf(r.USD, 0) { // NaN fails r.USD >= 0
		a.usd = r.USD
	} else {
		a.unpriced = 1
		if r.Known {
			l.opt.Logger.Warn("spend: request with an invalid cost counted as unpriced", "usd", r.USD,
				"provider", r.Provider, "deployment", r.Deployment)
		}
	}
	return cellKey{day: dayOf(t), cellID: cellID{r.Provider, r.Deployment, r.Group}}, a
}

// ensureLoaded makes memory hold every day from day on, loading the
// missing ones from the file. After Close it loads nothing.
func (l *Ledger) ensureLoaded(day dayNum) {
	if day >= dayNum(l.loadedFrom.Load()) {
		return
	}
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	from := dayNum(l.loadedFrom.Load())
	if day >= from || l.closed {
		return
	}
	if err := l.load(day, from); err != nil {
		l.opt.Logger.Warn("spend: read past spend from the ledger file", "err", err)
		return
	}
	// Records of those days not yet committed are pending, not on disk
	// (commitMu keeps a commit from being half-way).
	for k, a := range l.pending {
		if k.day >= day && k.day < from {
			l.addMemory(k, a)
		}
	}
	l.loadedFrom.Store(int32(day))
}

// Totals returns the spend on the UTC day of now and in its month. A zero
// now means now by Options.Clock. It reads memory only, except the first
// time a month before the one Open was called in is asked for.
func (l *Ledger) Totals(now time.Time) Totals {
	if now.IsZero() {
		now = l.opt.Clock.Now()
	}
	day := dayOf(now)
	month := day.month()
	l.ensureLoaded(month.firstDay())

	l.mu.RLock()
	defer l.mu.RUnlock()
	t := Totals{
		Day:          day.String(),
		Month:        month.String(),
		InFlightUSD:  max(l.flight.total, 0),
		ByProvider:   map[string]Spend{},
		ByGroup:      map[string]Spend{},
		ByDeployment: map[string]Spend{},
	}
	m := l.months[month]
	if m == nil {
		return t
	}
	t.MonthUSD, t.MonthRequests, t.UnpricedMonth = m.total.usd, int(m.total.requests), int(m.total.unpriced)
	d := l.days[day]
	if d == nil {
		d = newPeriod()
	}
	t.TodayUSD, t.TodayRequests, t.UnpricedToday = d.total.usd, int(d.total.requests), int(d.total.unpriced)
	for _, e := range []struct {
		month, today map[string]*amount
		out          map[string]Spend
	}{{m.provider, d.provider, t.ByProvider}, {m.group, d.group, t.ByGroup}, {m.deployment, d.deployment, t.ByDeployment}} {
		for name, ma := range e.month {
			s := Spend{MonthUSD: ma.usd, MonthRequests: int(ma.requests), UnpricedMonth: int(ma.unpriced)}
			if da := e.today[name]; da != nil {
				s.TodayUSD, s.TodayRequests, s.UnpricedToday = da.usd, int(da.requests), int(da.unpriced)
			}
			e.out[name] = s
		}
	}
	return t
}

// Daily returns the spend of each UTC day from the day of from to the day
// of to, both included, oldest first, with days that had no requests
// included (at zero), so a chart can plot them directly. It returns at
// most 366 days: the last 366 of a longer range. It returns nil when to is
// before from.
func (l *Ledger) Daily(from, to time.Time) []DaySpend {
	first, last := dayOf(from), dayOf(to)
	if last < first {
		return nil
	}
	lastT := last.time()
	if first.time().Before(lastT.AddDate(0, 0, -(maxDailyDays - 1))) {
		first = dayOf(lastT.AddDate(0, 0, -(maxDailyDays - 1)))
	}
	l.ensureLoaded(first)

	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []DaySpend
	for t := first.time(); !t.After(lastT); t = t.AddDate(0, 0, 1) {
		d := dayOf(t)
		ds := DaySpend{Day: d.String()}
		if p := l.days[d]; p != nil {
			ds.USD, ds.Requests, ds.Unpriced = p.total.usd, int(p.total.requests), int(p.total.unpriced)
			ds.PromptTokens, ds.CompletionTokens = p.total.promptTokens, p.total.completionToks
			ds.ByProvider, ds.ByGroup, ds.ByDeployment = usdOf(p.provider), usdOf(p.group), usdOf(p.deployment)
		}
		out = append(out, ds)
	}
	return out
}

func usdOf(m map[string]*amount) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, a := range m {
		out[k] = a.usd
	}
	return out
}

// Flush commits every record made before it to the file and returns the
// commit's error, if any (the records stay in memory and are retried).
// It returns ErrClosed after Close.
func (l *Ledger) Flush() error {
	reply := make(chan error, 1)
	select {
	case l.flushReq <- reply:
		return <-reply
	case <-l.stop:
		return ErrClosed
	}
}

// Close commits every record, stops the writer and closes the file. The
// totals stay readable from memory; records after Close are dropped. Close
// is safe to call more than once; later calls return the first one's
// result.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.stop)
		<-l.done
		err := l.commit()
		if err != nil {
			l.opt.Logger.Error("spend: write the last records before closing; they are lost", "err", err)
		}
		if cerr := l.db.Close(); err == nil {
			err = cerr
		}
		l.closeErr = err
	})
	return l.closeErr
}
