package main

// Where the app keeps its state: the mfa store (factors, counters,
// challenges, sessions) and the users, side by side in one database.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL: sql.Open("pgx", ...)
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite" // SQLite, pure Go: sql.Open("sqlite", ...)

	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

// storage is an open store and the users next to it.
type storage struct {
	store appStore
	users userStore
	// where says, for people, where the state is kept.
	where string
	close func() error
}

// openStorage opens the state named by spec: "" for the SQLite file at
// dbPath, "memory", or a postgres://, mysql:// or redis:// URL. SQL
// databases are migrated (the mfa tables and example_users).
func openStorage(ctx context.Context, spec, dbPath string) (*storage, error) {
	switch {
	case spec == "memory":
		return &storage{store: memstore.New(), users: newMemUsers(), where: "memory (lost when the process exits)",
			close: func() error { return nil }}, nil
	case spec == "":
		// A busy timeout makes concurrent writers queue instead of failing
		// with SQLITE_BUSY; WAL lets readers proceed during a write.
		dsn := "file:" + dbPath + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		return openSQL(ctx, "sqlite", dsn, sqlstore.SQLite, "SQLite file "+dbPath)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openSQL(ctx, "pgx", spec, sqlstore.Postgres, "PostgreSQL "+redact(spec))
	case strings.HasPrefix(spec, "mysql://"):
		// The driver takes user:pass@tcp(host:port)/db?..., without a scheme.
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return nil, fmt.Errorf("-store: %w", err)
		}
		cfg.ParseTime = true
		return openSQL(ctx, "mysql", cfg.FormatDSN(), sqlstore.MySQL, "MySQL "+cfg.Addr+"/"+cfg.DBName)
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		return openRedis(ctx, spec)
	}
	return nil, fmt.Errorf("-store %q: want memory, or a postgres://, mysql:// or redis:// URL", redact(spec))
}

func openSQL(ctx context.Context, driver, dsn string, d sqlstore.Dialect, where string) (*storage, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	// Stay well below the server's connection limit.
	db.SetMaxOpenConns(10)
	fail := func(err error) (*storage, error) {
		db.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := db.PingContext(ctx); err != nil {
		return fail(err)
	}
	st, err := sqlstore.New(db, d)
	if err != nil {
		return fail(err)
	}
	// Applying the schema at start-up suits one example; a real deployment
	// migrates at deploy time. Running it again is safe.
	if err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	users, err := newSQLUsers(ctx, db, d)
	if err != nil {
		return fail(err)
	}
	return &storage{store: st, users: users, where: where, close: db.Close}, nil
}

func openRedis(ctx context.Context, spec string) (*storage, error) {
	opts, err := redis.ParseURL(spec)
	if err != nil {
		return nil, fmt.Errorf("-store: %w", err)
	}
	where := "Redis " + opts.Addr
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	st, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &storage{store: st, users: &redisUsers{rdb: client, prefix: "mfa-example:"}, where: where, close: client.Close}, nil
}

// redact drops the password from a URL, for messages.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
