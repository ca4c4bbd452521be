package mongostore

import (
	"sync"
	"time"
)

// recent remembers, in this process, the versions a Hit read or wrote,
// so that the Advance that commits the same verification, which follows
// it in the same process, can write the next versions without reading
// them again. It is only ever a guess: a version is immutable, so a
// remembered one held its state, and the insert of the version after it
// fails if it is no longer the newest, exactly as after a read. The
// guard of ErrSlow counts from when the version was read or written.
type recent struct {
	mu sync.Mutex
	m  map[string]seen
}

type seen struct {
	r  *rec
	at time.Time // when it was read (or before it was written)
}

// recentMax bounds the versions remembered; past it, all are forgotten.
const recentMax = 4096

func (c *recent) put(at time.Time, rs ...*rec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(rs) > recentMax {
		c.m = make(map[string]seen)
	}
	for _, r := range rs {
		if r != nil {
			c.m[r.K] = seen{r, at}
		}
	}
}

// take returns, and forgets, the versions of every key, and the earliest
// instant they were read at; ok is false (and nothing is forgotten) when
// one is missing or older than maxAge.
func (c *recent) take(maxAge time.Duration, keys ...string) (m map[string]*rec, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m = make(map[string]*rec, len(keys))
	for _, k := range keys {
		s, found := c.m[k]
		if !found || time.Since(s.at) > maxAge {
			return nil, time.Time{}, false
		}
		m[k] = s.r
		if at.IsZero() || s.at.Before(at) {
			at = s.at
		}
	}
	for _, k := range keys {
		delete(c.m, k)
	}
	return m, at, true
}
