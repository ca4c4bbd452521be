package backendtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/mfakit/mfa"
	otptotp "github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"
)

// goroutines is how many goroutines each side of BenchmarkThroughput runs.
const goroutines = 32

// BenchmarkThroughput is a benchmark pair per backend: "verifier" runs
// successful TOTP verifications through the full Verifier from 32
// goroutines, "floor" does the same storage work from 32 goroutines with
// the fewest statements the server needs, and nothing else: count the
// attempt on the user's and the factor's counters and load the sealed
// seed (one round trip), compare-and-set the step and clear both counters
// (one more). The ratio floor ns/op over verifier ns/op is the Verifier's
// share of the floor; BenchmarkThroughputRatio measures it with both
// halves interleaved, which a shared machine needs.
//
// On PostgreSQL and Redis a third side, "record-floor", is the floor plus
// what a store of the Verifier's records cannot skip (see recordFloors).
func BenchmarkThroughput(b *testing.B) {
	for _, be := range backends {
		mk, ok := floors[be.name]
		if !ok {
			continue
		}
		b.Run(be.name+"/verifier", func(b *testing.B) {
			o := be.open(b)
			workers := make(chan *worker, goroutines)
			for i := range goroutines {
				workers <- newWorker(b, o.concerns, fmt.Sprintf("tp-user-%d", i))
			}
			b.SetParallelism((goroutines + runtimeProcs() - 1) / runtimeProcs())
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := <-workers
				for pb.Next() {
					w.verify(b)
				}
			})
		})
		b.Run(be.name+"/floor", func(b *testing.B) { runFloor(b, mk(b)) })
		if mk, ok := recordFloors[be.name]; ok {
			b.Run(be.name+"/record-floor", func(b *testing.B) { runFloor(b, mk(b)) })
		}
	}
}

