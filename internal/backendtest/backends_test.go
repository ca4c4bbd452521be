package backendtest_test

// Cross-backend checks of what the store contract promises the Verifier:
// how many store calls a verification costs, that nothing secret is
// readable at rest, and what a verification costs in time. Every backend
// of this module runs them: memstore and SQLite always, PostgreSQL, MySQL
// and Redis when MFA_TEST_POSTGRES_DSN, MFA_TEST_MYSQL_DSN and
// MFA_TEST_REDIS_URL are set (each skips, naming its variable, when not;
// a variable that is set but whose server cannot be reached fails).

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	otptotp "github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/totp"
)

const (
	envPostgres = "MFA_TEST_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	envMySQL    = "MFA_TEST_MYSQL_DSN"    // e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true
	envRedis    = "MFA_TEST_REDIS_URL"    // e.g. redis://127.0.0.1:6379/0
)

// blob is one value read back from a backend's storage, and where from.
type blob struct {
	where string
	data  []byte
}

// concerns is every concern of package store that each backend here keeps:
// what the Verifier needs (mfa.Store) and what the session package needs.
type concerns interface {
	mfa.Store
	store.Sessions
	store.Devices
}

// opened is a fresh, empty store of one backend.
type opened struct {
	concerns
	// dump returns everything the backend holds at rest: every row of
	// every table, the database files, every Redis key and value.
	// Backends with nothing at rest read the given users' records back
	// through the store.
	dump func(tb testing.TB, users []string) []blob
	// commands counts the commands sent to the server, when the backend's
	// driver can tell (Redis); nil otherwise.
	commands *atomic.Int64
	// wire counts round trips on the network, when the store was opened
	// through a counting proxy; nil otherwise.
	wire wireCount
	// spec lets another OS process open the same store (see reopen);
	// zero for a backend in process memory.
	spec spec
}

// wireCount is a count of round trips on the network.
type wireCount interface {
	// Take returns the round trips since the last Take.
	Take() int64
}

type backend struct {
	name string
	open func(tb testing.TB) opened
}

var backends = []backend{
	{"memstore", openMemstore},
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
	{"mysql", openMySQL},
	{"redis", openRedis},
	{"redis-cluster", openRedisCluster},
	{"mongo", openMongo},
}

// skipUnset skips tb because env is unset, or fails it when CI has said
// every server must be there (MFA_TEST_REQUIRE_SERVERS).
func skipUnset(tb testing.TB, env, example string) {
	tb.Helper()
	msg := env + " is not set; set it to " + example + " to run this backend"
	if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
		tb.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
	}
	tb.Skip(msg)
}

func randName(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

func openMemstore(testing.TB) opened {
	m := memstore.New()
	return opened{concerns: m, dump: func(tb testing.TB, users []string) []blob { return apiDump(tb, m, users) }}
}

// apiDump reads the users' factors, sessions and devices back through the
// store, for a backend whose state lives only in process memory.
func apiDump(tb testing.TB, s concerns, users []string) []blob {
	ctx := context.Background()
	var out []blob
	for _, u := range users {
		fs, err := s.ListFactors(ctx, u)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range fs {
			out = append(out, blob{"factor " + f.ID, fmt.Appendf(nil, "%s %s %s %s %s", f.ID, f.Name, f.Lookup, f.Secret, f.Data)})
		}
		ss, err := s.ListSessions(ctx, u)
		if err != nil {
			tb.Fatal(err)
		}
		for _, x := range ss {
			out = append(out, blob{"session " + x.ID, fmt.Appendf(nil, "%s %s %s", x.UserID, x.Refresh, x.Data)})
		}
		ds, err := s.ListDevices(ctx, u, time.Time{})
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range ds {
			out = append(out, blob{"device " + d.ID, fmt.Appendf(nil, "%s %s %s", d.UserID, d.Hash, d.Name)})
		}
	}
	return out
}

// ping waits for a server a bounded time; an unreachable one fails tb.
func ping(tb testing.TB, env string, f func(context.Context) error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("%s is set but the server cannot be reached: %v", env, err)
		case <-time.After(200 * time.Millisecond): // bounded polling for the server
		}
	}
}

func sqlOpen(tb testing.TB, driver, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(16)
	tb.Cleanup(func() { db.Close() })
	return db
}

