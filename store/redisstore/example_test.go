package redisstore_test

import (
	"context"
	"database/sql"
	"log"

	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

// Factors (seeds, the TOTP replay guard) and remembered devices in a
// durable database, the short-lived state in Redis.
func Example_split() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:mfa.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	sqls, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := sqls.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	rds, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}), redisstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	st := &store.Split{
		Factors:    sqls,
		Counters:   rds,
		Challenges: rds,
	}
	_ = st // mfa.Config{Store: st, ...}
	sessions := struct {
		store.Sessions
		store.Devices
	}{rds, sqls}
	_ = sessions // session.Config{Store: sessions, ...}
}
