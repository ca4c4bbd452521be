package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store/sqlstore"
)

// user is an account of the example: a name and a bcrypt password hash.
// Everything about its second factors lives in the mfa store, keyed by ID.
type user struct {
	ID           string
	Name         string
	PasswordHash []byte
}

var (
	errUserExists = errors.New("username already taken")
	errNoUser     = errors.New("no such user")
)

// userStore keeps accounts: in a map (memUsers), in the SQL database next
// to the mfa tables (sqlUsers), in Redis (redisUsers) or in MongoDB
// (mongoUsers). The handlers know nothing else about it.
type userStore interface {
	// create stores a new user with a fresh ID; errUserExists when the
	// name is taken.
	create(ctx context.Context, name string, passwordHash []byte) (user, error)
	// byName and byID return errNoUser when there is no such user.
	byName(ctx context.Context, name string) (user, error)
	byID(ctx context.Context, id string) (user, error)
}

// memUsers is a userStore in a map: lost when the process exits.
type memUsers struct {
	mu    sync.Mutex
	users map[string]user   // ID -> user
	names map[string]string // name -> ID
}

func newMemUsers() *memUsers {
	return &memUsers{users: map[string]user{}, names: map[string]string{}}
}

func (m *memUsers) create(_ context.Context, name string, hash []byte) (user, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.names[name]; taken {
		return user{}, errUserExists
	}
	u := user{ID: "u-" + rand.Text(), Name: name, PasswordHash: append([]byte(nil), hash...)}
	m.users[u.ID] = u
	m.names[name] = u.ID
	return u, nil
}

func (m *memUsers) byName(_ context.Context, name string) (user, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.names[name]
	if !ok {
		return user{}, errNoUser
	}
	return m.users[id], nil
}

func (m *memUsers) byID(_ context.Context, id string) (user, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return user{}, errNoUser
	}
	return u, nil
}

// sqlUsers keeps users in example_users, in the database that holds the
// mfa tables.
type sqlUsers struct {
	db       *sql.DB
	postgres bool // $1 placeholders instead of ?
}

// newSQLUsers creates example_users when it does not exist. The statement
// is valid in PostgreSQL, MySQL and SQLite alike; a bcrypt hash is 60 ASCII
// bytes.
func newSQLUsers(ctx context.Context, db *sql.DB, d sqlstore.Dialect) (*sqlUsers, error) {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS example_users (
	id            VARCHAR(64)  NOT NULL PRIMARY KEY,
	name          VARCHAR(64)  NOT NULL UNIQUE,
	password_hash VARCHAR(128) NOT NULL
)`)
	if err != nil {
		return nil, fmt.Errorf("creating example_users: %w", err)
	}
	return &sqlUsers{db: db, postgres: d == sqlstore.Postgres}, nil
}

// q rewrites ? placeholders as $1, $2, ... for PostgreSQL.
func (s *sqlUsers) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *sqlUsers) create(ctx context.Context, name string, hash []byte) (user, error) {
	u := user{ID: "u-" + rand.Text(), Name: name, PasswordHash: append([]byte(nil), hash...)}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO example_users (id, name, password_hash) VALUES (?, ?, ?)`),
		u.ID, u.Name, string(u.PasswordHash))
	if err != nil {
		// The UNIQUE constraint refused it, if the name is there now; each
		// driver words that differently, so ask.
		if _, lookup := s.byName(ctx, name); lookup == nil {
			return user{}, errUserExists
		}
		return user{}, err
	}
	return u, nil
}

func (s *sqlUsers) byName(ctx context.Context, name string) (user, error) {
	return s.one(ctx, `SELECT id, name, password_hash FROM example_users WHERE name = ?`, name)
}

func (s *sqlUsers) byID(ctx context.Context, id string) (user, error) {
	return s.one(ctx, `SELECT id, name, password_hash FROM example_users WHERE id = ?`, id)
}

func (s *sqlUsers) one(ctx context.Context, query, arg string) (user, error) {
	var u user
	var hash string
	err := s.db.QueryRowContext(ctx, s.q(query), arg).Scan(&u.ID, &u.Name, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return user{}, errNoUser
	}
	if err != nil {
		return user{}, err
	}
	u.PasswordHash = []byte(hash)
	return u, nil
}

