package spend

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// run is the writer: the one goroutine that commits records in the
// background. It commits batchDelay after the first record of a batch, at
// once on Flush, and retries a failed commit with backoff. It returns when
// stop is closed; Close then commits what is left.
func (l *Ledger) run() {
	defer close(l.done)
	timer := time.NewTimer(batchDelay)
	timer.Stop()
	armed := false
	arm := func(d time.Duration) {
		if !armed {
			timer.Reset(d)
			armed = true
		}
	}
	disarm := func() {
		if armed {
			timer.Stop() // since Go 1.23 no stale tick can be received after Stop
			armed = false
		}
	}
	retry := time.Duration(0) // delay before the next retry; 0: not failing
	result := func(err error) {
		switch {
		case err == nil && retry > 0:
			l.opt.Logger.Info("spend: ledger writes work again")
			retry = 0
		case err != nil && retry == 0:
			l.opt.Logger.Error("spend: write to the ledger file failed; keeping the records in memory and retrying", "err", err)
			retry = retryFirst
			arm(retry)
		case err != nil:
			retry = min(2*retry, retryMax)
			arm(retry)
		}
	}
	for {
		select {
		case <-l.kick:
			if retry == 0 {
				arm(batchDelay)
			}
		case <-timer.C:
			armed = false
			result(l.commit())
		case reply := <-l.flushReq:
			disarm()
			err := l.commit()
			result(err)
			reply <- err
		case <-l.stop:
			disarm()
			return
		}
	}
}

// commit writes the pending records in one transaction, adding each to its
// record in the file. If the transaction fails, the records go back to
// pending, to be retried.
func (l *Ledger) commit() error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	batch := l.pending
	if len(batch) == 0 {
		l.mu.Unlock()
		return nil
	}
	l.pending = make(map[cellKey]amount, len(batch))
	l.mu.Unlock()

	bad := 0
	err := l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDays)
		for k, a := range batch {
			key := encodeKey(k)
			if v := b.Get(key); v != nil {
				old, err := decodeAmount(v)
				if err != nil {
					bad++ // a damaged record is replaced by what is known
				}
				a.add(old)
			}
			if err := b.Put(key, encodeAmount(a)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.mu.Lock()
		for k, a := range batch {
			p := l.pending[k]
			p.add(a)
			l.pending[k] = p
		}
		l.mu.Unlock()
		return err
	}
	if bad > 0 {
		l.opt.Logger.Warn("spend: replaced damaged ledger records", "count", bad)
	}
	return nil
}
