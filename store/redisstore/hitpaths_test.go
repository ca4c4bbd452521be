package redisstore_test

import (
	"context"
	"errors"
	mathrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/redisstore"
)

// TestHitPaths drives both paths of the hit script against memstore (which
// calls store.Rule directly): the lean one, taken when every counter of the
// request is missing (after a success, which deletes the user's and the
// factor's counters, or a Reset), and the general one, taken when some
// counter is stored (counting, delayed, locked, or expired by the caller's
// clock while Redis still holds it) or a key is named twice. A random
// sequence of hits (loading the factor or not), advances (which reset and
// forgive), resets, forgives and clock moves runs on a single Redis and on
// a two-shard Ring (where a request naming the IP decides in a peek step
// first); after every step the decision, the factor loaded and every
// counter's state must be memstore's, and a counter must carry a Redis TTL
// exactly when it has an expiry. Both paths must have run many times.
func TestHitPaths(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		s, c, p := newStore(t)
		hitPaths(t, s, c, p)
	})
	t.Run("ring", func(t *testing.T) {
		t.Parallel()
		ring, dbs := newRing(t, opt)
		p := prefix(t, dbs...)
		s, err := redisstore.New(ring, redisstore.Options{Prefix: p})
		if err != nil {
			t.Fatal(err)
		}
		hitPaths(t, s, ring, p)
	})
}

