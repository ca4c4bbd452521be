package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/redisstore"
)

// TestVerifyPathFailsClosed checks that a reply the verification path does
// not expect is an error, never an admission or a factor: a factor key
// that holds another type (its counters missing), and a counter key that
// does.
func TestVerifyPathFailsClosed(t *testing.T) {
	t.Parallel()
	s, c, p := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{UserID: "u1", ID: "f1", Kind: "totp", Status: store.StatusActive, Counter: 1, Created: now}
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	user := store.CounterKey{Scope: store.ScopeUser, UserID: "u1"}
	rule := store.Rule{Free: 5, Base: time.Second}
	// A factor key holding a string, its counters missing.
	if err := c.Set(ctx, p+"{u:u2}:f:f2", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := s.Hit(ctx, store.HitRequest{Now: now, Load: store.FactorRef{UserID: "u2", ID: "f2"},
		Counters: []store.Counter{{Key: store.CounterKey{Scope: store.ScopeUser, UserID: "u2"}, Rule: rule}}})
	if err == nil || res.Admitted || res.Found {
		t.Errorf("hit loading a factor key of another type: %+v, %v; want an error", res, err)
	}
	if _, err := s.GetFactor(ctx, "u2", "f2"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("get factor of another type: %v; want an error other than not found", err)
	}
	if err := s.Advance(ctx, store.Advance{UserID: "u2", FactorID: "f2", From: 0, To: 1, Now: now}); err == nil {
		t.Error("advance on a factor key of another type succeeded")
	}
	// A counter key holding a string.
	if err := c.Set(ctx, p+"{u:u1}:c:"+strings.ReplaceAll(user.String(), ":", "%3A"), "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err = s.Hit(ctx, store.HitRequest{Now: now, Load: store.FactorRef{UserID: "u1", ID: "f1"},
		Counters: []store.Counter{{Key: user, Rule: rule}}})
	if err == nil || res.Admitted || res.Found {
		t.Errorf("hit on a counter key of another type: %+v, %v; want an error", res, err)
	}
}

// TestScriptCacheLost flushes Redis's script cache (as a restart or SCRIPT
// FLUSH does) before each call of the verification path, on a single Redis
// and on a Ring, where a Hit naming the IP runs its scripts in pipelines:
// the store sends the scripts in full and each call counts once. It does
// not run in parallel with the package's other tests; others that lose
// their scripts to the flush send them again too.
func TestScriptCacheLost(t *testing.T) {
	opt := redisOptions(t)
	single, c, _ := newStore(t)
	ring, dbs := newRing(t, opt)
	p := prefix(t, dbs...)
	sharded, err := redisstore.New(ring, redisstore.Options{Prefix: p})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, s := range map[string]*redisstore.Store{"single": single, "ring": sharded} {
		f := store.Factor{UserID: "u1", ID: "f1", Kind: "totp", Status: store.StatusActive, Counter: 1, Created: now}
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
		user := store.CounterKey{Scope: store.ScopeUser, UserID: "u1"}
		ip := store.CounterKey{Scope: store.ScopeIP, IP: "ip1"}
		cs := []store.Counter{{Key: user, Rule: store.Rule{Free: 5}}, {Key: ip, Rule: store.Rule{Free: 5, TTL: time.Hour}}}
		flush := func() {
			if err := c.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 2 { // the lean path, then the general one
			flush()
			res, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: cs, Load: store.FactorRef{UserID: "u1", ID: "f1"}})
			if err != nil || !res.Admitted || !res.Found || res.Factor.Counter != 1 {
				t.Fatalf("%s: hit %d after a flush: %+v, %v", name, i, res, err)
			}
			for _, k := range []store.CounterKey{user, ip} {
				st, err := s.CounterState(ctx, k)
				if err != nil || st.Failures != i+1 {
					t.Fatalf("%s: %s after hit %d: %+v, %v; want %d failures (counted once)", name, k, i, st, err, i+1)
				}
			}
		}
		flush()
		if err := s.Advance(ctx, store.Advance{UserID: "u1", FactorID: "f1", From: 1, To: 2, Now: now,
			Reset: []store.CounterKey{user}, Forgive: []store.Counter{cs[1]}}); err != nil {
			t.Fatalf("%s: advance after a flush: %v", name, err)
		}
		st, err := s.CounterState(ctx, ip)
		if err != nil || st.Failures != 1 {
			t.Fatalf("%s: IP counter after advance: %+v, %v; want 1 failure", name, st, err)
		}
		if g, err := s.GetFactor(ctx, "u1", "f1"); err != nil || g.Counter != 2 {
			t.Fatalf("%s: factor after advance: %+v, %v", name, g, err)
		}
	}
}