func migrated(tb testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(db, d)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// tableDump reads every row of the listed tables; quote quotes a name.
func tableDump(tb testing.TB, db *sql.DB, tables []string, quote func(string) string) []blob {
	tb.Helper()
	var out []blob
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + quote(table))
		if err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatal(err)
		}
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("read %s: %v", table, err)
			}
			for i, v := range vals {
				where := fmt.Sprintf("%s row %d column %s", table, n, cols[i])
				switch x := v.(type) {
				case nil:
				case []byte:
					out = append(out, blob{where, bytes.Clone(x)})
				case string:
					out = append(out, blob{where, []byte(x)})
				default:
					out = append(out, blob{where, fmt.Appendf(nil, "%v", x)})
				}
			}
			n++
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
		rows.Close()
	}
	return out
}

func listTables(tb testing.TB, db *sql.DB, query string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(tables) == 0 {
		tb.Fatal("no tables found")
	}
	return tables
}

func openSQLite(tb testing.TB) opened {
	path := filepath.Join(tb.TempDir(), "mfa.db")
	db := sqlOpen(tb, "sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	s := migrated(tb, db, sqlstore.SQLite)
	dump := func(tb testing.TB, _ []string) []blob {
		tables := listTables(tb, db, "SELECT name FROM sqlite_master WHERE type = 'table'")
		out := tableDump(tb, db, tables, func(s string) string { return `"` + s + `"` })
		// The files themselves: the database, its write-ahead log and the
		// shared-memory index, free pages included.
		for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			b, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, blob{"file " + filepath.Base(f), b})
		}
		return out
	}
	return opened{concerns: s, dump: dump}
}

func openPostgres(tb testing.TB) opened { return postgresStore(tb, false) }

// postgresStore opens a store in a fresh schema; with viaWire its
// connections pass through a round-trip counting proxy (opened.wire), and
// the driver's liveness ping before reusing a connection idle for a second
// is off, so the count is the store's alone.
func postgresStore(tb testing.TB, viaWire bool) opened {
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		skipUnset(tb, envPostgres, "a PostgreSQL URL (postgres://...)")
	}
	admin := sqlOpen(tb, "pgx", dsn)
	ping(tb, envPostgres, admin.PingContext)
	schema := randName("mfa_bt_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		tb.Fatalf("%s must be a URL (postgres://...): %v", envPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	sp := spec{Backend: "postgres", Addr: u.String()}
	var w wireCount
	var pw *wire
	if viaWire {
		pw = newWire(tb, u.Host)
		u.Host, w = pw.Addr(), pw
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		tb.Fatal(err)
	}
	var opts []stdlib.OptionOpenDB
	if viaWire {
		opts = append(opts, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return false }))
	}
	db := stdlib.OpenDB(*cfg, opts...)
	db.SetMaxOpenConns(16)
	tb.Cleanup(func() { db.Close() })
	s := migrated(tb, db, sqlstore.Postgres)
	dump := func(tb testing.TB, _ []string) []blob {
		tables := listTables(tb, db, "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema)
		return tableDump(tb, db, tables, func(s string) string { return schema + `."` + s + `"` })
	}
	return opened{concerns: s, dump: dump, wire: w, spec: sp}
}

func openMySQL(tb testing.TB) opened { return mysqlStore(tb, false) }

