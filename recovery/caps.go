package recovery

import (
	"context"
	"strconv"
	"time"

	"github.com/mfakit/mfa/store"
)

// admit counts one case against the caps.
func (m *Manager) admit(ctx context.Context, userID, ip string, now time.Time) error {
	w := int64(m.caps.Window / time.Second)
	window := strconv.FormatInt(now.Unix()/w, 10)
	rule := func(n int) store.Rule {
		return store.Rule{Free: n, Base: m.caps.Window, Max: m.caps.Window, TTL: m.caps.Window}
	}
	var cs []store.Counter
	if m.caps.PerUser > 0 {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: scopeCases, UserID: userID, Window: window}, Rule: rule(m.caps.PerUser)})
	}
	if ip != "" && m.caps.PerIP > 0 {
		cs = append(cs, store.Counter{Key: store.CounterKey{Scope: scopeCases, IP: ip, Window: window}, Rule: rule(m.caps.PerIP)})
	}
	if len(cs) == 0 {
		return nil
	}
	hit, err := m.store.Hit(ctx, store.HitRequest{Now: now, Counters: cs})
	if err != nil {
		return wrap(ErrStore, err)
	}
	if !hit.Admitted {
		return ErrRateLimited
	}
	return nil
}

// scopeCases counts cases opened, within windows.
const scopeCases store.Scope = "recovery"
