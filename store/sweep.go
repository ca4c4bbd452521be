package store

import (
	"context"
	"time"
)

// Sweeper is implemented by backends that keep expired rows until asked:
// Sweep deletes every challenge, counter, session, device and signal
// record expired at now and returns how many rows went. A scheduled job
// calls it; nothing in this module starts a goroutine to do so. A [Split] is not a Sweeper: sweep each
// of its backends.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}
