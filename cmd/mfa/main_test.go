package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/mongostore"
	"github.com/mfakit/mfa/store/sqlstore"
	"github.com/mfakit/mfa/totp"
)

// result is one run of the CLI.
type result struct {
	code     int
	out, err string
}

// mfaRun runs the CLI in process with the environment vars.
func mfaRun(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return vars[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func (r result) want(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.out, r.err)
	}
	for _, s := range contains {
		if !strings.Contains(r.out+r.err, s) {
			t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", s, r.out, r.err)
		}
	}
}

func randHex() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyLines parses the output of `mfa keys new`.
func keyLines(t *testing.T, r result) (seal, hash string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "MFA_SEAL_KEYS":
			seal = v
		case "MFA_HASH_KEYS":
			hash = v
		}
	}
	if seal == "" || hash == "" {
		t.Fatalf("keys new printed %q", r.out)
	}
	return seal, hash
}

// serverEnv returns the test server that env names. When env is unset t
// is skipped, with one line, or fails under MFA_TEST_REQUIRE_SERVERS (as
// CI sets it).
func serverEnv(t *testing.T, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		msg := "set " + env + " to run the CLI against " + what
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	return v
}

// backend is a store the CLI is run against end to end.
type backend struct {
	url, prefix string
	// versioned: the store keeps a schema version, and commands other
	// than migrate refuse it until migrate has run.
	versioned bool
	// open opens the same store for the library's own writes, after
	// migrate.
	open func(t *testing.T) mfa.Store
	// migrated checks what migrate did; nil: nothing to check.
	migrated func(t *testing.T)
	// newer marks the store as migrated by a newer release; nil when it
	// keeps no schema version.
	newer func(t *testing.T)
}

