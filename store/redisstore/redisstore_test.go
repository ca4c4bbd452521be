package redisstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/store/storetest"
)

// envURL names the Redis the tests use, e.g. redis://127.0.0.1:6379/0.
const envURL = "MFA_TEST_REDIS_URL"

// redisOptions parses MFA_TEST_REDIS_URL; the test is skipped when it is
// unset.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		const msg = envURL + " is not set; set it to a Redis URL (e.g. redis://127.0.0.1:6379/0) to run the Redis tests"
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
	return opt
}

// newClient connects to the test Redis. A set but unreachable server fails
// the test: a configured backend must not be skipped silently.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(redisOptions(t))
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s is set but Redis is unreachable: %v", envURL, err)
	}
	return c
}

// prefix returns a key prefix unique to this run and test, and deletes
// every key under it from each client when the test ends.
func prefix(t testing.TB, clients ...*redis.Client) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	p := "mfatest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		for _, c := range clients {
			deleteKeys(t, c, p)
		}
	})
	return p
}

// deleteKeys removes every key that starts with p.
func deleteKeys(t testing.TB, c *redis.Client, p string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, p+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: scan: %v", err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("cleanup: del: %v", err)
			return
		}
		keys = keys[n:]
	}
}

// newStore returns a Store on the test Redis under a fresh prefix.
func newStore(t testing.TB) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	c := newClient(t)
	p := prefix(t, c)
	s, err := redisstore.New(c, redisstore.Options{Prefix: p})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, p
}

func TestStore(t *testing.T) {
	t.Parallel()
	redisOptions(t) // skip the whole suite at once when unset
	storetest.Run(t, func(t *testing.T) any {
		s, _, _ := newStore(t)
		return s
	})
}

// split is what an application holding the split the package docs
// recommend has: factors and devices in SQL (SQLite here), the rest in
// Redis, and a job that sweeps both.
type split struct {
	*store.Split
	store.Sessions
	store.Devices
	sweepers []store.Sweeper
}

func (s split) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, sw := range s.sweepers {
		n, err := sw.Sweep(ctx, now)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// TestSplit runs the suite on the split the package docs recommend.
func TestSplit(t *testing.T) {
	t.Parallel()
	redisOptions(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "mfa.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sqls, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqls.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) any {
		rds, _, _ := newStore(t)
		return split{
			Split:    &store.Split{Factors: sqls, Counters: rds, Challenges: rds},
			Sessions: rds,
			Devices:  sqls,
			sweepers: []store.Sweeper{sqls, rds},
		}
	})
}

// TestStoreSharded runs the suite on a two-shard Ring whose shards are two
// databases of the test Redis. A script that named keys of two hash slots
// would find half of them missing, so this checks that every operation
// keeps its keys in one slot, and runs the sharded code paths (IP counters
// in a second script, lookups claimed apart, index entries written first).
func TestStoreSharded(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	ring, dbs := newRing(t, opt)
	spread := make([]int, len(dbs)) // keys seen per shard, before cleanup
	storetest.Run(t, func(t *testing.T) any {
		p := prefix(t, dbs...)
		t.Cleanup(func() { // runs before prefix's cleanup
			for i, c := range dbs {
				n, err := c.Keys(context.Background(), p+"*").Result()
				if err != nil {
					t.Error(err)
				}
				spread[i] += len(n)
			}
		})
		s, err := redisstore.New(ring, redisstore.Options{Prefix: p})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	t.Logf("keys per shard: %v", spread)
	for i, n := range spread {
		if n == 0 {
			t.Errorf("shard %d got no keys (%v): the test did not shard", i, spread)
		}
	}
}

// newRing builds a Ring of two shards on one server: database N and N+1,
// told apart by the address spelling. It returns plain clients on both
// databases for cleanup.
func newRing(t *testing.T, opt *redis.Options) (*redis.Ring, []*redis.Client) {
	t.Helper()
	host, port, ok := strings.Cut(opt.Addr, ":")
	if !ok || (host != "127.0.0.1" && host != "localhost") {
		t.Skipf("sharded test needs %s on 127.0.0.1 or localhost, got %s", envURL, opt.Addr)
	}
	a, b := "127.0.0.1:"+port, "localhost:"+port
	db := map[string]int{a: opt.DB, b: (opt.DB + 1) % 16}
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:    map[string]string{"a": a, "b": b},
		Username: opt.Username,
		Password: opt.Password,
		NewClient: func(o *redis.Options) *redis.Client {
			o.DB = db[o.Addr]
			return redis.NewClient(o)
		},
	})
	t.Cleanup(func() { ring.Close() })
	var dbs []*redis.Client
	for addr, n := range db {
		o := *opt
		o.Addr, o.DB = addr, n
		c := redis.NewClient(&o)
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("%s is set but Redis is unreachable at %s: %v", envURL, addr, err)
		}
		dbs = append(dbs, c)
	}
	return ring, dbs
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer c.Close()
	for _, p := range []string{"a{b:", "x}"} {
		if _, err := redisstore.New(c, redisstore.Options{Prefix: p}); err == nil {
			t.Errorf("New with prefix %q succeeded", p)
		}
	}
	if _, err := redisstore.New(c, redisstore.Options{}); err != nil {
		t.Errorf("New with the default prefix: %v", err)
	}
}

