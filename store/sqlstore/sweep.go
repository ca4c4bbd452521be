package sqlstore

import (
	"context"
	"time"
)

// Sweep implements [store.Sweeper]: it deletes the challenges, counters,
// sessions and devices expired at now and returns how many rows went. A
// session goes once it is past Expires or IdleExpires, revoked or not, and
// the refresh hashes it retired go with it (they are not counted).
//
// Each table is swept by its own statement, so a long sweep never holds
// locks across tables; a sweep that fails part way can simply run again.
// Nothing in this package calls Sweep: run it from a scheduled job.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int64, error) {
	t := micros(now)
	steps := []struct {
		what  string
		query string
		args  []any
	}{
		{"challenges", "DELETE FROM {p}challenges WHERE expires_us <= ?", []any{t}},
		{"counters", "DELETE FROM {p}counters WHERE expires_us <> 0 AND expires_us <= ?", []any{t}},
		{"sessions", "DELETE FROM {p}sessions WHERE expires_us <= ? OR idle_expires_us <= ?", []any{t, t}},
		{"devices", "DELETE FROM {p}devices WHERE expires_us <= ?", []any{t}},
	}
	var total int64
	for _, st := range steps {
		res, err := s.exec(ctx, st.query, st.args...)
		if err != nil {
			return total, wrapErr("sweep "+st.what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, wrapErr("sweep "+st.what, err)
		}
		total += n
	}
	// Retired hashes whose session is gone (swept above or earlier).
	if _, err := s.exec(ctx, "DELETE FROM {p}retired_refresh WHERE NOT EXISTS (SELECT 1 FROM {p}sessions x WHERE x.id = {p}retired_refresh.session_id)"); err != nil {
		return total, wrapErr("sweep retired refresh hashes", err)
	}
	return total, nil
}