// sqlBackend is a SQL database, with the tables under prefix.
func sqlBackend(url, prefix string, db *sql.DB, d sqlstore.Dialect) backend {
	return backend{
		url: url, prefix: prefix, versioned: true,
		open: func(t *testing.T) mfa.Store {
			st, err := sqlstore.NewWithOptions(db, d, sqlstore.Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		newer: func(t *testing.T) {
			p := prefix
			if p == "" {
				p = sqlstore.DefaultPrefix
			}
			if _, err := db.Exec("INSERT INTO " + p + "schema_version (version, applied_us) VALUES (999, 0)"); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestSQLite, TestPostgres and TestMongo run every command end to end
// against a real database, the way an operator's script would.
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfa.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	endToEnd(t, sqlBackend("sqlite:"+path, "", db, sqlstore.SQLite))
}

func TestPostgres(t *testing.T) {
	dsn := serverEnv(t, "MFA_TEST_POSTGRES_DSN", "PostgreSQL")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("MFA_TEST_POSTGRES_DSN does not answer: %v", err)
	}
	prefix := "mfa_cli_" + randHex() + "_"
	t.Cleanup(func() {
		rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE $1", prefix+"%")
		if err == nil {
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, `"`+n+`"`)
			}
			rows.Close()
			if len(names) > 0 {
				db.Exec("DROP TABLE " + strings.Join(names, ", "))
			}
		}
		db.Close()
	})
	endToEnd(t, sqlBackend(dsn, prefix, db, sqlstore.Postgres))
}

// TestMongo runs the CLI against MFA_TEST_MONGO_URL (e.g.
// mongodb://127.0.0.1:27018/, FerretDB in CI), in a fresh database
// dropped at the end, with a collection prefix of its own.
func TestMongo(t *testing.T) {
	raw := serverEnv(t, "MFA_TEST_MONGO_URL", "MongoDB")
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		t.Fatalf("MFA_TEST_MONGO_URL is not a mongodb:// URL: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("MFA_TEST_MONGO_URL does not answer: %v", err)
	}
	name := "mfa_cli_" + randHex()
	db := client.Database(name)
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		client.Disconnect(context.Background())
	})
	u.Path = "/" + name
	const prefix = "cli_"
	st, err := mongostore.New(mongostore.Config{Database: db, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var made int
	endToEnd(t, backend{
		url: u.String(), prefix: prefix,
		open: func(t *testing.T) mfa.Store { return st },
		migrated: func(t *testing.T) {
			// migrate made every index the store asks for: asking again
			// adds none.
			made = mongoIndexes(t, db, prefix)
			if made == 0 {
				t.Fatal("migrate made no index")
			}
			if err := st.EnsureIndexes(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := mongoIndexes(t, db, prefix); n != made {
				t.Fatalf("migrate made %d indexes, the store wants %d", made, n)
			}
		},
	})
	if mongoIndexes(t, db, prefix) != made {
		t.Fatal("the indexes changed after migrate")
	}
}

// mongoIndexes counts the indexes, beyond _id's, of the collections in db
// whose names start with prefix.
func mongoIndexes(t *testing.T, db *mongo.Database, prefix string) int {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range names {
		if !strings.HasPrefix(c, prefix) {
			continue
		}
		specs, err := db.Collection(c).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range specs {
			if s.Name != "_id_" {
				n++
			}
		}
	}
	return n
}

func endToEnd(t *testing.T, b backend) {
	ctx := context.Background()
	vars := map[string]string{"MFA_STORE_URL": b.url, "MFA_STORE_PREFIX": b.prefix}
	r := mfaRun(t, nil, "keys", "new", "-id", "k1")
	r.want(t, exitOK)
	seal1, hash1 := keyLines(t, r)

	if b.versioned {
		// Not migrated: every command but migrate refuses, with exit 3.
		mfaRun(t, vars, "migrate", "-status").want(t, exitSchema, "schema version 0")
		mfaRun(t, vars, "factors", "alice").want(t, exitSchema, "run mfa migrate first")
		mfaRun(t, vars, "migrate").want(t, exitOK, "migrated to version")
	} else {
		// No schema version to report; a store without its indexes
		// still answers.
		mfaRun(t, vars, "migrate", "-status").want(t, exitOK, "no schema version")
		mfaRun(t, vars, "factors", "alice").want(t, exitOK, "0 factors")
		mfaRun(t, vars, "migrate").want(t, exitOK, "made the store's indexes")
	}
	if b.migrated != nil {
		b.migrated(t)
	}
	mfaRun(t, vars, "migrate").want(t, exitOK)
	mfaRun(t, vars, "migrate", "-status").want(t, exitOK)

	// Data written by the library with key k1: a TOTP factor, backup
	// codes, two failures.
	st := b.open(t)
	sk, _ := mfa.ParseKeys(seal1)
	hk, _ := mfa.ParseHashKeys(hash1)
	clk := testkit.NewClock(testkit.T0)
	newV := func(seal []mfa.Key) *mfa.Verifier {
		kr, err := mfa.NewKeyring(seal[0], seal[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		tf, _ := totp.New(totp.Config{Issuer: "x"})
		v, err := mfa.New(mfa.Config{Store: st, Factors: []mfa.Factor{tf}, Sealer: kr, HashKeys: hk, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := newV(sk)
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindTOTP})
	if err != nil {
		t.Fatal(err)
	}
	secret := en.Show.(*totp.Setup).Secret
	if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clk.Step()
		v.Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: "000000x"})
	}

	r = mfaRun(t, vars, "factors", "alice")
	r.want(t, exitOK, en.FactorID, "totp", "active", "2 consecutive failures")
	if strings.Contains(r.out, secret) {
		t.Fatal("factors printed the seed")
	}
	mfaRun(t, vars, "factors", "-json", "alice").want(t, exitOK, `"factors":[{`)
	mfaRun(t, vars, "factors", "nobody").want(t, exitOK, "0 factors")
	mfaRun(t, vars, "unlock", "alice").want(t, exitOK, "2 consecutive failures")
	mfaRun(t, vars, "factors", "alice").want(t, exitOK, "0 consecutive failures")

	// Rotate: k2 first, k1 kept; reseal; then k1 can go.
	seal2, _ := keyLines(t, mfaRun(t, nil, "keys", "new", "-id", "k2"))
	vars["MFA_SEAL_KEYS"] = seal2 + "," + seal1
	mfaRun(t, vars, "reseal", "-batch", "1").want(t, exitOK, "re-sealed 1,")
	mfaRun(t, vars, "reseal").want(t, exitOK, "re-sealed 0,")
	k2, _ := mfa.ParseKeys(seal2)
	clk.Step()
	if _, err := newV(k2).Verify(ctx, mfa.VerifyRequest{UserID: "alice", FactorID: en.FactorID, Response: testkit.TOTPCode(t, secret, clk.Now())}); err != nil {
		t.Fatalf("after reseal, with k1 retired: %v", err)
	}
	// Keys that open nothing: every secret is left alone, exit 4.
	seal3, _ := keyLines(t, mfaRun(t, nil, "keys", "new", "-id", "k3"))
	vars["MFA_SEAL_KEYS"] = seal3
	mfaRun(t, vars, "reseal").want(t, exitPartial, "failed 1")
	mfaRun(t, vars, "sweep").want(t, exitOK, "swept")

	// A store migrated by a newer release: refused, exit 3.
	if b.newer != nil {
		b.newer(t)
		mfaRun(t, vars, "migrate").want(t, exitSchema, "newer than this tool")
		mfaRun(t, vars, "unlock", "alice").want(t, exitSchema, "newer than this tool")
	}
}

// What an operator can get wrong: exit 2 for usage, 1 for a store that
// does not answer, and never a password in the output.
func TestBadInput(t *testing.T) {
	missing := "sqlite:" + filepath.Join(t.TempDir(), "none.db")
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		says string
	}{
		{"no command", nil, nil, exitUsage, "Usage: mfa COMMAND"},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", nil, []string{"sweep", "-nope"}, exitUsage, "flag provided but not defined"},
		{"no store", nil, []string{"sweep"}, exitUsage, "no store"},
		{"unknown scheme", nil, []string{"sweep", "-store", "ftp://x"}, exitUsage, "unknown store URL scheme"},
		{"bad postgres URL", nil, []string{"sweep", "-store", "postgres://u:hunter2@[::1"}, exitUsage, "mfa sweep"},
		{"postgres not answering", nil, []string{"sweep", "-store", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5"}, exitFailed, "PostgreSQL 127.0.0.1:1/db"},
		{"redis URL read two ways", nil, []string{"sweep", "-store", "redis:///:hunter2@0"}, exitUsage, "the store URL"},
		{"redis not answering", nil, []string{"sweep", "-store", "redis://:hunter2@127.0.0.1:1/0"}, exitFailed, "Redis 127.0.0.1:1"},
		{"bad mongodb URL", nil, []string{"sweep", "-store", "mongodb://u:hunter2@127.0.0.1:bad/db"}, exitUsage, "mfa sweep"},
		{"bad mongodb option", nil, []string{"sweep", "-store", "mongodb://u:hunter2@127.0.0.1/db?authMechanism=nope"}, exitUsage, "auth mechanism"},
		{"mongodb URL without a database", nil, []string{"sweep", "-store", "mongodb://u:hunter2@127.0.0.1:1/"}, exitUsage, "no database"},
		{"bad mongodb database", nil, []string{"sweep", "-store", "mongodb://127.0.0.1:1/a.b"}, exitUsage, "MongoDB database"},
		{"bad mongodb prefix", nil, []string{"sweep", "-store", "mongodb://127.0.0.1:1/db", "-prefix", "Bad-Prefix"}, exitUsage, "prefix"},
		{"mongodb not answering", nil, []string{"unlock", "-store", "mongodb://u:hunter2@127.0.0.1:1/db?serverSelectionTimeoutMS=300&connectTimeoutMS=300", "alice"}, exitFailed, "MongoDB 127.0.0.1:1/db"},
		{"bad prefix", nil, []string{"sweep", "-store", missing, "-prefix", "Bad-Prefix"}, exitUsage, "prefix"},
		{"missing SQLite file", nil, []string{"sweep", "-store", missing}, exitFailed, "SQLite"},
		{"unlock without user", nil, []string{"unlock", "-store", missing}, exitUsage, "USER"},
		{"factors with two users", nil, []string{"factors", "-store", missing, "a", "b"}, exitUsage, "USER"},
		{"reseal without keys", nil, []string{"reseal", "-store", missing}, exitUsage, "-seal-keys"},
		{"reseal with bad keys", map[string]string{"MFA_SEAL_KEYS": "k1:hunter2!!"}, []string{"reseal", "-store", missing}, exitUsage, "-seal-keys"},
		{"keys without new", nil, []string{"keys"}, exitUsage, "keys new"},
		{"keys with a bad ID", nil, []string{"keys", "new", "-id", "a,b"}, exitUsage, "ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mfaRun(t, tc.vars, tc.args...)
			r.want(t, tc.code, tc.says)
			if strings.Contains(r.out+r.err, "hunter2") {
				t.Fatalf("output shows a secret: %s%s", r.out, r.err)
			}
		})
	}
}

// Every command answers -h and --help on stdout with exit 0.
func TestHelp(t *testing.T) {
	mfaRun(t, nil, "--help").want(t, exitOK, "Exit codes")
	mfaRun(t, nil, "help", "reseal").want(t, exitOK, "Usage: mfa reseal")
	for _, c := range commands {
		for _, h := range []string{"-h", "--help"} {
			args := []string{c.name, h}
			if c.name == "keys" {
				args = []string{"keys", "new", h}
			}
			r := mfaRun(t, nil, args...)
			r.want(t, exitOK, "Usage: mfa "+c.name)
			if r.out == "" {
				t.Fatalf("%s %s: help not on stdout", c.name, h)
			}
		}
	}
}
