package mongostore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store"
)

// Config is the configuration of [New]. The zero value of every field
// is its safe default.
type Config struct {
	// Database holds the store's collections. Required.
	Database *mongo.Database
	// Prefix starts the name of every collection, so one database can
	// hold several independent stores: letters, digits and '_', at most
	// 32 bytes. Default "mfa_".
	Prefix string
	// TTL asks [Store.EnsureIndexes] for TTL indexes, which let a MongoDB
	// server delete expired challenges, devices and signals on its own, a
	// backstop behind [Store.Sweep]. Default false, because a server
	// without TTL indexes (FerretDB 1.x) refuses them. Nothing relies on
	// them: expiry is always decided by the caller's now.
	TTL bool
	// Grace is how long a superseded version of a record is kept before
	// [Store.Sweep] may remove it, and twice the longest a write may take
	// from its read to its insert before it is refused (see the package
	// documentation). It must exceed the clock skew between the machines
	// running the store. Default [DefaultGrace].
	Grace time.Duration
	// SweepBatch is the most records one delete of [Store.Sweep] names.
	// Default [DefaultSweepBatch].
	SweepBatch int
	// Now dates each version the store writes, only so that Sweep can
	// tell how long ago it was superseded; expiry never uses it. Default
	// time.Now.
	Now func() time.Time
}

// DefaultGrace is Config.Grace when it is zero.
const DefaultGrace = 10 * time.Minute

// DefaultSweepBatch is Config.SweepBatch when it is zero.
const DefaultSweepBatch = 500

// ErrSlow wraps the error of a write that took longer than half of
// Config.Grace from its read to its insert: the version it read may
// have been swept meanwhile, so the write is refused (fail closed). What
// it inserted may stand (when it was still the next version) or be a
// stray version behind the newest, which no reader takes for it.
var ErrSlow = errors.New("mfa: mongostore: write took longer than half the grace period")

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// Store keeps every concern of package store, and is a [store.Sweeper],
// in one MongoDB database. It is safe for concurrent use by many
// goroutines and processes. Create it with [New] and its indexes with
// [Store.EnsureIndexes].
type Store struct {
	// Every versioned record (factors, lookups, counters, sessions,
	// recovery cases) has its versions in vers and its head in head, so
	// that one query reads the heads of a verification's counters and
	// factor together.
	vers, head *mongo.Collection
	challenges *mongo.Collection
	devices    *mongo.Collection
	signals    *mongo.Collection

	recent recent

	ttl   bool
	grace time.Duration
	batch int
	now   func() time.Time
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Recovery   = (*Store)(nil)
	_ store.Resealable = (*Store)(nil)
	_ store.Signals    = (*Store)(nil)
	_ store.Sweeper    = (*Store)(nil)
)

// New returns a Store for cfg. It does not touch the server; call
// [Store.EnsureIndexes] once (at deploy time or start-up) before using it.
func New(cfg Config) (*Store, error) {
	if cfg.Database == nil {
		return nil, errors.New("mfa: mongostore: Config.Database is nil")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "mfa_"
	}
	if !prefixRE.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("mfa: mongostore: collection prefix %q: want letters, digits and '_', at most 32 bytes", cfg.Prefix)
	}
	switch {
	case cfg.SweepBatch < 0:
		return nil, fmt.Errorf("mfa: mongostore: SweepBatch %d is negative", cfg.SweepBatch)
	case cfg.SweepBatch == 0:
		cfg.SweepBatch = DefaultSweepBatch
	}
	switch {
	case cfg.Grace < 0:
		return nil, fmt.Errorf("mfa: mongostore: Grace %v is negative", cfg.Grace)
	case cfg.Grace == 0:
		cfg.Grace = DefaultGrace
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := func(name string) *mongo.Collection { return cfg.Database.Collection(cfg.Prefix + name) }
	return &Store{
		vers: c("versions"), head: c("heads"), challenges: c("challenges"), devices: c("devices"), signals: c("signals"),
		ttl: cfg.TTL, grace: cfg.Grace, batch: cfg.SweepBatch, now: cfg.Now,
	}, nil
}

// EnsureIndexes creates the indexes the store reads by; running it again
// is harmless. Every single-use operation rests on the uniqueness of _id
// alone; the one other unique index numbers the records of a signal list
// (see Observe), and must exist before Observe is called.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	type ix struct {
		c      *mongo.Collection
		keys   bson.D
		ttl    bool
		unique bool
	}
	list := []ix{
		{s.vers, bson.D{{Key: "k", Value: 1}, {Key: "v", Value: 1}}, false, false},
		{s.vers, bson.D{{Key: "t", Value: 1}}, false, false},
		{s.head, bson.D{{Key: "y", Value: 1}, {Key: "u", Value: 1}}, false, false},
		{s.head, bson.D{{Key: "x", Value: 1}}, false, false},
		{s.challenges, bson.D{{Key: "x", Value: 1}}, false, false},
		{s.devices, bson.D{{Key: "u", Value: 1}}, false, false},
		{s.devices, bson.D{{Key: "x", Value: 1}}, false, false},
		{s.signals, bson.D{{Key: "k", Value: 1}, {Key: "n", Value: 1}}, false, true},
		{s.signals, bson.D{{Key: "x", Value: 1}}, false, false},
	}
	if s.ttl {
		for _, c := range []*mongo.Collection{s.challenges, s.devices, s.signals} {
			list = append(list, ix{c, bson.D{{Key: "at", Value: 1}}, true, false})
		}
	}
	for _, i := range list {
		m := mongo.IndexModel{Keys: i.keys}
		if i.unique {
			m.Options = options.Index().SetUnique(true)
		}
		if i.ttl {
			m.Options = options.Index().SetExpireAfterSeconds(0)
		}
		if _, err := i.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("mfa: mongostore: create index on %s: %w", i.c.Name(), err)
		}
	}
	return nil
}

// ttlGrace is how long after a record's expiry (in the caller's time) a
// TTL index may delete it (in the server's time), so clocks that differ
// by less never lose a live record.
const ttlGrace = 10 * time.Minute

// ttlAt is the value of the "at" field a TTL index reads, or nil.
func (s *Store) ttlAt(expires time.Time) any {
	if !s.ttl || expires.IsZero() {
		return nil
	}
	return expires.Add(ttlGrace)
}

// key joins parts into one string that no other parts can produce: each
// is length-prefixed, as store.CounterKey.String does.
func key(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// Times are microseconds since the Unix epoch, UTC; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mfa: mongostore: %s: %w", op, err)
}

// orNil returns b, or nil for an empty slice, as stored.
func orNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// isDup reports whether err is only duplicate-key errors.
func isDup(err error) bool { return err != nil && mongo.IsDuplicateKeyError(err) }
