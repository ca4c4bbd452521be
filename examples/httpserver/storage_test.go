package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/internal/testkit"
)

// serverEnv returns the test server that env names. When env is unset t
// is skipped, with one line, or fails under MFA_TEST_REQUIRE_SERVERS (as
// CI sets it).
func serverEnv(t *testing.T, env, name string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		msg := env + " not set: the app on " + name + " is not tested"
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	return v
}

// mongoURL returns MFA_TEST_MONGO_URL (e.g. mongodb://127.0.0.1:27018/)
// with a fresh database in its path, dropped when t ends.
func mongoURL(t *testing.T) string {
	t.Helper()
	raw := serverEnv(t, "MFA_TEST_MONGO_URL", "MongoDB")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		t.Fatalf("MFA_TEST_MONGO_URL is not a mongodb:// URL: %v", err)
	}
	u.Path = "/" + strings.ReplaceAll(uniqueName("mfa_example_test"), "-", "_")
	db := strings.TrimPrefix(u.Path, "/")
	client, err := mongo.Connect(options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Database(db).Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", db, err)
		}
		client.Disconnect(ctx)
	})
	return u.String()
}

// serveStored serves the app as run opens it (storage, keys file) with the
// fake clock; stop closes the server and the storage.
func serveStored(t *testing.T, o cliOptions, c *testkit.Clock) (srv *httptest.Server, stop func()) {
	t.Helper()
	a, _, closeStorage, err := openApp(t.Context(), o, "http://localhost:8080", slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.now = c.Now
	a.bcryptCost = 4 // bcrypt.MinCost
	srv = httptest.NewServer(a.handler())
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			srv.Close()
			if err := closeStorage(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// uniqueName is a username no earlier run has taken in a shared database.
func uniqueName(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:10])
}

// TestRestartKeepsState: users, factors, sessions and keys survive a
// restart, on SQLite always and on the servers named by the environment.
func TestRestartKeepsState(t *testing.T) {
	for _, bk := range []struct{ name, env, scheme string }{
		{"SQLite", "", ""},
		{"PostgreSQL", "MFA_TEST_POSTGRES_DSN", ""}, // postgres://postgres@127.0.0.1:5432/test?sslmode=disable
		{"MySQL", "MFA_TEST_MYSQL_DSN", "mysql://"}, // root@tcp(127.0.0.1:3306)/test
		{"Redis", "MFA_TEST_REDIS_URL", ""},         // redis://127.0.0.1:6379/0
		{"MongoDB", "MFA_TEST_MONGO_URL", ""},       // mongodb://127.0.0.1:27018/, a fresh database in it
	} {
		t.Run(bk.name, func(t *testing.T) {
			dir := t.TempDir()
			o := cliOptions{db: filepath.Join(dir, "mfa.db"), keys: filepath.Join(dir, "mfa.keys")}
			switch bk.env {
			case "":
			case "MFA_TEST_MONGO_URL":
				o.store = mongoURL(t)
			default:
				o.store = bk.scheme + serverEnv(t, bk.env, bk.name)
			}
			c := testkit.NewClock(testkit.T0)
			name := uniqueName("restart")

			srv, stop := serveStored(t, o, c)
			b := newBrowser(t, srv)
			acc := signUp(t, b, c, name)
			stop()

			if bk.env == "" {
				if fi, err := os.Stat(o.keys); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("keys file: %v, %v", fi, err)
				}
				if _, err := os.Stat(o.db); err != nil {
					t.Fatal(err)
				}
			}

			srv, _ = serveStored(t, o, c)
			// The session outlives the restart: its refresh token is in the
			// store and the access token's key in the keys file.
			b.base = srv.URL
			b.get("/").must(t, http.StatusOK, "Your account", name)
			c.Add(6 * time.Minute) // and it refreshes
			b.get("/").must(t, http.StatusOK, "Your account", name)

			// A new sign-in: the password and the sealed TOTP seed are read back.
			c.Add(30 * time.Second)
			b2 := newBrowser(t, srv)
			b2.post("/signin", url.Values{"username": {name}, "password": {"wrong password"}}).
				must(t, http.StatusUnauthorized, "Wrong username or password.")
			b2.signIn(t, name).must(t, http.StatusOK, "Enter a code")
			b2.post("/signin/code", url.Values{"kind": {"totp"}, "code": {testkit.TOTPCode(t, acc.secret, c.Now())}}).
				must(t, http.StatusOK, "Your account", name)
			b2.signOut(t)
			b2.signIn(t, name)
			b2.post("/signin/code", url.Values{"kind": {"backup_codes"}, "code": {acc.codes[0]}}).
				must(t, http.StatusOK, "codes left: 9")
			// Usernames stay unique.
			newBrowser(t, srv).post("/signup", url.Values{"username": {name}, "password": {password}}).
				must(t, http.StatusUnprocessableEntity, "That username is taken.")
		})
	}
}