// mysqlStore opens a store in a fresh database; with viaWire its
// connections pass through a round-trip counting proxy (opened.wire).
func mysqlStore(tb testing.TB, viaWire bool) opened {
	dsn := os.Getenv(envMySQL)
	if dsn == "" {
		skipUnset(tb, envMySQL, "a MySQL DSN (user@tcp(host:3306)/db?parseTime=true)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", envMySQL, err)
	}
	admin := sqlOpen(tb, "mysql", dsn)
	ping(tb, envMySQL, admin.PingContext)
	name := randName("mfa_bt_")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	sp := spec{Backend: "mysql", Addr: cfg.FormatDSN()}
	var w wireCount
	var pw *wire
	if viaWire {
		pw = newWire(tb, cfg.Addr)
		cfg.Addr, w = pw.Addr(), pw
	}
	db := sqlOpen(tb, "mysql", cfg.FormatDSN())
	s := migrated(tb, db, sqlstore.MySQL)
	dump := func(tb testing.TB, _ []string) []blob {
		tables := listTables(tb, db, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", name)
		return tableDump(tb, db, tables, func(s string) string { return "`" + s + "`" })
	}
	return opened{concerns: s, dump: dump, wire: w, spec: sp}
}

// commandCounter is a go-redis hook that counts commands sent.
type commandCounter struct{ n *atomic.Int64 }

func (commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func openRedis(tb testing.TB) opened { return redisStore(tb, false) }

// redisClient opens a client on the Redis of envRedis, closed when tb
// ends, after checking that it answers; it returns the URL and the options
// too. Without the variable tb skips (skipUnset).
func redisClient(tb testing.TB) (*redis.Client, string, *redis.Options) {
	tb.Helper()
	u := os.Getenv(envRedis)
	if u == "" {
		skipUnset(tb, envRedis, "a Redis URL (redis://host:6379/0)")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatalf("%s: %v", envRedis, err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	ping(tb, envRedis, func(ctx context.Context) error { return c.Ping(ctx).Err() })
	return c, u, opt
}

// redisStore opens a store under a fresh key prefix; with viaWire its
// connections pass through a round-trip counting proxy (opened.wire).
func redisStore(tb testing.TB, viaWire bool) opened {
	c, u, opt := redisClient(tb)
	client := c // the store's; c also cleans up and dumps
	var w wireCount
	var pw *wire
	if viaWire {
		pw = newWire(tb, opt.Addr)
		w = pw
		o := *opt
		o.Addr = pw.Addr()
		client = redis.NewClient(&o)
		tb.Cleanup(func() { client.Close() })
	}
	prefix := randName("mfa_bt_") + ":"
	keys := func(tb testing.TB) []string {
		ctx := context.Background()
		var out []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Fatal(err)
		}
		return out
	}
	tb.Cleanup(func() {
		if ks := keys(tb); len(ks) > 0 {
			if err := c.Del(context.Background(), ks...).Err(); err != nil {
				tb.Errorf("clean up keys: %v", err)
			}
		}
	})
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	var n atomic.Int64
	client.AddHook(commandCounter{&n})
	dump := func(tb testing.TB, _ []string) []blob { return dumpKeys(tb, c, keys(tb)) }
	return opened{concerns: s, dump: dump, commands: &n, wire: w, spec: spec{Backend: "redis", Addr: u, Prefix: prefix}}
}

// newClock returns the Verifier's injected clock, at the start of a step.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2026, 6, 7, 8, 9, 0, 0, time.UTC)) }

var (
	hashKey = bytes.Repeat([]byte{0x42}, 32)
	sealKey = mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{0x24}, 32)}
)

// newVerifier is a Verifier with TOTP and backup codes on s; each of
// adjust may change its Config before it is built.
func newVerifier(tb testing.TB, s mfa.Store, clk *testkit.Clock, limits mfa.Limits, adjust ...func(*mfa.Config)) *mfa.Verifier {
	tb.Helper()
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		tb.Fatal(err)
	}
	bf, err := backupcodes.New(backupcodes.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := mfa.NewKeyring(sealKey)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := mfa.Config{Store: s, Factors: []mfa.Factor{tf, bf}, Sealer: kr, HashKey: hashKey, Now: clk.Now, Limits: limits}
	for _, f := range adjust {
		f(&cfg)
	}
	v, err := mfa.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// enrollTOTP enrols and confirms a TOTP factor, then moves the clock one
// step so the confirming code is spent. It returns the factor and setup.
func enrollTOTP(tb testing.TB, v *mfa.Verifier, clk *testkit.Clock, user string) (string, *totp.Setup) {
	tb.Helper()
	ctx := context.Background()
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindTOTP, Account: user})
	if err != nil {
		tb.Fatal(err)
	}
	setup := en.Show.(*totp.Setup)
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, FactorID: en.FactorID, Response: testkit.TOTPCode(tb, setup.Secret, clk.Now())}); err != nil {
		tb.Fatal(err)
	}
	clk.Step()
	return en.FactorID, setup
}

// counting counts every call made to the store, by method.
type counting struct {
	mfa.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) count(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[method]++
}

// take returns the calls since the last take, and their total.
func (c *counting) take() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	n := 0
	for m, k := range c.calls {
		parts = append(parts, fmt.Sprintf("%s×%d", m, k))
		n += k
	}
	slices.Sort(parts)
	c.calls = nil
	return strings.Join(parts, " "), n
}

func (c *counting) CreateFactor(ctx context.Context, f store.Factor) error {
	c.count("CreateFactor")
	return c.Store.CreateFactor(ctx, f)
}

func (c *counting) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	c.count("GetFactor")
	return c.Store.GetFactor(ctx, userID, id)
}

