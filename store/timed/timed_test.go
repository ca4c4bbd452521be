package timed_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	mfarecovery "github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/storetest"
	"github.com/mfakit/mfa/store/timed"
)

// recorder keeps every call it observes.
type recorder struct {
	mu    sync.Mutex
	calls []timed.Call
}

func (r *recorder) ObserveStoreCall(_ context.Context, c timed.Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

func (r *recorder) ops() map[timed.Op]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[timed.Op]int{}
	for _, c := range r.calls {
		m[c.Op]++
	}
	return m
}

func newTimer(t testing.TB, o timed.Observer) *timed.Timer {
	t.Helper()
	tm, err := timed.New(timed.Config{Observer: o})
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestNewRequiresObserver(t *testing.T) {
	tm, err := timed.New(timed.Config{})
	if !errors.Is(err, timed.ErrConfig) || tm != nil {
		t.Fatalf("New(zero Config) = %v, %v; want nil and ErrConfig", tm, err)
	}
}

// The wrapped memstore keeps the whole store contract: each constructor's
// result passes the conformance suite for the concerns it keeps, and
// together they cover every group of it. Each run must also have reported
// the calls it made, or the wrapper would be a no-op.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		wrap func(*timed.Timer, *memstore.Store) any
		want []timed.Op // reported at least once
	}{
		{"ForVerifier", func(tm *timed.Timer, s *memstore.Store) any { return tm.ForVerifier(s) },
			[]timed.Op{timed.OpHit, timed.OpAdvance, timed.OpTakeChallenge, timed.OpScanFactors, timed.OpSwapSecret, timed.OpSweep}},
		{"ForSessions", func(tm *timed.Timer, s *memstore.Store) any { return tm.ForSessions(s) },
			[]timed.Op{timed.OpRotateRefresh, timed.OpCreateDevice, timed.OpSweep}},
		{"ForRecovery", func(tm *timed.Timer, s *memstore.Store) any { return tm.ForRecovery(s) },
			[]timed.Op{timed.OpMoveCase, timed.OpHit}},
		{"Factors", func(tm *timed.Timer, s *memstore.Store) any { return tm.Factors(s) }, []timed.Op{timed.OpAdvance}},
		{"Counters", func(tm *timed.Timer, s *memstore.Store) any { return tm.Counters(s) }, []timed.Op{timed.OpHit}},
		{"Challenges", func(tm *timed.Timer, s *memstore.Store) any { return tm.Challenges(s) }, []timed.Op{timed.OpTakeChallenge}},
		{"Sessions", func(tm *timed.Timer, s *memstore.Store) any { return tm.Sessions(s) }, []timed.Op{timed.OpRotateRefresh}},
		{"Devices", func(tm *timed.Timer, s *memstore.Store) any { return tm.Devices(s) }, []timed.Op{timed.OpGetDevice}},
		{"Recovery", func(tm *timed.Timer, s *memstore.Store) any { return tm.Recovery(s) }, []timed.Op{timed.OpMoveCase}},
		{"Split", func(tm *timed.Timer, s *memstore.Store) any {
			return store.Split{Factors: tm.Factors(s), Counters: tm.Counters(s), Challenges: tm.Challenges(s)}
		}, []timed.Op{timed.OpHit, timed.OpGetFactor, timed.OpAdvance, timed.OpReset}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			tm := newTimer(t, rec)
			storetest.Run(t, func(*testing.T) any { return c.wrap(tm, memstore.New()) })
			got := rec.ops()
			for _, op := range c.want {
				if got[op] == 0 {
					t.Errorf("no %s call was reported; reported: %v", op, got)
				}
			}
		})
	}
}

// lacks is a backend with only what a Verifier needs: no Resealable, no
// Sweeper, no Signals.
type lacks struct{ timed.VerifierStore }