func hitPaths(t *testing.T, rs *redisstore.Store, c redis.UniversalClient, p string) {
	ctx := context.Background()
	ms := memstore.New()
	rng := mathrand.New(mathrand.NewPCG(3, 4))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := store.Factor{UserID: "u1", ID: "f1", Kind: "totp", Name: "Phone", Status: store.StatusActive,
		Secret: []byte("sealed seed"), Counter: 7, Created: now, Confirmed: now}
	for _, s := range []store.Factors{rs, ms} {
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	user := store.CounterKey{Scope: store.ScopeUser, UserID: "u1"}
	fac := store.CounterKey{Scope: store.ScopeFactor, UserID: "u1", FactorID: "f1"}
	ip := store.CounterKey{Scope: store.ScopeIP, IP: "ip1"}
	keys := []store.CounterKey{user, fac, ip, {Scope: store.ScopeUser, UserID: "u2"}}
	// rawKey is the Redis key of a counter, as the package documents it
	// (these IDs hold no character that is escaped but the ':' of
	// CounterKey.String).
	rawKey := func(k store.CounterKey) string {
		tag := "{u:" + k.UserID + "}"
		if k.UserID == "" {
			tag = "{ip:" + k.IP + "}"
		}
		return p + tag + ":c:" + strings.ReplaceAll(k.String(), ":", "%3A")
	}
	rules := []store.Rule{
		{},
		{Free: 1, Base: time.Second, Max: time.Minute},            // the first failure delays
		{Free: 1, Base: time.Minute, Max: 10 * time.Second},       // ... by Max, below Base
		{Free: 1, Base: time.Second, TTL: 5 * time.Minute},        // ... and expires
		{Free: 2, Base: 30 * time.Second, Max: time.Hour, Cap: 3}, // locks soon
		{Free: 5, Base: 30 * time.Second, Max: time.Hour, TTL: 24 * time.Hour},
		{Free: 3, Base: time.Second, TTL: time.Minute}, // expires by the clock before Redis drops it
		{Cap: 2},
	}
	counter := func() store.Counter {
		return store.Counter{Key: keys[rng.IntN(len(keys))], Rule: rules[rng.IntN(len(rules))]}
	}
	var lean, general, leanLoads, dupMissing int
	for step := range 2500 {
		now = now.Add(time.Duration(rng.IntN(40_000)) * time.Millisecond)
		switch op := rng.IntN(20); {
		case op < 3: // a Reset of every counter, as a success leaves them
			for _, s := range []store.Counters{rs, ms} {
				if err := s.Reset(ctx, keys...); err != nil {
					t.Fatal(err)
				}
			}
		case op < 6: // the commit of a success, or a lost race
			cur, err := ms.GetFactor(ctx, f.UserID, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			from := cur.Counter
			if rng.IntN(4) == 0 {
				from-- // a replay: conflicts, and resets nothing
			}
			req := store.Advance{UserID: f.UserID, FactorID: f.ID, From: from, To: cur.Counter + 1, Now: now,
				Reset: []store.CounterKey{user, fac}, Forgive: []store.Counter{{Key: ip, Rule: rules[rng.IntN(len(rules))]}}}
			if rng.IntN(3) == 0 {
				req.Data = []byte{byte(step)}
			}
			errR, errM := rs.Advance(ctx, req), ms.Advance(ctx, req)
			if errors.Is(errR, store.ErrConflict) != errors.Is(errM, store.ErrConflict) || (errR == nil) != (errM == nil) {
				t.Fatalf("step %d: advance: redis %v, memstore %v", step, errR, errM)
			}
		case op < 7:
			cs := []store.Counter{counter()}
			for _, s := range []store.Counters{rs, ms} {
				if err := s.Forgive(ctx, now, cs...); err != nil {
					t.Fatal(err)
				}
			}
		default:
			var cs []store.Counter
			for range 1 + rng.IntN(3) {
				cs = append(cs, counter())
			}
			if rng.IntN(8) == 0 {
				cs = append(cs, store.Counter{Key: cs[0].Key, Rule: rules[rng.IntN(len(rules))]})
			}
			req := store.HitRequest{Now: now, Counters: cs}
			if rng.IntN(2) == 0 {
				req.Load = store.FactorRef{UserID: f.UserID, ID: f.ID}
			}
			// Which path the script takes: the lean one when no counter
			// exists and none is named twice.
			missing, seen := true, map[store.CounterKey]bool{}
			for _, c2 := range cs {
				n, err := c.Exists(ctx, rawKey(c2.Key)).Result()
				if err != nil {
					t.Fatal(err)
				}
				missing = missing && n == 0
				seen[c2.Key] = true
			}
			switch {
			case missing && len(seen) == len(cs):
				lean++
				if req.Load.ID != "" {
					leanLoads++
				}
			case missing:
				dupMissing++
				general++
			default:
				general++
			}
			got, err := rs.Hit(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ms.Hit(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Admitted != want.Admitted || got.Locked != want.Locked || !got.RetryAfter.Equal(want.RetryAfter) ||
				got.Found != want.Found || !sameFactor(got.Factor, want.Factor) {
				t.Fatalf("step %d, %+v (lean %v): redis %+v, memstore %+v", step, cs, missing, got, want)
			}
		}
		for i, g := range sameCounters(t, rs, ms, keys, step) {
			k := keys[i]
			ttl, err := c.PTTL(ctx, rawKey(k)).Result()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case ttl == -2: // missing: memstore's zero state, checked above
			case g.Expires.IsZero() && ttl != -1:
				t.Fatalf("step %d: counter %s without expiry has Redis TTL %v", step, k, ttl)
			case !g.Expires.IsZero() && ttl <= 0:
				t.Fatalf("step %d: counter %s expiring at %v has no Redis TTL (%v)", step, k, g.Expires, ttl)
			}
		}
	}
	t.Logf("hits on the lean path %d (%d loading the factor), on the general path %d (%d with every counter missing but one named twice)",
		lean, leanLoads, general, dupMissing)
	if lean < 100 || leanLoads < 50 || general < 300 || dupMissing < 20 {
		t.Errorf("paths not covered enough: lean %d (loading %d), general %d (missing, named twice: %d)", lean, leanLoads, general, dupMissing)
	}
}

// sameFactor compares two factors, their times as instants.
func sameFactor(a, b store.Factor) bool {
	return a.UserID == b.UserID && a.ID == b.ID && a.Kind == b.Kind && a.Name == b.Name &&
		a.Status == b.Status && a.Lookup == b.Lookup && string(a.Secret) == string(b.Secret) &&
		string(a.Data) == string(b.Data) && a.Counter == b.Counter && a.Created.Equal(b.Created) &&
		a.Confirmed.Equal(b.Confirmed) && a.LastUsed.Equal(b.LastUsed) &&
		(a.Secret == nil) == (b.Secret == nil) && (a.Data == nil) == (b.Data == nil)
}

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
	// A counter hash with a field that is not a number: read as zero, it
	// would admit an attempt its real state blocks. The other counter of
	// the request is missing, and must stay so.
	other := store.CounterKey{Scope: store.ScopeFactor, UserID: "u3", FactorID: "f3"}
	for _, field := range []string{"n", "u", "e"} {
		bad := store.CounterKey{Scope: store.ScopeUser, UserID: "u3"}
		key := p + "{u:u3}:c:" + strings.ReplaceAll(bad.String(), ":", "%3A")
		if err := c.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.HSet(ctx, key, "n", "9", field, "x").Err(); err != nil {
			t.Fatal(err)
		}
		res, err = s.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{{Key: bad, Rule: rule}, {Key: other, Rule: rule}}})
		if err == nil || res.Admitted {
			t.Errorf("hit on a counter whose %q is not a number: %+v, %v; want an error", field, res, err)
		}
		if n, err := c.Exists(ctx, p+"{u:u3}:c:"+strings.ReplaceAll(other.String(), ":", "%3A")).Result(); err != nil || n != 0 {
			t.Errorf("the other counter was written (%d, %v)", n, err)
		}
		if got, err := c.HGet(ctx, key, "n").Result(); err != nil || (field != "n" && got != "9") {
			t.Errorf("the bad counter changed: n %q, %v", got, err)
		}
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
