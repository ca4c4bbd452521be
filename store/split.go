package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Split is a [Store] assembled from several backends, one per concern: for
// example factors in PostgreSQL and the short-lived state (counters,
// challenges, marks, sessions) in Redis. Every field must be set.
//
// The two operations that a single backend does in one round trip cost two
// here: a [Limits.Hit] that loads a factor calls Limits then Factors, and an
// [Factors.Advance] that resets counters calls Factors then Limits. Each step
// keeps its own atomicity, which is what the guarantees rest on: the attempt
// is counted before the factor is read, and the single-use compare-and-set
// happens before counters are cleared. If clearing fails the error is
// returned; the success has been committed, and the counters stay as a
// failure would have left them, which is the safe side.
type Split struct {
	Factors    Factors
	Limits     Limits
	Challenges Challenges
	Marks      Marks
	Sessions   Sessions
	Devices    Devices
}

var _ Store = (*Split)(nil)

func (s *Split) CreateFactor(ctx context.Context, f Factor) error {
	return s.Factors.CreateFactor(ctx, f)
}

func (s *Split) GetFactor(ctx context.Context, userID, id string) (Factor, error) {
	return s.Factors.GetFactor(ctx, userID, id)
}

func (s *Split) FindFactor(ctx context.Context, kind, lookup string) (Factor, error) {
	return s.Factors.FindFactor(ctx, kind, lookup)
}

func (s *Split) ListFactors(ctx context.Context, userID string) ([]Factor, error) {
	return s.Factors.ListFactors(ctx, userID)
}

func (s *Split) UpdateFactor(ctx context.Context, f Factor) error {
	return s.Factors.UpdateFactor(ctx, f)
}

func (s *Split) DeleteFactor(ctx context.Context, userID, id string) error {
	return s.Factors.DeleteFactor(ctx, userID, id)
}

func (s *Split) DeletePendingFactor(ctx context.Context, userID, id string) error {
	return s.Factors.DeletePendingFactor(ctx, userID, id)
}

func (s *Split) Advance(ctx context.Context, req Advance) error {
	reset, forgive := req.Reset, req.Forgive
	req.Reset, req.Forgive = nil, nil
	if err := s.Factors.Advance(ctx, req); err != nil {
		return err
	}
	if len(reset) == 0 && len(forgive) == 0 {
		return nil
	}
	// The counters live elsewhere: an Advance on the limits backend with no
	// factor would fail, so reset and forgive through its own methods.
	if len(reset) > 0 {
		if err := s.Limits.Reset(ctx, reset...); err != nil {
			return fmt.Errorf("mfa: store: reset counters after success: %w", err)
		}
	}
	if len(forgive) > 0 {
		if err := s.Limits.Forgive(ctx, req.Now, forgive...); err != nil {
			return fmt.Errorf("mfa: store: forgive counters after success: %w", err)
		}
	}
	return nil
}

func (s *Split) Hit(ctx context.Context, req HitRequest) (HitResult, error) {
	load := req.Load
	req.Load = FactorRef{}
	res, err := s.Limits.Hit(ctx, req)
	if err != nil || !res.Admitted || load.ID == "" {
		return res, err
	}
	f, err := s.Factors.GetFactor(ctx, load.UserID, load.ID)
	switch {
	case err == nil:
		res.Factor, res.Found = f, true
	case isNotFound(err):
	default:
		return HitResult{}, err
	}
	return res, nil
}

func (s *Split) Reset(ctx context.Context, keys ...CounterKey) error {
	return s.Limits.Reset(ctx, keys...)
}

func (s *Split) Forgive(ctx context.Context, now time.Time, counters ...Counter) error {
	return s.Limits.Forgive(ctx, now, counters...)
}

func (s *Split) CounterState(ctx context.Context, key CounterKey) (CounterState, error) {
	return s.Limits.CounterState(ctx, key)
}

func (s *Split) PutChallenge(ctx context.Context, c Challenge) error {
	return s.Challenges.PutChallenge(ctx, c)
}

func (s *Split) TakeChallenge(ctx context.Context, id string, now time.Time) (Challenge, error) {
	return s.Challenges.TakeChallenge(ctx, id, now)
}

func (s *Split) Mark(ctx context.Context, key string, now, expires time.Time) error {
	return s.Marks.Mark(ctx, key, now, expires)
}

func (s *Split) CreateSession(ctx context.Context, sess Session) error {
	return s.Sessions.CreateSession(ctx, sess)
}

func (s *Split) GetSession(ctx context.Context, id string) (Session, error) {
	return s.Sessions.GetSession(ctx, id)
}

func (s *Split) RotateRefresh(ctx context.Context, req Rotate) (Session, error) {
	return s.Sessions.RotateRefresh(ctx, req)
}

func (s *Split) RevokeSession(ctx context.Context, id string) error {
	return s.Sessions.RevokeSession(ctx, id)
}

func (s *Split) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	return s.Sessions.RevokeUserSessions(ctx, userID)
}

func (s *Split) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	return s.Sessions.ListSessions(ctx, userID)
}

func (s *Split) CreateDevice(ctx context.Context, d Device) error {
	return s.Devices.CreateDevice(ctx, d)
}

func (s *Split) GetDevice(ctx context.Context, id string, now time.Time) (Device, error) {
	return s.Devices.GetDevice(ctx, id, now)
}

func (s *Split) ListDevices(ctx context.Context, userID string, now time.Time) ([]Device, error) {
	return s.Devices.ListDevices(ctx, userID, now)
}

func (s *Split) DeleteDevice(ctx context.Context, userID, id string) error {
	return s.Devices.DeleteDevice(ctx, userID, id)
}

func (s *Split) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	return s.Devices.DeleteUserDevices(ctx, userID)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Sweep implements [Sweeper]: it sweeps each distinct backend of the split
// that is itself a Sweeper, and returns the total removed.
func (s *Split) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	var seen []Sweeper
	for _, part := range []any{s.Factors, s.Limits, s.Challenges, s.Marks, s.Sessions, s.Devices} {
		sw, ok := part.(Sweeper)
		if !ok || sweptAlready(seen, sw) {
			continue
		}
		seen = append(seen, sw)
		n, err := sw.Sweep(ctx, now)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// sweptAlready reports whether sw is among seen; backends that are not
// comparable values are never taken as the same.
func sweptAlready(seen []Sweeper, sw Sweeper) bool {
	if !reflect.TypeOf(sw).Comparable() {
		return false
	}
	for _, x := range seen {
		if reflect.TypeOf(x) == reflect.TypeOf(sw) && x == sw {
			return true
		}
	}
	return false
}