// TestKeysFile: created once with mode 0600, then read back; refused when
// others can read it or it is damaged.
func TestKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	k1, created, err := loadKeys(path)
	if err != nil || !created {
		t.Fatalf("first load: created %v, %v", created, err)
	}
	k2, created, err := loadKeys(path)
	if err != nil || created {
		t.Fatalf("second load: created %v, %v", created, err)
	}
	if k1.seal.ID != k2.seal.ID || string(k1.seal.Secret) != string(k2.seal.Secret) ||
		string(k1.hash) != string(k2.hash) || k1.signing.ID() != k2.signing.ID() {
		t.Fatal("the keys read back differ from those created")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadKeys(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable keys file: %v", err)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadKeys(path); err == nil {
		t.Fatal("an empty keys file was accepted")
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args            []string
		db, store, keys string
	}{
		{nil, "mfa-example.db", "", "mfa-example.keys"},
		{[]string{"-db", "/tmp/x/a.db"}, "/tmp/x/a.db", "", "/tmp/x/mfa-example.keys"},
		{[]string{"-store", "memory"}, "mfa-example.db", "memory", ""},
		{[]string{"-store", "memory", "-keys", "k"}, "mfa-example.db", "memory", "k"},
		{[]string{"-store", "redis://127.0.0.1:6379/0"}, "mfa-example.db", "redis://127.0.0.1:6379/0", "mfa-example.keys"},
		{[]string{"-store", "mongodb://127.0.0.1:27017/shop"}, "mfa-example.db", "mongodb://127.0.0.1:27017/shop", "mfa-example.keys"},
	} {
		o, err := parseFlags(tc.args, nil)
		if err != nil || o.db != tc.db || o.store != tc.store || o.keys != tc.keys {
			t.Errorf("parseFlags(%q) = %+v, %v", tc.args, o, err)
		}
	}
	// A -store or -url that cannot work is refused with the flags, before
	// anything is created.
	for _, args := range [][]string{
		{"-store", "ftp://x"}, {"-store", "sqlite"}, {"-store", "mysql://not a dsn"},
		{"-store", "redis://:bad:port"}, {"-store", "redis://:s3cret@host:bad/0"}, {"-store", "postgres://u:s3cret@[::1/db"},
		{"-store", "mongodb://u:s3cret@host:bad/db"}, {"-store", "mongodb://u:s3cret@[::1/db"}, {"-store", "mongodb://u:s3cret@/db"},
		{"-store", "mongodb://u:s3cret@host/db?authMechanism=nope"}, {"-store", "mongodb://host/bad.name"}, {"-store", "mongodb://host/a b"},
		{"-store", "mongodb://host/" + strings.Repeat("d", 64)}, {"-store", "mongodb:/host/db"},
		{"-url", "localhost:8080"}, {"-url", "ftp://localhost"}, {"-url", "http://"},
	} {
		_, err := parseFlags(args, io.Discard)
		if err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("parseFlags(%q): the error shows the password: %v", args, err)
		}
	}
}

func TestOpenStorageRefuses(t *testing.T) {
	for _, spec := range []string{"ftp://x", "sqlite", "mysql://not a dsn", "redis://:bad:port", "mongodb://host:bad/db"} {
		if st, err := openStorage(t.Context(), spec, ""); err == nil {
			st.close()
			t.Errorf("openStorage(%q): no error", spec)
		}
	}
	// A password never shows in the error.
	_, err := openStorage(t.Context(), "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=1", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable postgres: %v", err)
	}
	_, err = openStorage(t.Context(), "mongodb://u:s3cret@127.0.0.1:1/db?serverSelectionTimeoutMS=200&connectTimeoutMS=200", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "MongoDB 127.0.0.1:1/db") {
		t.Errorf("unreachable MongoDB: %v", err)
	}
}