func (c *counting) FindFactor(ctx context.Context, kind, lookup string) (store.Factor, error) {
	c.count("FindFactor")
	return c.Store.FindFactor(ctx, kind, lookup)
}

func (c *counting) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	c.count("ListFactors")
	return c.Store.ListFactors(ctx, userID)
}

func (c *counting) UpdateFactor(ctx context.Context, f store.Factor) error {
	c.count("UpdateFactor")
	return c.Store.UpdateFactor(ctx, f)
}

func (c *counting) DeleteFactor(ctx context.Context, userID, id string) error {
	c.count("DeleteFactor")
	return c.Store.DeleteFactor(ctx, userID, id)
}

func (c *counting) DeletePendingFactor(ctx context.Context, userID, id string) error {
	c.count("DeletePendingFactor")
	return c.Store.DeletePendingFactor(ctx, userID, id)
}

func (c *counting) Advance(ctx context.Context, req store.Advance) error {
	c.count("Advance")
	return c.Store.Advance(ctx, req)
}

func (c *counting) Hit(ctx context.Context, req store.HitRequest) (store.HitResult, error) {
	c.count("Hit")
	return c.Store.Hit(ctx, req)
}

func (c *counting) Reset(ctx context.Context, keys ...store.CounterKey) error {
	c.count("Reset")
	return c.Store.Reset(ctx, keys...)
}

func (c *counting) CounterState(ctx context.Context, key store.CounterKey) (store.CounterState, error) {
	c.count("CounterState")
	return c.Store.CounterState(ctx, key)
}

func (c *counting) PutChallenge(ctx context.Context, ch store.Challenge) error {
	c.count("PutChallenge")
	return c.Store.PutChallenge(ctx, ch)
}

func (c *counting) TakeChallenge(ctx context.Context, id string, now time.Time) (store.Challenge, error) {
	c.count("TakeChallenge")
	return c.Store.TakeChallenge(ctx, id, now)
}

func (c *counting) Forgive(ctx context.Context, now time.Time, counters ...store.Counter) error {
	c.count("Forgive")
	return c.Store.Forgive(ctx, now, counters...)
}

// TestRoundTrips checks, on every backend, that a successful TOTP
// verification costs at most two store calls (Hit, which loads the
// factor, and Advance, which clears the counters) and a rate-limited
// rejection exactly one (Hit). On Redis it also counts the commands sent:
// Hit is its script and the factor's HMGET, sent together in one round
// trip, and Advance one script.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o := b.open(t)
			cs := &counting{Store: o.concerns}
			clk := newClock()
			// One failure, then an hour's wait: the second wrong attempt
			// is refused before anything is compared.
			limits := mfa.Limits{User: store.Rule{Free: 1, Base: time.Hour, Max: time.Hour, Cap: mfa.MaxFailures}}
			v := newVerifier(t, cs, clk, limits)
			ctx := context.Background()
			fid, setup := enrollTOTP(t, v, clk, "rt-user")

			cmds := func() int64 {
				if o.commands == nil {
					return -1
				}
				return o.commands.Swap(0)
			}
			cs.take()
			cmds()
			good := testkit.TOTPCode(t, setup.Secret, clk.Now())
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "rt-user", FactorID: fid, Response: good, IP: "192.0.2.1"}); err != nil {
				t.Fatalf("valid code: %v", err)
			}
			okCalls, okN := cs.take()
			okCmds := cmds()

			wrong := testkit.WrongTOTPCode(t, setup.Secret, clk.Step())
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "rt-user", FactorID: fid, Response: wrong, IP: "192.0.2.1"}); !errors.Is(err, mfa.ErrWrongCode) {
				t.Fatalf("wrong code: %v, want ErrWrongCode", err)
			}
			failCalls, failN := cs.take()
			failCmds := cmds()

			_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: "rt-user", FactorID: fid, Response: testkit.TOTPCode(t, setup.Secret, clk.Now()), IP: "192.0.2.1"})
			if !errors.Is(err, mfa.ErrRateLimited) {
				t.Fatalf("attempt during the delay: %v, want ErrRateLimited", err)
			}
			limCalls, limN := cs.take()
			limCmds := cmds()

			t.Logf("%s: success %d store calls (%s), wrong code %d (%s), rate-limited %d (%s); Redis commands %d/%d/%d (-1: not counted)",
				b.name, okN, okCalls, failN, failCalls, limN, limCalls, okCmds, failCmds, limCmds)
			if okN > 2 {
				t.Errorf("successful TOTP verification: %d store calls (%s), want at most 2", okN, okCalls)
			}
			if limN != 1 {
				t.Errorf("rate-limited rejection: %d store calls (%s), want exactly 1", limN, limCalls)
			}
			// A cluster sends a command per slot, several per round trip
			// (TestWireRoundTrips counts those).
			if o.commands != nil && b.name != "redis-cluster" && (okCmds > 3 || limCmds != 2) {
				t.Errorf("Redis commands: success %d, rate-limited %d; want at most 3 and exactly 2", okCmds, limCmds)
			}
		})
	}
}