// TestKeyLayout checks the documented layout: a user's factors and
// counters share one hash tag, an IP counter has its own, and IDs that
// contain the characters of the layout cannot leave their tag.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	s, c, p := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	user, fid, ip := "al}ce:{x}%", "f:1}", "10.0.0.1}"
	f := store.Factor{UserID: user, ID: fid, Kind: "webauthn", Status: store.StatusActive, Lookup: "cred}", Created: now}
	if err := s.CreateFactor(ctx, f); err != nil {
		t.Fatal(err)
	}
	_, err := s.Hit(ctx, store.HitRequest{Now: now, Load: store.FactorRef{UserID: user, ID: fid}, Counters: []store.Counter{
		{Key: store.CounterKey{Scope: store.ScopeUser, UserID: user}},
		{Key: store.CounterKey{Scope: store.ScopeFactor, UserID: user, FactorID: fid}},
		{Key: store.CounterKey{Scope: store.ScopeIP, IP: ip}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]int{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, p)
		if strings.Count(rest, "{") != 1 || strings.Count(rest, "}") != 1 || rest[0] != '{' {
			t.Errorf("key %q: want exactly one hash tag right after the prefix", k)
			continue
		}
		tags[rest[1:strings.IndexByte(rest, '}')]]++
	}
	want := map[string]int{
		"u:al%7Dce%3A%7Bx%7D%25": 4, // factor, factor index, user and factor counters
		"ip:10.0.0.1%7D":         1,
		"l:webauthn:cred%7D":     1,
	}
	if len(tags) != len(want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	for tag, n := range want {
		if tags[tag] != n {
			t.Errorf("tag %q holds %d keys, want %d (all tags: %v)", tag, tags[tag], n, tags)
		}
	}
}

// TestExpiryBackstop checks that Redis itself drops short-lived records
// after their expiry plus a margin, and that records which never expire
// carry no TTL.
func TestExpiryBackstop(t *testing.T) {
	t.Parallel()
	s, c, p := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.PutChallenge(ctx, store.Challenge{ID: "c1", Kind: "email", Created: now, Expires: now.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	user := store.CounterKey{Scope: store.ScopeUser, UserID: "u"}
	ip := store.CounterKey{Scope: store.ScopeIP, IP: "ip"}
	if _, err := s.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{
		{Key: user, Rule: store.Rule{Cap: 100}},
		{Key: ip, Rule: store.Rule{TTL: time.Hour}},
	}}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	ttl := map[string]time.Duration{}
	for _, k := range keys {
		d, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl[strings.TrimPrefix(k, p)] = d
	}
	within := func(name string, d, lo, hi time.Duration) {
		t.Helper()
		if d < lo || d > hi {
			t.Errorf("%s: TTL %v, want between %v and %v (all: %v)", name, d, lo, hi, ttl)
		}
	}
	for k, d := range ttl {
		switch {
		case strings.HasPrefix(k, "{ch:c1}"):
			within(k, d, 5*time.Minute, 5*time.Minute+time.Hour)
		case strings.HasPrefix(k, "{ip:ip}"):
			within(k, d, time.Hour, 2*time.Hour)
		case strings.HasPrefix(k, "{u:u}"):
			if d >= 0 {
				t.Errorf("%s: TTL %v, want none (never expires)", k, d)
			}
		default:
			t.Errorf("unexpected key %s", k)
		}
	}
	if len(ttl) != 3 {
		t.Errorf("keys = %v, want 3", ttl)
	}
}

// TestHitMatchesMemstore drives the Lua implementation of the counter
// rules and memstore (which calls store.Rule directly) through the same
// random sequence of hits, resets and clock moves, and requires the same
// decision and the same stored state after every step: delays, caps,
// TTLs, expiry and counters named twice in one request.
func TestHitMatchesMemstore(t *testing.T) {
	t.Parallel()
	rs, _, _ := newStore(t)
	ms := memstore.New()
	ctx := context.Background()
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	keys := []store.CounterKey{
		{Scope: store.ScopeUser, UserID: "u1"},
		{Scope: store.ScopeFactor, UserID: "u1", FactorID: "f1"},
		{Scope: store.ScopeIP, IP: "ip1"},
		{Scope: store.ScopeUser, UserID: "u2"},
	}
	rules := []store.Rule{
		{},
		{Free: 1, Base: time.Second, Max: time.Minute},
		{Free: 3, Base: 30 * time.Second, Max: time.Hour, Cap: 10},
		{Free: 2, Base: time.Second, TTL: 5 * time.Minute},
		{Free: 5, Base: 30 * time.Second, Max: time.Hour, TTL: 24 * time.Hour},
		{Free: 1, Base: time.Millisecond, Cap: 4, TTL: time.Minute},
		{Free: 1, Base: time.Hour}, // no Max: doubling saturates
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for step := range 3000 {
		now = now.Add(time.Duration(rng.IntN(90_000)) * time.Millisecond)
		if rng.IntN(40) == 0 {
			k := keys[rng.IntN(len(keys))]
			if err := rs.Reset(ctx, k); err != nil {
				t.Fatal(err)
			}
			if err := ms.Reset(ctx, k); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var cs []store.Counter
		for range 1 + rng.IntN(4) {
			cs = append(cs, store.Counter{Key: keys[rng.IntN(len(keys))], Rule: rules[rng.IntN(len(rules))]})
		}
		req := store.HitRequest{Now: now, Counters: cs}
		got, err := rs.Hit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ms.Hit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Admitted != want.Admitted || got.Locked != want.Locked || !got.RetryAfter.Equal(want.RetryAfter) {
			t.Fatalf("step %d, %+v: redis %+v, memstore %+v", step, cs, got, want)
		}
		sameCounters(t, rs, ms, keys, step)
	}
}

// sameCounters fails unless every counter of keys has the same state in
// the Redis store and in memstore, after the given step.
func sameCounters(t *testing.T, rs, ms store.Counters, keys []store.CounterKey, step int) []store.CounterState {
	t.Helper()
	ctx := context.Background()
	states := make([]store.CounterState, len(keys))
	for i, k := range keys {
		g, err := rs.CounterState(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		w, err := ms.CounterState(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if g.Failures != w.Failures || !g.Until.Equal(w.Until) || !g.Expires.Equal(w.Expires) {
			t.Fatalf("step %d: counter %s: redis %+v, memstore %+v", step, k, g, w)
		}
		states[i] = g
	}
	return states
}