// TestParseMongo: the database comes from the URL's path, mfa_example
// when it has none.
func TestParseMongo(t *testing.T) {
	for _, tc := range []struct{ spec, db, where string }{
		{"mongodb://127.0.0.1:27017", "mfa_example", "MongoDB 127.0.0.1:27017/mfa_example"},
		{"mongodb://127.0.0.1:27017/", "mfa_example", "MongoDB 127.0.0.1:27017/mfa_example"},
		{"mongodb://u:s3cret@a:1,b:2/shop-1?replicaSet=rs0", "shop-1", "MongoDB a:1,b:2/shop-1"},
	} {
		tg, err := parseStore(tc.spec, "")
		if err != nil || tg.mongo != tc.spec || tg.mongoDB != tc.db || tg.where != tc.where {
			t.Errorf("parseStore(%q) = %+v, %v", tc.spec, tg, err)
		}
	}
}

// TestMongoUsers: on MongoDB a username is taken once, even by
// concurrent sign-ups, and compares byte for byte; reopening keeps the
// users and the index.
func TestMongoUsers(t *testing.T) {
	spec := mongoURL(t)
	st, err := openStorage(t.Context(), spec, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	ctx := t.Context()

	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []user
		taken   int
	)
	for range n {
		wg.Go(func() {
			u, err := st.users.create(ctx, "alice", []byte("hash-of-alice"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created = append(created, u)
			case errors.Is(err, errUserExists):
				taken++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(created) != 1 || taken != n-1 {
		t.Fatalf("%d concurrent sign-ups as alice: %d created, %d refused as taken", n, len(created), taken)
	}
	alice := created[0]

	// Another case is another name, as in the other stores.
	if _, err := st.users.create(ctx, "Alice", []byte("hash-of-Alice")); err != nil {
		t.Fatalf("Alice next to alice: %v", err)
	}

	// Reopened: the users are there, and the index still refuses.
	st2, err := openStorage(ctx, spec, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	if u, err := st2.users.byName(ctx, "alice"); err != nil || u.ID != alice.ID || string(u.PasswordHash) != "hash-of-alice" {
		t.Fatalf("byName(alice) = %+v, %v", u, err)
	}
	if u, err := st2.users.byID(ctx, alice.ID); err != nil || u.Name != "alice" || string(u.PasswordHash) != "hash-of-alice" {
		t.Fatalf("byID = %+v, %v", u, err)
	}
	if _, err := st2.users.create(ctx, "alice", []byte("x")); !errors.Is(err, errUserExists) {
		t.Fatalf("alice again after reopening: %v", err)
	}
	for _, name := range []string{"nobody", "ALICE", "alice ", `{"$ne": ""}`, ""} {
		if u, err := st2.users.byName(ctx, name); !errors.Is(err, errNoUser) {
			t.Errorf("byName(%q) = %+v, %v; want errNoUser", name, u, err)
		}
	}
	for _, id := range []string{"u-none", "", alice.Name} {
		if u, err := st2.users.byID(ctx, id); !errors.Is(err, errNoUser) {
			t.Errorf("byID(%q) = %+v, %v; want errNoUser", id, u, err)
		}
	}
}

// FuzzParseStore: whatever follows the password in a -store URL,
// parseStore neither panics nor shows the password, in an error or in
// the name it gives the store.
func FuzzParseStore(f *testing.F) {
	for _, rest := range []string{
		"127.0.0.1:27017/db", "host:bad/db", "[::1/db", "/db", "h/a.b", "h/db?authMechanism=nope", "a:1,b:2/db?replicaSet=rs0",
		"127.0.0.1:5432/db?sslmode=disable", "tcp(127.0.0.1:3306)/db", "127.0.0.1:6379/0", "h:bad:port", "",
	} {
		for scheme := range byte(6) {
			f.Add(scheme, "u", rest)
		}
	}
	f.Add(byte(1), "#", "0") // net/url reads "#..." as a fragment, pgx as a user
	f.Add(byte(3), "/", "0") // go-redis quotes the "database number"
	const password = "pw7Secret"
	f.Fuzz(func(t *testing.T, scheme byte, user, rest string) {
		// mongodb+srv:// is left out: it looks its hosts up in DNS.
		schemes := []string{"mongodb://", "postgres://", "mysql://", "redis://", "ftp://", ""}
		spec := schemes[int(scheme)%len(schemes)] + user + ":" + password + "@" + rest
		tg, err := parseStore(spec, "mfa.db")
		if err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("parseStore(%q): the error shows the password: %v", spec, err)
		}
		if err == nil && strings.Contains(tg.where, password) {
			t.Fatalf("parseStore(%q): the store is named %q", spec, tg.where)
		}
	})
}
