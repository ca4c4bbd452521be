package timed

import (
	"context"
	"time"

	"github.com/mfakit/mfa/store"
)

// One wrapper per concern. Each keeps its backend as that concern's
// interface only, so the methods a wrapper has are those of its concern.

type factors struct {
	s store.Factors
	t *Timer
}

func (w *factors) CreateFactor(ctx context.Context, f store.Factor) error {
	start := w.t.now()
	err := w.s.CreateFactor(ctx, f)
	w.t.done(ctx, OpCreateFactor, start, err)
	return err
}

func (w *factors) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	start := w.t.now()
	f, err := w.s.GetFactor(ctx, userID, id)
	w.t.done(ctx, OpGetFactor, start, err)
	return f, err
}

func (w *factors) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	start := w.t.now()
	f, err := w.s.FindFactor(ctx, kind, lookup)
	w.t.done(ctx, OpFindFactor, start, err)
	return f, err
}

func (w *factors) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	start := w.t.now()
	fs, err := w.s.ListFactors(ctx, userID)
	w.t.done(ctx, OpListFactors, start, err)
	return fs, err
}

func (w *factors) UpdateFactor(ctx context.Context, f store.Factor) error {
	start := w.t.now()
	err := w.s.UpdateFactor(ctx, f)
	w.t.done(ctx, OpUpdateFactor, start, err)
	return err
}

func (w *factors) DeleteFactor(ctx context.Context, userID, id string) error {
	start := w.t.now()
	err := w.s.DeleteFactor(ctx, userID, id)
	w.t.done(ctx, OpDeleteFactor, start, err)
	return err
}

func (w *factors) DeletePendingFactor(ctx context.Context, userID, id string) error {
	start := w.t.now()
	err := w.s.DeletePendingFactor(ctx, userID, id)
	w.t.done(ctx, OpDeletePendingFactor, start, err)
	return err
}

func (w *factors) Advance(ctx context.Context, req store.Advance) error {
	start := w.t.now()
	err := w.s.Advance(ctx, req)
	w.t.done(ctx, OpAdvance, start, err)
	return err
}

type counters struct {
	s store.Counters
	t *Timer
}

func (w *counters) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	start := w.t.now()
	res, err := w.s.Hit(ctx, req)
	w.t.done(ctx, OpHit, start, err)
	return res, err
}

func (w *counters) Reset(ctx context.Context, keys ...store.CounterKey) error {
	start := w.t.now()
	err := w.s.Reset(ctx, keys...)
	w.t.done(ctx, OpReset, start, err)
	return err
}

func (w *counters) Forgive(ctx context.Context, now time.Time, cs ...store.Counter) error {
	start := w.t.now()
	err := w.s.Forgive(ctx, now, cs...)
	w.t.done(ctx, OpForgive, start, err)
	return err
}

func (w *counters) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	start := w.t.now()
	st, err := w.s.CounterState(ctx, key)
	w.t.done(ctx, OpCounterState, start, err)
	return st, err
}

type challenges struct {
	s store.Challenges
	t *Timer
}

func (w *challenges) PutChallenge(ctx context.Context, c store.Challenge) error {
	start := w.t.now()
	err := w.s.PutChallenge(ctx, c)
	w.t.done(ctx, OpPutChallenge, start, err)
	return err
}

func (w *challenges) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	start := w.t.now()
	c, err := w.s.TakeChallenge(ctx, id, now)
	w.t.done(ctx, OpTakeChallenge, start, err)
	return c, err
}

type sessions struct {
	s store.Sessions
	t *Timer
}

func (w *sessions) CreateSession(ctx context.Context, s store.Session) error {
	start := w.t.now()
	err := w.s.CreateSession(ctx, s)
	w.t.done(ctx, OpCreateSession, start, err)
	return err
}

func (w *sessions) GetSession(ctx context.Context, id string) (store.Session, error) {
	start := w.t.now()
	s, err := w.s.GetSession(ctx, id)
	w.t.done(ctx, OpGetSession, start, err)
	return s, err
}

func (w *sessions) RotateRefresh(ctx context.Context, req store.Rotate) (store.Session, error) {
	start := w.t.now()
	s, err := w.s.RotateRefresh(ctx, req)
	w.t.done(ctx, OpRotateRefresh, start, err)
	return s, err
}

func (w *sessions) RevokeSession(ctx context.Context, id string) error {
	start := w.t.now()
	err := w.s.RevokeSession(ctx, id)
	w.t.done(ctx, OpRevokeSession, start, err)
	return err
}

func (w *sessions) RevokeUserSessions(ctx context.Context, userID string) (int, error) {
	start := w.t.now()
	n, err := w.s.RevokeUserSessions(ctx, userID)
	w.t.done(ctx, OpRevokeUserSessions, start, err)
	return n, err
}

func (w *sessions) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	start := w.t.now()
	ss, err := w.s.ListSessions(ctx, userID)
	w.t.done(ctx, OpListSessions, start, err)
	return ss, err
}

type devices struct {
	s store.Devices
	t *Timer
}

func (w *devices) CreateDevice(ctx context.Context, d store.Device) error {
	start := w.t.now()
	err := w.s.CreateDevice(ctx, d)
	w.t.done(ctx, OpCreateDevice, start, err)
	return err
}