// Each constructor's result implements exactly the concerns it documents:
// the optional ones if and only if the backend has them.
func TestConcerns(t *testing.T) {
	tm := newTimer(t, timed.ObserverFunc(func(context.Context, timed.Call) {}))
	mem := memstore.New()
	concerns := map[string]func(any) bool{
		"Factors":    is[store.Factors],
		"Counters":   is[store.Counters],
		"Challenges": is[store.Challenges],
		"Sessions":   is[store.Sessions],
		"Devices":    is[store.Devices],
		"Recovery":   is[store.Recovery],
		"Signals":    is[store.Signals],
		"Resealable": is[store.Resealable],
		"Sweeper":    is[store.Sweeper],
	}
	cases := []struct {
		name string
		v    any
		want []string
	}{
		{"memstore itself", mem, []string{"Challenges", "Counters", "Devices", "Factors", "Recovery", "Resealable", "Sessions", "Signals", "Sweeper"}},
		{"ForVerifier(memstore)", tm.ForVerifier(mem), []string{"Challenges", "Counters", "Factors", "Resealable", "Sweeper"}},
		{"ForVerifier(verifier only)", tm.ForVerifier(lacks{mem}), []string{"Challenges", "Counters", "Factors"}},
		{"ForVerifier(Split)", tm.ForVerifier(store.Split{Factors: mem, Counters: mem, Challenges: mem}), []string{"Challenges", "Counters", "Factors"}},
		{"ForVerifier(Resealable only)", tm.ForVerifier(struct {
			timed.VerifierStore
			store.Resealable
		}{mem, mem}), []string{"Challenges", "Counters", "Factors", "Resealable"}},
		{"ForVerifier(Sweeper only)", tm.ForVerifier(struct {
			timed.VerifierStore
			store.Sweeper
		}{mem, mem}), []string{"Challenges", "Counters", "Factors", "Sweeper"}},
		{"ForSessions(memstore)", tm.ForSessions(mem), []string{"Devices", "Sessions", "Sweeper"}},
		{"ForSessions(no Sweeper)", tm.ForSessions(struct{ timed.SessionStore }{mem}), []string{"Devices", "Sessions"}},
		{"ForRecovery(memstore)", tm.ForRecovery(mem), []string{"Counters", "Recovery", "Sweeper"}},
		{"ForRecovery(no Sweeper)", tm.ForRecovery(struct{ timed.RecoveryStore }{mem}), []string{"Counters", "Recovery"}},
		{"Factors", tm.Factors(mem), []string{"Factors"}},
		{"Counters", tm.Counters(mem), []string{"Counters"}},
		{"Challenges", tm.Challenges(mem), []string{"Challenges"}},
		{"Sessions", tm.Sessions(mem), []string{"Sessions"}},
		{"Devices", tm.Devices(mem), []string{"Devices"}},
		{"Recovery", tm.Recovery(mem), []string{"Recovery"}},
		{"Signals", tm.Signals(mem), []string{"Signals"}},
		{"Sweeper", tm.Sweeper(mem), []string{"Sweeper"}},
	}
	for _, c := range cases {
		var got []string
		for name, has := range concerns {
			if has(c.v) {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s implements %v, want %v", c.name, got, c.want)
		}
	}
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

// Every method of every wrapper reports exactly one call, under its own
// name, and together they report every Op.
func TestEveryMethodReportsItsOp(t *testing.T) {
	rec := &recorder{}
	tm := newTimer(t, rec)
	mem := memstore.New()
	seen := map[timed.Op]bool{}
	for _, w := range []any{tm.ForVerifier(mem), tm.ForSessions(mem), tm.ForRecovery(mem), tm.Signals(mem)} {
		v := reflect.ValueOf(w)
		for i := range v.NumMethod() {
			name := v.Type().Method(i).Name
			m := v.Method(i)
			in := []reflect.Value{reflect.ValueOf(context.Background())}
			for j := 1; j < m.Type().NumIn(); j++ {
				if m.Type().IsVariadic() && j == m.Type().NumIn()-1 {
					break
				}
				in = append(in, reflect.Zero(m.Type().In(j)))
			}
			rec.calls = nil
			m.Call(in)
			if len(rec.calls) != 1 || string(rec.calls[0].Op) != name {
				t.Errorf("%T.%s reported %+v, want one call of op %s", w, name, rec.calls, name)
				continue
			}
			seen[rec.calls[0].Op] = true
		}
	}
	for _, op := range timed.Ops() {
		if !seen[op] {
			t.Errorf("no method reports %s", op)
		}
	}
	if len(seen) != len(timed.Ops()) {
		t.Errorf("methods report %d ops, Ops lists %d", len(seen), len(timed.Ops()))
	}
}

// challengeStub answers TakeChallenge with a fixed error.
type challengeStub struct{ err error }

func (c challengeStub) PutChallenge(context.Context, store.Challenge) error { return c.err }
func (c challengeStub) TakeChallenge(context.Context, string, time.Time) (store.Challenge, error) {
	return store.Challenge{ID: "c"}, c.err
}

// The outcome comes from the store sentinel the error wraps, the duration
// from the injected clock, and the backend's result and error reach the
// caller unchanged.
func TestOutcomeAndDuration(t *testing.T) {
	other := errors.New("connection reset")
	cases := []struct {
		err  error
		want timed.Outcome
	}{
		{nil, timed.OK},
		{fmt.Errorf("take c-1: %w", store.ErrNotFound), timed.NotFound},
		{store.ErrConflict, timed.Conflict},
		{fmt.Errorf("x: %w", store.ErrExists), timed.Exists},
		{store.ErrReused, timed.Reused},
		{store.ErrInvalid, timed.Invalid},
		{other, timed.Error},
		{context.DeadlineExceeded, timed.Error},
		{errors.Join(other, store.ErrNotFound), timed.NotFound},
	}
	for _, c := range cases {
		base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		tick := 0
		now := func() time.Time { tick++; return base.Add(time.Duration(tick) * 7 * time.Millisecond) }
		rec := &recorder{}
		tm, err := timed.New(timed.Config{Observer: rec, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := tm.Challenges(challengeStub{c.err}).TakeChallenge(context.Background(), "c", base)
		if err != c.err || ch.ID != "c" {
			t.Errorf("err %v: TakeChallenge returned %+v, %v; want the backend's result unchanged", c.err, ch, err)
		}
		want := timed.Call{Op: timed.OpTakeChallenge, Outcome: c.want, Duration: 7 * time.Millisecond}
		if len(rec.calls) != 1 || rec.calls[0] != want {
			t.Errorf("err %v: observed %+v, want %+v", c.err, rec.calls, want)
		}
		if got := timed.OutcomeOf(c.err); got != c.want {
			t.Errorf("OutcomeOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

// The wrapper adds no allocation to the verification path: Hit with Load
// and Advance with Reset cost the same through it as on memstore itself.
func TestAllocs(t *testing.T) {
	noop := timed.ObserverFunc(func(context.Context, timed.Call) {})
	bare := verifyAllocs(t, memstore.New(), func(s *memstore.Store) timed.VerifierStore { return s })
	tm := newTimer(t, noop)
	wrapped := verifyAllocs(t, memstore.New(), func(s *memstore.Store) timed.VerifierStore { return tm.ForVerifier(s) })
	if wrapped != bare {
		t.Errorf("Hit and Advance: %v allocations through the wrapper, %v without", wrapped, bare)
	}
}

func verifyAllocs(t *testing.T, mem *memstore.Store, wrap func(*memstore.Store) timed.VerifierStore) float64 {
	ctx := context.Background()
	s := wrap(mem)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.StatusActive, Secret: make([]byte, 40)}
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	rule := store.Rule{TTL: time.Hour}
	counters := []store.Counter{
		{Key: store.CounterKey{Scope: store.ScopeUser, UserID: "u"}, Rule: rule},
		{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: "u", FactorID: "f"}, Rule: rule},
	}
	reset := []store.CounterKey{counters[0].Key, counters[1].Key}
	req := store.HitRequest{Now: now, Counters: counters, Load: store.FactorRef{UserID: "u", ID: "f"}}
	var step int64
	return testing.AllocsPerRun(100, func() {
		res, err := s.Hit(ctx, req)
		if err != nil || !res.Admitted || !res.Found {
			t.Fatalf("Hit: %+v, %v", res, err)
		}
		if err := s.Advance(ctx, store.Advance{UserID: "u", FactorID: "f", From: step, To: step + 1, Now: now, Reset: reset}); err != nil {
			t.Fatalf("Advance: %v", err)
		}
		step++
	})
}

// The consumer interfaces have the method sets of the consumers' own Store
// types, so a wrapped value goes straight into their Configs and their
// Store values straight into the constructors.
var (
	_ mfa.Store           = timed.VerifierStore(nil)
	_ timed.VerifierStore = mfa.Store(nil)
	_ session.Store       = timed.SessionStore(nil)
	_ timed.SessionStore  = session.Store(nil)
	_ mfarecovery.Store   = timed.RecoveryStore(nil)
	_ timed.RecoveryStore = mfarecovery.Store(nil)
	_ timed.Observer      = timed.ObserverFunc(nil)
)
