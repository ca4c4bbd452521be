package backendtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// goroutines is how many goroutines each side of BenchmarkThroughput runs.
const goroutines = 32

// BenchmarkThroughput is a benchmark pair per backend: "verifier" runs
// successful TOTP verifications through the full Verifier from 32
// goroutines, "floor" does the same storage work from 32 goroutines with
// the fewest statements the server needs, and nothing else: count the
// attempt and load the sealed seed (one round trip), compare-and-set the
// step and clear the counter (one more). The ratio floor ns/op over
// verifier ns/op, from one run, is the Verifier's share of the floor.
func BenchmarkThroughput(b *testing.B) {
	floors := map[string]func(testing.TB) floorFunc{
		"sqlite": sqliteFloor, "postgres": postgresFloor, "mysql": mysqlFloor, "redis": redisFloor,
	}
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
		b.Run(be.name+"/floor", func(b *testing.B) {
			f := mk(b)
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
		})
	}
}

// floorFunc does the storage work of one successful verification of user
// at step.
type floorFunc func(ctx context.Context, user string, step int64) error

// floorSQL builds a floor from two statements: hit (args: counter key,
// factor id; returns the seed) and advance (args: step, factor id, step
// - 1, counter key). seed inserts the factor row (args: id).
// A non-empty clear (args: counter key) runs after advance, for a server
// that cannot chain the two in one statement.
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
		var secret []byte
		if err := db.QueryRowContext(ctx, hit, "c"+user, user).Scan(&secret); err != nil {
			return err
		}
		res, err := db.ExecContext(ctx, advance, step, user, step-1, "c"+user)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("floor advance: %d rows, %v", n, err)
		}
		if clear != "" {
			_, err = db.ExecContext(ctx, clear, "c"+user)
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
		"INSERT INTO fc VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET f = f + 1 RETURNING (SELECT secret FROM ff WHERE id = ?)",
		"UPDATE ff SET counter = ? WHERE id = ? AND counter = ? AND ? <> ''", "DELETE FROM fc WHERE k = ?")
}

func postgresFloor(tb testing.TB) floorFunc {
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
	db := sqlOpen(tb, "pgx", u.String())
	return floorSQL(tb, db, []string{
		"CREATE TABLE ff (id TEXT PRIMARY KEY, secret BYTEA, counter BIGINT NOT NULL)",
		"CREATE TABLE fc (k TEXT PRIMARY KEY, f INTEGER NOT NULL)",
	}, "INSERT INTO ff VALUES ($1, '\\x00112233445566778899', 0)",
		"INSERT INTO fc AS c VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET f = c.f + 1 RETURNING (SELECT secret FROM ff WHERE id = $2)",
		"WITH u AS (UPDATE ff SET counter = $1 WHERE id = $2 AND counter = $3 RETURNING 1), d AS (DELETE FROM fc WHERE k = $4 AND EXISTS (SELECT 1 FROM u)) SELECT 1 FROM u", "")
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
		rows, err := db.QueryContext(ctx, "INSERT INTO fc VALUES (?, 1) ON DUPLICATE KEY UPDATE f = f + 1; SELECT secret FROM ff WHERE id = ?", "c"+user, user)
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
		_, err = db.ExecContext(ctx, "UPDATE ff SET counter = ? WHERE id = ? AND counter = ?; DELETE FROM fc WHERE k = ? AND ROW_COUNT() > 0", step, user, step-1, "c"+user)
		return err
	}
}

func redisFloor(tb testing.TB) floorFunc {
	u := os.Getenv(envRedis)
	if u == "" {
		skipUnset(tb, envRedis, "a Redis URL (redis://host:6379/0)")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	p := randName("mfa_floor_")
	tb.Cleanup(func() {
		for i := 1; i <= goroutines+8; i++ {
			c.Del(context.Background(), fmt.Sprintf("%s:{%d}:f", p, i), fmt.Sprintf("%s:{%d}:c", p, i))
		}
	})
	hit := redis.NewScript(`redis.call('INCR', KEYS[2]) return redis.call('HGET', KEYS[1], 's')`)
	adv := redis.NewScript(`if redis.call('HGET', KEYS[1], 'n') == ARGV[2] then redis.call('HSET', KEYS[1], 'n', ARGV[1]) redis.call('DEL', KEYS[2]) return 1 end return 0`)
	return func(ctx context.Context, user string, step int64) error {
		keys := []string{fmt.Sprintf("%s:{%s}:f", p, user), fmt.Sprintf("%s:{%s}:c", p, user)}
		if step == 1 {
			if err := c.HSet(ctx, keys[0], "s", "0011223344556677", "n", "0").Err(); err != nil {
				return err
			}
		}
		if err := hit.Run(ctx, c, keys).Err(); err != nil && err != redis.Nil {
			return err
		}
		n, err := adv.Run(ctx, c, keys, step, step-1).Int()
		if err == nil && n != 1 {
			err = fmt.Errorf("floor advance lost at step %d", step)
		}
		return err
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