func (w *devices) GetDevice(ctx context.Context, id string, now time.Time) (store.Device, error) {
	start := w.t.now()
	d, err := w.s.GetDevice(ctx, id, now)
	w.t.done(ctx, OpGetDevice, start, err)
	return d, err
}

func (w *devices) ListDevices(ctx context.Context, userID string, now time.Time) ([]store.Device, error) {
	start := w.t.now()
	ds, err := w.s.ListDevices(ctx, userID, now)
	w.t.done(ctx, OpListDevices, start, err)
	return ds, err
}

func (w *devices) DeleteDevice(ctx context.Context, userID, id string) error {
	start := w.t.now()
	err := w.s.DeleteDevice(ctx, userID, id)
	w.t.done(ctx, OpDeleteDevice, start, err)
	return err
}

func (w *devices) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	start := w.t.now()
	n, err := w.s.DeleteUserDevices(ctx, userID)
	w.t.done(ctx, OpDeleteUserDevices, start, err)
	return n, err
}

type recovery struct {
	s store.Recovery
	t *Timer
}

func (w *recovery) CreateCase(ctx context.Context, c store.RecoveryCase) error {
	start := w.t.now()
	err := w.s.CreateCase(ctx, c)
	w.t.done(ctx, OpCreateCase, start, err)
	return err
}

func (w *recovery) GetCase(ctx context.Context, id string) (store.RecoveryCase, error) {
	start := w.t.now()
	c, err := w.s.GetCase(ctx, id)
	w.t.done(ctx, OpGetCase, start, err)
	return c, err
}

func (w *recovery) ListCases(ctx context.Context, userID string) ([]store.RecoveryCase, error) {
	start := w.t.now()
	cs, err := w.s.ListCases(ctx, userID)
	w.t.done(ctx, OpListCases, start, err)
	return cs, err
}

func (w *recovery) ListOpenCases(ctx context.Context, limit int) ([]store.RecoveryCase, error) {
	start := w.t.now()
	cs, err := w.s.ListOpenCases(ctx, limit)
	w.t.done(ctx, OpListOpenCases, start, err)
	return cs, err
}

func (w *recovery) MoveCase(ctx context.Context, m store.CaseMove) (store.RecoveryCase, error) {
	start := w.t.now()
	c, err := w.s.MoveCase(ctx, m)
	w.t.done(ctx, OpMoveCase, start, err)
	return c, err
}

type signals struct {
	s store.Signals
	t *Timer
}

func (w *signals) Observe(ctx context.Context, now time.Time, sightings ...store.Sighting) ([][]store.Signal, error) {
	start := w.t.now()
	lists, err := w.s.Observe(ctx, now, sightings...)
	w.t.done(ctx, OpObserve, start, err)
	return lists, err
}

type resealable struct {
	s store.Resealable
	t *Timer
}

func (w *resealable) ScanFactors(ctx context.Context, cursor string, limit int) ([]store.Factor, string, error) {
	start := w.t.now()
	page, next, err := w.s.ScanFactors(ctx, cursor, limit)
	w.t.done(ctx, OpScanFactors, start, err)
	return page, next, err
}

func (w *resealable) SwapSecret(ctx context.Context, ref store.FactorRef, old, new []byte) error {
	start := w.t.now()
	err := w.s.SwapSecret(ctx, ref, old, new)
	w.t.done(ctx, OpSwapSecret, start, err)
	return err
}

type sweeper struct {
	s store.Sweeper
	t *Timer
}

func (w *sweeper) Sweep(ctx context.Context, now time.Time) (int64, error) {
	start := w.t.now()
	n, err := w.s.Sweep(ctx, now)
	w.t.done(ctx, OpSweep, start, err)
	return n, err
}

// Factors returns s timed; the result is a [store.Factors] and nothing else.
func (t *Timer) Factors(s store.Factors) store.Factors { return &factors{s, t} }

// Counters returns s timed; the result is a [store.Counters] and nothing else.
func (t *Timer) Counters(s store.Counters) store.Counters { return &counters{s, t} }

// Challenges returns s timed; the result is a [store.Challenges] and
// nothing else.
func (t *Timer) Challenges(s store.Challenges) store.Challenges { return &challenges{s, t} }

// Sessions returns s timed; the result is a [store.Sessions] and nothing else.
func (t *Timer) Sessions(s store.Sessions) store.Sessions { return &sessions{s, t} }

// Devices returns s timed; the result is a [store.Devices] and nothing else.
func (t *Timer) Devices(s store.Devices) store.Devices { return &devices{s, t} }

// Recovery returns s timed; the result is a [store.Recovery] and nothing else.
func (t *Timer) Recovery(s store.Recovery) store.Recovery { return &recovery{s, t} }

// Signals returns s timed; the result is a [store.Signals] and nothing else.
func (t *Timer) Signals(s store.Signals) store.Signals { return &signals{s, t} }

// Sweeper returns s timed; the result is a [store.Sweeper] and nothing else.
func (t *Timer) Sweeper(s store.Sweeper) store.Sweeper { return &sweeper{s, t} }