// runFloor runs f from 32 goroutines, each as a user of its own.
func runFloor(b *testing.B, f floorFunc) {
	var next atomic.Int64
	b.SetParallelism((goroutines + runtimeProcs() - 1) / runtimeProcs())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		user := strconv.FormatInt(next.Add(1), 10)
		step := int64(0)
		for pb.Next() {
			step++
			if err := f(context.Background(), user, step); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// floors are the raw floors of BenchmarkThroughput, by backend.
var floors = map[string]func(testing.TB) floorFunc{
	"sqlite": sqliteFloor, "postgres": postgresFloor, "mysql": mysqlFloor, "redis": redisFloor,
}

// recordFloors are the floors of the record, by backend: the raw floor's
// work and round trips, with the fewest statements, plus the three things
// the raw floor skips that no store of the Verifier's records can: the
// factor's counter expires (a TTL, or an expiry column with the index a
// sweep needs), the whole record is read rather than the seed alone (the
// Verifier needs its kind, status and counter too; the ten fields the
// request does not name already), and a success records its time. Its
// ratio to the Verifier, beside the raw floor's, tells what the Verifier
// costs over the work itself from what the work costs over the raw floor.
var recordFloors = map[string]func(testing.TB) floorFunc{
	"postgres": postgresRecordFloor, "redis": redisRecordFloor,
}

// BenchmarkThroughputRatio measures the pairs of BenchmarkThroughput
// with both halves in one process, in alternating phases of ratioPhase
// operations (32 goroutines each), so both see the same load of a shared
// machine. It reports each side's time per operation and the ratio floor
// over verifier, and where there is a floor of the record, its time and
// its ratio too (a third phase). Each ratio is given twice: from the
// total times, and as the median of the rounds' own ratios (one round is
// a phase of each side), which a burst of other work on the machine
// moves less. Run it with a -benchtime of a multiple of ratioPhase, e.g.
// 20000x.
func BenchmarkThroughputRatio(b *testing.B) {
	const ratioPhase = 2000
	for _, be := range backends {
		mk, ok := floors[be.name]
		if !ok {
			continue
		}
		b.Run(be.name, func(b *testing.B) {
			o := be.open(b)
			f := mk(b)
			var rf floorFunc // nil: this backend has no floor of the record
			if mk, ok := recordFloors[be.name]; ok {
				rf = mk(b)
			}
			workers := make([]*worker, goroutines)
			steps := make([]int64, goroutines)  // each goroutine's step on the floor
			rsteps := make([]int64, goroutines) // and on the floor of the record
			plans := make([][]planned, goroutines)
			for i := range workers {
				workers[i] = newWorker(b, o.concerns, fmt.Sprintf("tr-user-%d", i))
			}
			ctx := context.Background()
			// floorPhase runs k steps of a floor, each goroutine as its
			// own user, after a collection, as the Verifier's phase.
			floorPhase := func(k int, f floorFunc, steps []int64) time.Duration {
				runtime.GC()
				d, err := phase(k, func(g int) error {
					steps[g]++
					return f(ctx, strconv.Itoa(g+1), steps[g])
				})
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			var ours, floor, record time.Duration
			var rounds, rrounds []float64 // each round's floor/verifier and record-floor/verifier
			n := 0
			b.ResetTimer()
			for n < b.N {
				k := min(ratioPhase, b.N-n)
				// The codes a phase submits are made before it, untimed:
				// the floor has no code to make either.
				b.StopTimer()
				for g, w := range workers {
					var err error
					if plans[g], err = w.plan(k); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				runtime.GC()
				d, err := phase(k, func(g int) error { return workers[g].verifyPlanned(ctx, &plans[g]) })
				if err != nil {
					b.Fatal(err)
				}
				ours += d
				fd := floorPhase(k, f, steps)
				floor += fd
				rounds = append(rounds, float64(fd)/float64(d))
				if rf != nil {
					rd := floorPhase(k, rf, rsteps)
					record += rd
					rrounds = append(rrounds, float64(rd)/float64(d))
				}
				n += k
			}
			b.ReportMetric(float64(ours.Nanoseconds())/float64(n), "verifier-ns/op")
			b.ReportMetric(float64(floor.Nanoseconds())/float64(n), "floor-ns/op")
			b.ReportMetric(float64(floor)/float64(ours), "floor/verifier")
			b.ReportMetric(median(rounds), "floor/verifier-median")
			if rf != nil {
				b.ReportMetric(float64(record.Nanoseconds())/float64(n), "record-floor-ns/op")
				b.ReportMetric(float64(record)/float64(ours), "record-floor/verifier")
				b.ReportMetric(median(rrounds), "record-floor/verifier-median")
			}
		})
	}
}

// median returns the median of xs (the mean of the middle two when their
// number is even), sorting xs.
func median(xs []float64) float64 {
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 0 {
		return (xs[m-1] + xs[m]) / 2
	}
	return xs[m]
}

// phase runs k calls of op from 32 goroutines (op's argument is the
// goroutine's number, so each keeps to its own user) and returns the time
// they took and the first error.
func phase(k int, op func(g int) error) (time.Duration, error) {
	var (
		left  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	left.Store(int64(k))
	t0 := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := op(g); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(t0)
	if e := first.Load(); e != nil {
		return d, *e
	}
	return d, nil
}

// planned is a code a worker submits, and the instant it submits it at.
type planned struct {
	at   time.Time
	code string
}

// plan makes the codes of the worker's next k verifications, one period
// apart: a phase's operations are shared out among its goroutines as they
// come, so one worker may do all of them. When a period's code equals the
// previous one (one chance in a million), the previous verification
// already matched this period within the skew window and spent it; that
// period is skipped, as worker.verify does. Unused codes are dropped:
// the next plan starts from the instant verified last.
func (w *worker) plan(k int) ([]planned, error) {
	out := make([]planned, 0, k)
	prev := w.last // the code verified last
	for len(out) < k {
		t := w.clk.Step()
		c, err := otptotp.GenerateCode(w.secret, t)
		if err != nil {
			return nil, err
		}
		if c != prev {
			prev = c
			out = append(out, planned{t, c})
		}
	}
	return out, nil
}

// verifyPlanned verifies the next planned code at its instant, and returns
// the error rather than failing, for a goroutine that is not the
// benchmark's.
func (w *worker) verifyPlanned(ctx context.Context, p *[]planned) error {
	next := (*p)[0]
	*p = (*p)[1:]
	w.clk.Set(next.at)
	w.last = next.code
	_, err := w.v.Verify(ctx, mfa.VerifyRequest{UserID: w.user, FactorID: w.factor, Response: next.code})
	return err
}

// floorFunc does the storage work of one successful verification of user
// at step.
type floorFunc func(ctx context.Context, user string, step int64) error

// floorKeys are the floor's two counters of user: the user's and the
// factor's, as the Verifier counts a TOTP attempt.
func floorKeys(user string) (string, string) { return "u" + user, "f" + user }

// floorSQL builds a floor from two statements: hit (args: the two counter
// keys, factor id; returns the seed, on one row per counter) and advance
// (args: step, factor id, step - 1, the two counter keys). seed inserts
// the factor row (args: id). A non-empty clear (args: the two counter
// keys) runs after advance, for a server that cannot chain the two in one
// statement.
func floorSQL(tb testing.TB, db *sql.DB, schema []string, seed, hit, advance, clear string) floorFunc {
	tb.Helper()
	for _, q := range schema {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 1; i <= goroutines+8; i++ {
		if _, err := db.Exec(seed, strconv.Itoa(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return func(ctx context.Context, user string, step int64) error {
		uk, fk := floorKeys(user)
		rows, err := db.QueryContext(ctx, hit, uk, fk, user)
		if err != nil {
			return err
		}
		var secret []byte
		for rows.Next() {
			if err := rows.Scan(&secret); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(secret) == 0 {
			return fmt.Errorf("floor hit: no seed")
		}
		res, err := db.ExecContext(ctx, advance, step, user, step-1, uk, fk)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("floor advance: %d rows, %v", n, err)
		}
		if clear != "" {
			_, err = db.ExecContext(ctx, clear, uk, fk)
		}
		return err
	}
}

func sqliteFloor(tb testing.TB) floorFunc {
	db := sqlOpen(tb, "sqlite", "file:"+filepath.Join(tb.TempDir(), "floor.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	return floorSQL(tb, db, []string{
		"CREATE TABLE ff (id TEXT PRIMARY KEY, secret BLOB, counter INTEGER NOT NULL)",
		"CREATE TABLE fc (k TEXT PRIMARY KEY, f INTEGER NOT NULL)",
	}, "INSERT INTO ff VALUES (?, x'00112233445566778899', 0)",
		"INSERT INTO fc VALUES (?1, 1), (?2, 1) ON CONFLICT (k) DO UPDATE SET f = f + 1 RETURNING (SELECT secret FROM ff WHERE id = ?3)",
		"UPDATE ff SET counter = ? WHERE id = ? AND counter = ? AND ? <> '' AND ? <> ''", "DELETE FROM fc WHERE k IN (?, ?)")
}

func postgresFloor(tb testing.TB) floorFunc {
	return floorSQL(tb, postgresFloorDB(tb), []string{
		"CREATE TABLE ff (id TEXT PRIMARY KEY, secret BYTEA, counter BIGINT NOT NULL)",
		"CREATE TABLE fc (k TEXT PRIMARY KEY, f INTEGER NOT NULL)",
	}, "INSERT INTO ff VALUES ($1, '\\x00112233445566778899', 0)",
		"INSERT INTO fc AS c VALUES ($1, 1), ($2, 1) ON CONFLICT (k) DO UPDATE SET f = c.f + 1 RETURNING (SELECT secret FROM ff WHERE id = $3)",
		"WITH u AS (UPDATE ff SET counter = $1 WHERE id = $2 AND counter = $3 RETURNING 1), d AS (DELETE FROM fc WHERE k IN ($4, $5) AND EXISTS (SELECT 1 FROM u)) SELECT 1 FROM u", "")
}

// postgresRecordFloor is PostgreSQL's floor of the record (recordFloors):
// the factor's counter has an expiry, indexed as the store's are; the hit
// reads the factor's ten columns; the advance sets its last use.
func postgresRecordFloor(tb testing.TB) floorFunc {
	db := postgresFloorDB(tb)
	for _, q := range []string{
		"CREATE TABLE rf (user_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL," +
			" status TEXT NOT NULL, lookup TEXT, secret BYTEA, data BYTEA, counter BIGINT NOT NULL," +
			" created_us BIGINT NOT NULL, confirmed_us BIGINT NOT NULL, last_used_us BIGINT NOT NULL, PRIMARY KEY (user_id, id))",
		"CREATE TABLE rc (k TEXT PRIMARY KEY, f INTEGER NOT NULL, expires_us BIGINT NOT NULL)",
		"CREATE INDEX rc_expires ON rc (expires_us) WHERE expires_us <> 0",
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 1; i <= goroutines+8; i++ {
		if _, err := db.Exec("INSERT INTO rf VALUES ($1, 'f', 'totp', 'phone', 'active', NULL, $2, NULL, 0, 1, 1, 0)", strconv.Itoa(i), recordSeed); err != nil {
			tb.Fatal(err)
		}
	}
	const (
		hit = "WITH c AS (INSERT INTO rc AS c VALUES ($1, 1, 0), ($2, 1, $3) ON CONFLICT (k) DO UPDATE SET f = c.f + 1, expires_us = EXCLUDED.expires_us)" +
			" SELECT kind, name, status, lookup, secret, data, counter, created_us, confirmed_us, last_used_us FROM rf WHERE user_id = $4 AND id = 'f'"
		advance = "WITH u AS (UPDATE rf SET counter = $1, last_used_us = $2 WHERE user_id = $3 AND id = 'f' AND counter = $4 RETURNING 1)," +
			" d AS (DELETE FROM rc WHERE k IN ($5, $6) AND EXISTS (SELECT 1 FROM u)) SELECT count(*) FROM u"
	)
	return func(ctx context.Context, user string, step int64) error {
		uk, fk := floorKeys(user)
		now := time.Now().UnixMicro()
		var (
			kind, name, status    string
			lookup                sql.NullString
			secret, data          []byte
			counter, created      int64
			confirmed, lastUsedUs int64
		)
		err := db.QueryRowContext(ctx, hit, uk, fk, now+recordTTL.Microseconds(), user).
			Scan(&kind, &name, &status, &lookup, &secret, &data, &counter, &created, &confirmed, &lastUsedUs)
		if err != nil {
			return err
		}
		if len(secret) == 0 || counter != step-1 {
			return fmt.Errorf("record floor hit: seed %x, counter %d at step %d", secret, counter, step)
		}
		var n int
		if err := db.QueryRowContext(ctx, advance, step, now, user, step-1, uk, fk).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("record floor advance lost at step %d", step)
		}
		return nil
	}
}

// The factor's sealed seed and its counter's time to live, in the floors
// of the record: a seed of about the size the Verifier stores (a 20-byte
// TOTP seed with its key ID, nonce and tag) and the TTL of the default
// Limits.Factor.
var recordSeed = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

const recordTTL = 24 * time.Hour

// postgresFloorDB opens a connection pool to a fresh schema.
func postgresFloorDB(tb testing.TB) *sql.DB {
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		skipUnset(tb, envPostgres, "a PostgreSQL URL (postgres://...)")
	}
	admin := sqlOpen(tb, "pgx", dsn)
	schema := randName("mfa_floor_")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return sqlOpen(tb, "pgx", u.String())
}

func mysqlFloor(tb testing.TB) floorFunc {
	dsn := os.Getenv(envMySQL)
	if dsn == "" {
		skipUnset(tb, envMySQL, "a MySQL DSN (user@tcp(host:3306)/db?parseTime=true)")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	admin := sqlOpen(tb, "mysql", dsn)
	name := randName("mfa_floor_")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE " + name) })
	// The floor's statements are one request each: parameters written
	// by the driver, and two statements per request.
	cfg.DBName, cfg.InterpolateParams, cfg.MultiStatements = name, true, true
	db := sqlOpen(tb, "mysql", cfg.FormatDSN())
	for _, q := range []string{
		"CREATE TABLE ff (id VARBINARY(64) PRIMARY KEY, secret BLOB, counter BIGINT NOT NULL)",
		"CREATE TABLE fc (k VARBINARY(64) PRIMARY KEY, f INT NOT NULL)",
	} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 1; i <= goroutines+8; i++ {
		if _, err := db.Exec("INSERT INTO ff VALUES (?, X'00112233445566778899', 0)", strconv.Itoa(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return func(ctx context.Context, user string, step int64) error {
		uk, fk := floorKeys(user)
		rows, err := db.QueryContext(ctx, "INSERT INTO fc VALUES (?, 1), (?, 1) ON DUPLICATE KEY UPDATE f = f + 1; SELECT secret FROM ff WHERE id = ?", uk, fk, user)
		if err != nil {
			return err
		}
		for rows.NextResultSet() {
			for rows.Next() {
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// The DELETE runs only if the compare-and-set matched.
		_, err = db.ExecContext(ctx, "UPDATE ff SET counter = ? WHERE id = ? AND counter = ?; DELETE FROM fc WHERE k IN (?, ?) AND ROW_COUNT() > 0", step, user, step-1, uk, fk)
		return err
	}
}

func redisFloor(tb testing.TB) floorFunc {
	c, keysOf := redisFloorKeys(tb, "mfa_floor_")
	hit := redis.NewScript(`redis.call('INCR', KEYS[2]) redis.call('INCR', KEYS[3]) return redis.call('HGET', KEYS[1], 's')`)
	adv := redis.NewScript(`if redis.call('HGET', KEYS[1], 'n') == ARGV[2] then redis.call('HSET', KEYS[1], 'n', ARGV[1]) redis.call('DEL', KEYS[2], KEYS[3]) return 1 end return 0`)
	return func(ctx context.Context, user string, step int64) error {
		keys := keysOf(user)
		if step == 1 {
			if err := c.HSet(ctx, keys[0], "s", "0011223344556677", "n", "0").Err(); err != nil {
				return err
			}
		}
		if err := hit.Run(ctx, c, keys).Err(); err != nil {
			return err
		}
		n, err := adv.Run(ctx, c, keys, step, step-1).Int()
		if err == nil && n != 1 {
			err = fmt.Errorf("floor advance lost at step %d", step)
		}
		return err
	}
}

// redisRecordFloor is Redis's floor of the record (recordFloors): the
// factor's counter gets a TTL, the hit reads the record's ten fields and
// the advance sets its last use. One script per round trip, as the raw
// floor.
func redisRecordFloor(tb testing.TB) floorFunc {
	c, keysOf := redisFloorKeys(tb, "mfa_record_floor_")
	hit := redis.NewScript(`redis.call('INCR', KEYS[2])
redis.call('INCR', KEYS[3]) redis.call('PEXPIRE', KEYS[3], ARGV[1])
return redis.call('HMGET', KEYS[1], 'kind', 'name', 'status', 'lookup', 'secret', 'data', 'counter', 'created', 'confirmed', 'last_used')`)
	adv := redis.NewScript(`if redis.call('HGET', KEYS[1], 'counter') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'counter', ARGV[1], 'last_used', ARGV[3])
redis.call('DEL', KEYS[2], KEYS[3])
return 1`)
	return func(ctx context.Context, user string, step int64) error {
		keys := keysOf(user)
		if step == 1 {
			err := c.HSet(ctx, keys[0], "user", user, "id", "f", "kind", "totp", "name", "phone", "status", "active",
				"secret", recordSeed, "counter", "0", "created", "1", "confirmed", "1").Err()
			if err != nil {
				return err
			}
		}
		v, err := hit.Run(ctx, c, keys, recordTTL.Milliseconds()).Slice() // absent fields are nil
		if err != nil {
			return err
		}
		if len(v) != 10 || v[4] == nil || v[6] != strconv.FormatInt(step-1, 10) {
			return fmt.Errorf("record floor hit at step %d: %q", step, v)
		}
		n, err := adv.Run(ctx, c, keys, step, step-1, time.Now().UnixMilli()).Int()
		if err == nil && n != 1 {
			err = fmt.Errorf("record floor advance lost at step %d", step)
		}
		return err
	}
}

// redisFloorKeys opens a floor's client, one of its own as the
// Verifier's store has, and returns it with the keys of a user under a
// fresh prefix: the factor, the user's counter and the factor's counter,
// in one hash slot. The keys of the floor's users are deleted when tb
// ends.
func redisFloorKeys(tb testing.TB, prefix string) (*redis.Client, func(user string) []string) {
	c, _, _ := redisClient(tb)
	p := randName(prefix)
	keysOf := func(user string) []string {
		return []string{fmt.Sprintf("%s:{%s}:f", p, user), fmt.Sprintf("%s:{%s}:u", p, user), fmt.Sprintf("%s:{%s}:c", p, user)}
	}
	tb.Cleanup(func() {
		for i := 1; i <= goroutines+8; i++ {
			c.Del(context.Background(), keysOf(strconv.Itoa(i))...)
		}
	})
	return c, keysOf
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
