package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // sql.Open("pgx", ...)
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	_ "modernc.org/sqlite" // sql.Open("sqlite", ...), pure Go

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/urlsecret"
	"github.com/mfakit/mfa/store/mongostore"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

// quiet drops go-redis's own log lines; errors reach the operator through
// the command's message.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quiet{}) }

// storeFlags are the flags naming the store, defaulting to the
// environment.
type storeFlags struct {
	url, prefix *string
}

func addStoreFlags(fs *flag.FlagSet, e env) storeFlags {
	return storeFlags{
		url:    fs.String("store", e("MFA_STORE_URL"), "the store: sqlite:PATH, postgres://..., mysql://USER@tcp(HOST)/DB, redis://... or mongodb://HOST/DB (env MFA_STORE_URL)"),
		prefix: fs.String("prefix", e("MFA_STORE_PREFIX"), "table prefix (SQL), key prefix (Redis) or collection prefix (MongoDB); empty for the library's default (env MFA_STORE_PREFIX)"),
	}
}

// opened is an open store: SQL (sql set), MongoDB (mongo set) or Redis.
type opened struct {
	store mfa.Store
	sql   *sqlstore.Store
	mongo *mongostore.Store
	where string
	close func() error
}

// errUsage marks an error in what the operator typed (exit code 2).
var errUsage = errors.New("usage")

// openStore opens the store a command names, checking the URL before any
// connection. create allows a missing SQLite file to be made (migrate).
// Errors never show a password.
func openStore(ctx context.Context, f storeFlags, create bool) (*opened, error) {
	o, err := openURL(ctx, *f.url, *f.prefix, create)
	// The drivers' messages do not mean to show a password, but some quote
	// what they could not read, and they do not all find the password in
	// the same place.
	if err != nil && urlsecret.Quoted(*f.url, err.Error()) {
		const msg = "the store URL: the driver's message is left out, as it quotes the URL"
		if errors.Is(err, errUsage) {
			err = fmt.Errorf("%w: %s", errUsage, msg)
		} else {
			err = errors.New(msg)
		}
	}
	if err == nil && urlsecret.Quoted(*f.url, o.where) {
		o.where = "the store"
	}
	return o, err
}

// openURL is openStore on the URL and prefix, without the check of its
// messages.
func openURL(ctx context.Context, spec, prefix string, create bool) (*opened, error) {
	switch {
	case spec == "":
		return nil, fmt.Errorf("%w: no store: set -store or MFA_STORE_URL", errUsage)
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//")
		if path == "" || strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("%w: sqlite:PATH wants a file path", errUsage)
		}
		mode := "rw"
		if create {
			mode = "rwc"
		}
		dsn := "file:" + path + "?mode=" + mode + "&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		return openSQL(ctx, "sqlite", dsn, sqlstore.SQLite, prefix, "SQLite "+path)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		cfg, err := pgx.ParseConfig(spec) // its errors redact the password
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		return openSQL(ctx, "pgx", spec, sqlstore.Postgres, prefix, fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database))
	case strings.HasPrefix(spec, "mysql://"):
		cfg, err := mysql.ParseDSN(strings.TrimPrefix(spec, "mysql://"))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		cfg.ParseTime = true
		return openSQL(ctx, "mysql", cfg.FormatDSN(), sqlstore.MySQL, prefix, "MySQL "+cfg.Addr+"/"+cfg.DBName)
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		opts, err := redis.ParseURL(spec)
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		opts.MaxRetries = 1
		client := redis.NewClient(opts)
		st, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, fmt.Errorf("%s: %w", "Redis "+opts.Addr, err)
		}
		return &opened{store: st, where: "Redis " + opts.Addr, close: client.Close}, nil
	case strings.HasPrefix(spec, "mongodb://"), strings.HasPrefix(spec, "mongodb+srv://"):
		return openMongo(ctx, spec, prefix)
	}
	return nil, fmt.Errorf("%w: unknown store URL scheme: want sqlite:, postgres://, mysql://, redis:// or mongodb://", errUsage)
}

// mongoDBName is a database name MongoDB accepts (it refuses / \ . " $
// and spaces, and 64 bytes), narrowed to what is safe in a URL.
var mongoDBName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,63}$`)

// openMongo opens the store in the database named by the path of a
// mongodb:// URL, which an operator must give: no default database.
func openMongo(ctx context.Context, spec, prefix string) (*opened, error) {
	// The driver's parser (it looks up a mongodb+srv:// URL's hosts in
	// DNS); its errors never show the password.
	cs, err := connstring.ParseAndValidate(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if cs.Database == "" {
		return nil, fmt.Errorf("%w: the mongodb:// URL names no database: want mongodb://HOST[:PORT]/DB", errUsage)
	}
	if !mongoDBName.MatchString(cs.Database) {
		return nil, fmt.Errorf("%w: MongoDB database %q: want letters, digits, '_' and '-', at most 63 bytes", errUsage, cs.Database)
	}
	where := "MongoDB " + strings.Join(cs.Hosts, ",") + "/" + cs.Database
	// Connect checks the options and connects in the background.
	client, err := mongo.Connect(options.Client().ApplyURI(spec))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	closeClient := func() error { return client.Disconnect(context.Background()) }
	st, err := mongostore.New(mongostore.Config{Database: client.Database(cs.Database), Prefix: prefix})
	if err != nil {
		closeClient()
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		closeClient()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &opened{store: st, mongo: st, where: where, close: closeClient}, nil
}

func openSQL(ctx context.Context, driver, dsn string, d sqlstore.Dialect, prefix, where string) (*opened, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	db.SetMaxOpenConns(4)
	st, err := sqlstore.NewWithOptions(db, d, sqlstore.Options{Prefix: prefix})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &opened{store: st, sql: st, where: where, close: db.Close}, nil
}

// errSchema marks a store whose schema is not this tool's (exit code 3).
var errSchema = errors.New("schema")

// ready checks that a SQL store is at exactly this tool's schema version;
// Redis and MongoDB keep none.
func (o *opened) ready(ctx context.Context) error {
	if o.sql == nil {
		return nil
	}
	cur, err := o.sql.CurrentSchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch want := o.sql.SchemaVersion(); {
	case cur > want:
		return fmt.Errorf("%w: %s is at schema version %d, newer than this tool's %d: use a newer mfa", errSchema, o.where, cur, want)
	case cur < want:
		return fmt.Errorf("%w: %s is at schema version %d, this tool needs %d: run mfa migrate first", errSchema, o.where, cur, want)
	}
	return nil
}

// exitFor maps an error to the exit code a script sees.
func exitFor(err error) int {
	switch {
	case errors.Is(err, errUsage), errors.Is(err, mfa.ErrConfig), errors.Is(err, mfa.ErrInvalidInput):
		return exitUsage
	case errors.Is(err, errSchema), errors.Is(err, sqlstore.ErrSchemaTooNew):
		return exitSchema
	}
	return exitFailed
}

// message is err's text without the errUsage and errSchema markers.
func message(err error) string {
	s := err.Error()
	for _, p := range []string{"usage: ", "schema: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
