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

// Options are the optional settings of [New].
type Options struct {
	// Prefix starts the name of every collection, so one database can
	// hold several independent stores: letters, digits and '_', at most
	// 32 bytes. Default "mfa_".
	Prefix string
	// NoTTL leaves out the TTL indexes that let the server delete expired
	// records on its own (a backstop behind [Store.Sweep]). Set it for a
	// server without TTL indexes, such as FerretDB 1.x.
	NoTTL bool
	// SweepBatch is the most records one delete of [Store.Sweep] removes.
	// Default [DefaultSweepBatch].
	SweepBatch int
}

// DefaultSweepBatch is the most records one delete of [Store.Sweep]
// removes when Options.SweepBatch is zero.
const DefaultSweepBatch = 500

// ttlGrace is how long after a record's expiry (in the caller's time) a
// TTL index may delete it (in the server's time), so clocks that differ
// by less never lose a live record.
const ttlGrace = 10 * time.Minute

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// Store keeps every concern of package store, and is a [store.Sweeper],
// in one MongoDB database. It is safe for concurrent use by many
// goroutines and processes. Create it with [New] and create its indexes
// with [Store.EnsureIndexes].
type Store struct {
	factors, lookups, counters, challenges, sessions, devices *mongo.Collection

	noTTL bool
	batch int
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Sweeper    = (*Store)(nil)
)

// New returns a Store in db. It does not touch the server; call
// [Store.EnsureIndexes] once (at deploy time or start-up) before using it.
func New(db *mongo.Database, o Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("mfa: mongostore: nil *mongo.Database")
	}
	if o.Prefix == "" {
		o.Prefix = "mfa_"
	}
	if !prefixRE.MatchString(o.Prefix) {
		return nil, fmt.Errorf("mfa: mongostore: collection prefix %q: want letters, digits and '_', at most 32 bytes", o.Prefix)
	}
	if o.SweepBatch < 0 {
		return nil, fmt.Errorf("mfa: mongostore: SweepBatch %d is negative", o.SweepBatch)
	}
	if o.SweepBatch == 0 {
		o.SweepBatch = DefaultSweepBatch
	}
	c := func(name string) *mongo.Collection { return db.Collection(o.Prefix + name) }
	return &Store{
		factors: c("factors"), lookups: c("lookups"), counters: c("counters"),
		challenges: c("challenges"), sessions: c("sessions"), devices: c("devices"),
		noTTL: o.NoTTL, batch: o.SweepBatch,
	}, nil
}

// EnsureIndexes creates the indexes the store relies on; running it again
// is harmless. Lookups need none beyond _id: every unique key is an _id.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	type ix struct {
		c    *mongo.Collection
		keys bson.D
		ttl  bool
	}
	list := []ix{
		{s.factors, bson.D{{Key: "u", Value: 1}, {Key: "c", Value: 1}}, false},
		{s.counters, bson.D{{Key: "x", Value: 1}}, false},
		{s.challenges, bson.D{{Key: "x", Value: 1}}, false},
		{s.sessions, bson.D{{Key: "u", Value: 1}, {Key: "c", Value: 1}}, false},
		{s.sessions, bson.D{{Key: "x", Value: 1}}, false},
		{s.sessions, bson.D{{Key: "ie", Value: 1}}, false},
		{s.devices, bson.D{{Key: "u", Value: 1}, {Key: "c", Value: 1}}, false},
		{s.devices, bson.D{{Key: "x", Value: 1}}, false},
	}
	if !s.noTTL {
		for _, c := range []*mongo.Collection{s.counters, s.challenges, s.sessions, s.devices} {
			list = append(list, ix{c, bson.D{{Key: "at", Value: 1}}, true})
		}
	}
	for _, i := range list {
		m := mongo.IndexModel{Keys: i.keys}
		if i.ttl {
			m.Options = options.Index().SetExpireAfterSeconds(0)
		}
		if _, err := i.c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("mfa: mongostore: create index on %s: %w", i.c.Name(), err)
		}
	}
	return nil
}

// key joins parts into one _id that no other parts can produce: each is
// length-prefixed, as store.CounterKey.String does.
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

// ttlAt is the instant a TTL index may delete a record expiring at
// expires (microseconds), or nil to keep it.
func (s *Store) ttlAt(expires int64) any {
	if s.noTTL || expires == 0 {
		return nil
	}
	return fromMicros(expires).Add(ttlGrace)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mfa: mongostore: %s: %w", op, err)
}

func sentinel(op string, err error) error {
	return fmt.Errorf("mfa: mongostore: %s: %w", op, err)
}

// orNil returns b, or nil for an empty slice, as stored.
func orNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
