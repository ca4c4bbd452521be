package main

// Where the app keeps its state: the mfa store (factors, counters,
// challenges, sessions) and the users, side by side in one database.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL: sql.Open("pgx", ...)
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	_ "modernc.org/sqlite" // SQLite, pure Go: sql.Open("sqlite", ...)

	"github.com/mfakit/mfa/internal/urlsecret"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/mongostore"
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

// target is a parsed -store: what to open, and how to name it for people.
type target struct {
	memory  bool
	driver  string // sql.Open's driver; "" for Redis
	dsn     string
	dialect sqlstore.Dialect
	redis   *redis.Options
	mongo   string // a mongodb:// URL
	mongoDB string // the database, from mongo's path or defaultMongoDB
	where   string
}

// defaultMongoDB is the database of a mongodb:// URL without one.
const defaultMongoDB = "mfa_example"

// mongoDBName is what this example accepts as a MongoDB database name:
// MongoDB itself refuses / \ . " $ and spaces in one, and 64 bytes.
var mongoDBName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)

// parseStore checks the state named by spec, opening nothing: "" for the
// SQLite file at dbPath, "memory", or a postgres://, mysql://, redis:// or
// mongodb:// URL. Errors never show a password.
func parseStore(spec, dbPath string) (target, error) {
	t, err := parseTarget(spec, dbPath)
	// The parsers' messages do not mean to show a password, but some
	// quote what they could not read, and they do not all find the
	// password in the same place.
	if err != nil && urlsecret.Quoted(spec, err.Error()) {
		err = fmt.Errorf("-store %s: not a URL this example can use (the parser's message is left out: it quotes the URL)", redact(spec))
	}
	if err == nil && urlsecret.Quoted(spec, t.where) {
		t.where = redact(spec)
	}
	return t, err
}

// parseTarget is parseStore without the check of its messages.
func parseTarget(spec, dbPath string) (target, error) {
	switch {
	case spec == "memory":
		return target{memory: true, where: "memory (lost when the process exits)"}, nil
	case spec == "":
		// A busy timeout makes concurrent writers queue instead of failing
		// with SQLITE_BUSY; WAL lets readers proceed during a write.
		dsn := "file:" + dbPath + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		return target{driver: "sqlite", dsn: dsn, dialect: sqlstore.SQLite, where: "SQLite file " + dbPath}, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		// pgx's own parser, whose errors redact the password.
		cfg, err := pgx.ParseConfig(spec)
		if err != nil {
			return target{}, fmt.Errorf("-store: %w", err)
		}
		// Named from what pgx read: a URL that net/url reads otherwise
		// (a '#' before the password) would show the password redacted.
		where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
		return target{driver: "pgx", dsn: spec, dialect: sqlstore.Postgres, where: where}, nil
	case strings.HasPrefix(spec, "mysql://"):
		// The driver takes user:pass@tcp(host:port)/db?..., without a scheme.
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return target{}, fmt.Errorf("-store: %w", err)
		}
		cfg.ParseTime = true
		return target{driver: "mysql", dsn: cfg.FormatDSN(), dialect: sqlstore.MySQL, where: "MySQL " + cfg.Addr + "/" + cfg.DBName}, nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		opts, err := redis.ParseURL(spec)
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		if err != nil {
			return target{}, fmt.Errorf("-store: %w", err)
		}
		return target{redis: opts, where: "Redis " + opts.Addr}, nil
	case strings.HasPrefix(spec, "mongodb://"), strings.HasPrefix(spec, "mongodb+srv://"):
		// The driver's own parser (it looks up the hosts of a
		// mongodb+srv:// URL in DNS); its errors never show the password.
		cs, err := connstring.ParseAndValidate(spec)
		if err != nil {
			return target{}, fmt.Errorf("-store: %w", err)
		}
		db := cs.Database
		if db == "" {
			db = defaultMongoDB
		}
		if !mongoDBName.MatchString(db) {
			return target{}, fmt.Errorf("-store: MongoDB database %q: want letters, digits, '_' and '-', at most 63 bytes", db)
		}
		return target{mongo: spec, mongoDB: db, where: "MongoDB " + strings.Join(cs.Hosts, ",") + "/" + db}, nil
	}
	return target{}, fmt.Errorf("-store %q: want memory, or a postgres://, mysql://, redis:// or mongodb:// URL", redact(spec))
}

// openStorage opens the state named by spec (see parseStore). SQL
// databases are migrated (the mfa tables and example_users); MongoDB gets
// its indexes (the mfa collections' and example_users').
func openStorage(ctx context.Context, spec, dbPath string) (*storage, error) {
	t, err := parseStore(spec, dbPath)
	switch {
	case err != nil:
		return nil, err
	case t.memory:
		return &storage{store: memstore.New(), users: newMemUsers(), where: t.where, close: func() error { return nil }}, nil
	case t.redis != nil:
		return openRedis(ctx, t.redis, t.where)
	case t.mongo != "":
		return openMongo(ctx, t.mongo, t.mongoDB, t.where)
	}
	return openSQL(ctx, t.driver, t.dsn, t.dialect, t.where)
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

func openRedis(ctx context.Context, opts *redis.Options, where string) (*storage, error) {
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

func openMongo(ctx context.Context, uri, dbName, where string) (*storage, error) {
	// Connect checks the options and starts connecting in the background.
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	closeClient := func() error { return client.Disconnect(context.Background()) }
	fail := func(err error) (*storage, error) {
		closeClient()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		return fail(err)
	}
	db := client.Database(dbName)
	st, err := mongostore.New(mongostore.Config{Database: db})
	if err != nil {
		return fail(err)
	}
	// Like the SQL schema: created at start-up for one example, at deploy
	// time in a real deployment. Running it again is safe.
	if err := st.EnsureIndexes(ctx); err != nil {
		return fail(err)
	}
	users, err := newMongoUsers(ctx, db)
	if err != nil {
		return fail(err)
	}
	return &storage{store: st, users: users, where: where, close: closeClient}, nil
}

// redact is spec for messages: only its scheme when it has an '@', which
// a password, wherever a parser finds it, comes before.
func redact(spec string) string {
	if !strings.Contains(spec, "@") {
		return spec
	}
	scheme, _, ok := strings.Cut(spec, "://")
	if !ok || strings.ContainsAny(scheme, "@:/") {
		return "(a URL)"
	}
	return scheme + "://..."
}