// TestNothingReadableAtRest enrols TOTP and backup codes, verifies with
// both, and stores sessions and devices under keyed hashes of their
// tokens, then reads everything the backend holds (every row of every
// table, the SQLite files, every Redis key) and looks for the TOTP seed,
// the backup codes and the tokens in every form a leak would take.
func TestNothingReadableAtRest(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o := b.open(t)
			clk := newClock()
			v := newVerifier(t, o.concerns, clk, mfa.Limits{})
			ctx := context.Background()
			const user = "rest-user"

			// TOTP: enrol, confirm, verify, one wrong attempt from an IP.
			fid, setup := enrollTOTP(t, v, clk, user)
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, Response: testkit.TOTPCode(t, setup.Secret, clk.Now()), IP: "198.51.100.7"}); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: fid, Response: "000000x", IP: "198.51.100.7"}); err == nil {
				t.Fatal("malformed code accepted")
			}
			seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(setup.Secret))
			if err != nil || len(seed) < 16 {
				t.Fatalf("seed %q: %v", setup.Secret, err)
			}

			// Backup codes: generate and use one.
			en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: mfa.KindBackupCodes, AuthTime: clk.Now()})
			if err != nil {
				t.Fatal(err)
			}
			codes := en.Show.(*backupcodes.Codes).List
			if _, err := v.Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: en.FactorID, Response: codes[0]}); err != nil {
				t.Fatal(err)
			}

			// Sessions and devices, stored as the session package does:
			// keyed hashes of random tokens.
			var tokens [][]byte
			token := func() []byte {
				tok := make([]byte, 32)
				if _, err := rand.Read(tok); err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, tok)
				return tok
			}
			sum := func(tok []byte) []byte {
				h := v.Hasher().Sum("mfa/test/token", tok)
				return h[:]
			}
			now := clk.Now()
			first, next := token(), token()
			// A canary in a bytes column: the dump must find it, or it
			// does not read what the backend stores.
			canary := []byte(randName("canary-"))
			sess := store.Session{ID: randName("sess-"), UserID: user, Refresh: sum(first), Data: canary,
				Created: now, LastUsed: now, IdleExpires: now.Add(time.Hour), Expires: now.Add(12 * time.Hour)}
			if err := o.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if _, err := o.RotateRefresh(ctx, store.Rotate{SessionID: sess.ID, Old: sum(first), New: sum(next), Now: now, IdleExpires: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			dev := store.Device{ID: randName("dev-"), UserID: user, Hash: sum(token()), Name: "Firefox", Created: now, LastUsed: now, Expires: now.Add(720 * time.Hour)}
			if err := o.CreateDevice(ctx, dev); err != nil {
				t.Fatal(err)
			}

			needles := map[string][]byte{
				"TOTP seed (raw)":          seed,
				"TOTP seed (base32)":       []byte(strings.ToUpper(setup.Secret)),
				"TOTP seed (base32 lower)": []byte(strings.ToLower(setup.Secret)),
				"TOTP seed (hex)":          []byte(hex.EncodeToString(seed)),
				"TOTP seed (base64)":       []byte(base64.StdEncoding.EncodeToString(seed)),
				"otpauth URI":              []byte(setup.URI),
			}
			for i, c := range codes {
				plain := strings.ReplaceAll(c, "-", "")
				needles[fmt.Sprintf("backup code %d", i)] = []byte(c)
				needles[fmt.Sprintf("backup code %d (normalised)", i)] = []byte(plain)
				needles[fmt.Sprintf("backup code %d (upper)", i)] = []byte(strings.ToUpper(plain))
			}
			for i, tok := range tokens {
				needles[fmt.Sprintf("token %d (raw)", i)] = tok
				needles[fmt.Sprintf("token %d (base64url)", i)] = []byte(base64.RawURLEncoding.EncodeToString(tok))
				needles[fmt.Sprintf("token %d (hex)", i)] = []byte(hex.EncodeToString(tok))
			}

			blobs := o.dump(t, []string{user})
			var total int
			seen := false
			for _, bl := range blobs {
				total += len(bl.data)
				seen = seen || bytes.Contains(bl.data, canary)
				for what, n := range needles {
					if bytes.Contains(bl.data, n) {
						t.Errorf("%s readable at rest in %s", what, bl.where)
					}
				}
			}
			if !seen {
				t.Fatalf("the dump (%d values, %d bytes) does not contain the canary stored as session data: it proves nothing", len(blobs), total)
			}
			t.Logf("%s: %d values, %d bytes searched for %d needles", b.name, len(blobs), total, len(needles))
		})
	}
}

