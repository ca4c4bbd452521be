package backendtest_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

func sqlOpenErr(driver, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	return db, db.Ping()
}

// TestPushAcrossProcesses: 1,000 identical answers from 4 OS processes,
// each with its own connections, against one PostgreSQL schema and one
// Redis key prefix: exactly one is recorded.
func TestPushAcrossProcesses(t *testing.T) {
	if os.Getenv(envPushHelper) != "" {
		t.Skip("in a helper process")
	}
	const procs, racers = 4, 250
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv(envPostgres)
		if dsn == "" {
			skipUnset(t, envPostgres, "a PostgreSQL URL (postgres://...)")
		}
		admin := sqlOpen(t, "pgx", dsn)
		ping(t, envPostgres, admin.PingContext)
		schema := randName("mfa_bt_push_")
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		s := migrated(t, sqlOpen(t, "pgx", u.String()), sqlstore.Postgres)
		runPushProcesses(t, s, "postgres", u.String(), "", procs, racers)
	})
	t.Run("redis", func(t *testing.T) {
		c, ru, _ := redisClient(t)
		prefix := randName("mfa_bt_push_") + ":"
		t.Cleanup(func() {
			ctx := context.Background()
			iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		})
		s, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		runPushProcesses(t, s, "redis", ru, prefix, procs, racers)
	})
}

func runPushProcesses(t *testing.T, s concerns, kind, source, prefix string, procs, racers int) {
	clk := newClock()
	pf := newPush(t, s, clk.Now)
	v := pushVerifier(t, s, pf, clk)
	d, _, _, p := pushed(t, v, randName("u"), clk)
	body := d.Answer(t, p.RequestID, p.Number, push.Approve, clk.Now().Unix())
	env := []string{envPushHelper + "=" + kind, envPushSource + "=" + source, envPushPrefix + "=" + prefix,
		envPushBody + "=" + base64.StdEncoding.EncodeToString(body), envPushNow + "=" + clk.Now().Format(time.RFC3339Nano),
		envPushRacers + "=" + strconv.Itoa(racers)}
	envs := make([][]string, procs)
	for i := range envs {
		envs[i] = env
	}
	var total int64
	for i, r := range runReleased(t, "TestPushHelperProcess", envs, pushResultLine) {
		got, err := strconv.ParseInt(r.line, 10, 64)
		if err != nil || got < 0 {
			t.Fatalf("process %d printed %q\n%s", i, r.line, r.stderr)
		}
		total += got
	}
	t.Logf("%d identical answers from %d processes: %d recorded", procs*racers, procs, total)
	if total != 1 {
		t.Fatalf("%d answers recorded, want 1", total)
	}
}