// redisUsers keeps each user in a hash <prefix>user:<id> (name,
// password_hash), and the names in one hash <prefix>usernames (name -> id).
type redisUsers struct {
	rdb    redis.UniversalClient
	prefix string
}

func (s *redisUsers) create(ctx context.Context, name string, hash []byte) (user, error) {
	u := user{ID: "u-" + rand.Text(), Name: name, PasswordHash: append([]byte(nil), hash...)}
	// The user first, then the name: a name never points at nothing.
	key := s.prefix + "user:" + u.ID
	if err := s.rdb.HSet(ctx, key, "name", u.Name, "password_hash", string(u.PasswordHash)).Err(); err != nil {
		return user{}, err
	}
	claimed, err := s.rdb.HSetNX(ctx, s.prefix+"usernames", name, u.ID).Result()
	if err != nil || !claimed {
		s.rdb.Del(context.WithoutCancel(ctx), key)
		if err != nil {
			return user{}, err
		}
		return user{}, errUserExists
	}
	return u, nil
}

func (s *redisUsers) byName(ctx context.Context, name string) (user, error) {
	id, err := s.rdb.HGet(ctx, s.prefix+"usernames", name).Result()
	if errors.Is(err, redis.Nil) {
		return user{}, errNoUser
	}
	if err != nil {
		return user{}, err
	}
	return s.byID(ctx, id)
}

func (s *redisUsers) byID(ctx context.Context, id string) (user, error) {
	m, err := s.rdb.HGetAll(ctx, s.prefix+"user:"+id).Result()
	if err != nil {
		return user{}, err
	}
	if len(m) == 0 {
		return user{}, errNoUser
	}
	return user{ID: id, Name: m["name"], PasswordHash: []byte(m["password_hash"])}, nil
}

// mongoUsers keeps users in the collection example_users, next to the mfa
// collections: one document per user, {_id: ID, name, password_hash}. A
// unique index on name keeps names unique; like the other stores, names
// compare byte for byte.
type mongoUsers struct {
	c *mongo.Collection
}

// mongoUser is a document of example_users.
type mongoUser struct {
	ID           string `bson:"_id"`
	Name         string `bson:"name"`
	PasswordHash string `bson:"password_hash"`
}

// newMongoUsers creates the unique index on name when it does not exist.
func newMongoUsers(ctx context.Context, db *mongo.Database) (*mongoUsers, error) {
	c := db.Collection("example_users")
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "name", Value: 1}},
		Options: options.Index().SetName("name_unique").SetUnique(true),
	})
	if err != nil {
		return nil, fmt.Errorf("creating example_users' index: %w", err)
	}
	return &mongoUsers{c: c}, nil
}

func (s *mongoUsers) create(ctx context.Context, name string, hash []byte) (user, error) {
	u := user{ID: "u-" + rand.Text(), Name: name, PasswordHash: append([]byte(nil), hash...)}
	_, err := s.c.InsertOne(ctx, mongoUser{ID: u.ID, Name: u.Name, PasswordHash: string(u.PasswordHash)})
	if mongo.IsDuplicateKeyError(err) {
		// The _id is fresh and random: the name is what is taken.
		return user{}, errUserExists
	}
	if err != nil {
		return user{}, err
	}
	return u, nil
}

func (s *mongoUsers) byName(ctx context.Context, name string) (user, error) {
	return s.one(ctx, bson.D{{Key: "name", Value: name}})
}

func (s *mongoUsers) byID(ctx context.Context, id string) (user, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

// one returns the user filter matches; the values in filter are strings,
// so client input is never read as an operator.
func (s *mongoUsers) one(ctx context.Context, filter bson.D) (user, error) {
	var d mongoUser
	err := s.c.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return user{}, errNoUser
	}
	if err != nil {
		return user{}, err
	}
	return user{ID: d.ID, Name: d.Name, PasswordHash: []byte(d.PasswordHash)}, nil
}