// BenchmarkVerifyTOTP measures a full Verifier.Verify of a valid, fresh
// TOTP code (generating the code included, about a microsecond): the
// clock moves one period before every verification, so no code replays.
// The parallel variant gives every goroutine its own user, factor and
// clock, so they never conflict on a factor's counter.
func BenchmarkVerifyTOTP(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			o := be.open(b)
			w := newWorker(b, o.concerns, "bench-user")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.verify(b)
			}
		})
		b.Run(be.name+"/parallel", func(b *testing.B) {
			o := be.open(b)
			workers := make(chan *worker, runtime.GOMAXPROCS(0))
			for i := range cap(workers) {
				workers <- newWorker(b, o.concerns, fmt.Sprintf("bench-user-%d", i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := <-workers
				for pb.Next() {
					w.verify(b)
				}
			})
		})
	}
}

// worker is one user with a TOTP factor and a Verifier on its own clock.
type worker struct {
	v      *mfa.Verifier
	clk    *testkit.Clock
	user   string
	factor string
	secret string
	last   string // the code verified last
}

func newWorker(tb testing.TB, s mfa.Store, user string) *worker {
	tb.Helper()
	w := &worker{clk: newClock(), user: user}
	w.v = newVerifier(tb, s, w.clk, mfa.Limits{})
	var setup *totp.Setup
	w.factor, setup = enrollTOTP(tb, w.v, w.clk, user)
	w.secret = setup.Secret
	return w
}

// verify moves the clock one period and verifies that period's code. When
// a period's code equals the previous one (one chance in a million), the
// previous verification already matched this period within the skew
// window and spent it; the clock moves on once more.
func (w *worker) verify(b *testing.B) {
	var c string
	for {
		var err error
		if c, err = otptotp.GenerateCode(w.secret, w.clk.Step()); err != nil {
			b.Fatal(err)
		}
		if c != w.last {
			break
		}
	}
	w.last = c
	if _, err := w.v.Verify(context.Background(), mfa.VerifyRequest{UserID: w.user, FactorID: w.factor, Response: c}); err != nil {
		b.Fatal(err)
	}
}

// dumpKeys reads every listed key and its value back from Redis (a
// cluster client routes each key to its node).
func dumpKeys(tb testing.TB, c redis.Cmdable, keys []string) []blob {
	ctx := context.Background()
	var out []blob
	for _, k := range keys {
		out = append(out, blob{"key name", []byte(k)})
		raw, err := c.Dump(ctx, k).Result()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, blob{"DUMP " + k, []byte(raw)})
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			tb.Fatal(err)
		}
		var vals []string
		switch typ {
		case "string":
			v, err := c.Get(ctx, k).Result()
			if err != nil {
				tb.Fatal(err)
			}
			vals = []string{v}
		case "hash":
			m, err := c.HGetAll(ctx, k).Result()
			if err != nil {
				tb.Fatal(err)
			}
			for f, v := range m {
				vals = append(vals, f, v)
			}
		case "set":
			if vals, err = c.SMembers(ctx, k).Result(); err != nil {
				tb.Fatal(err)
			}
		case "zset":
			if vals, err = c.ZRange(ctx, k, 0, -1).Result(); err != nil {
				tb.Fatal(err)
			}
		case "list":
			if vals, err = c.LRange(ctx, k, 0, -1).Result(); err != nil {
				tb.Fatal(err)
			}
		default:
			tb.Fatalf("key %s has type %s, which this test cannot read", k, typ)
		}
		for _, v := range vals {
			out = append(out, blob{typ + " " + k, []byte(v)})
		}
	}
	return out
}
