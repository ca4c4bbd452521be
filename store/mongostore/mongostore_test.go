package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa/store/mongostore"
	"github.com/mfakit/mfa/store/storetest"
)

// envURL names the MongoDB server the tests use, e.g.
// mongodb://127.0.0.1:27018/ (FerretDB in CI).
const envURL = "MFA_TEST_MONGO_URL"

// newDatabase returns a fresh database (mfa_test_mongo_<random>) on the
// test server, dropped when t ends. t is skipped when MFA_TEST_MONGO_URL
// is unset (it fails then under MFA_TEST_REQUIRE_SERVERS), and fails
// when it is set but the server does not answer.
func newDatabase(t testing.TB) *mongo.Database {
	t.Helper()
	url := os.Getenv(envURL)
	if url == "" {
		const msg = envURL + " is not set; set it to a MongoDB URL (e.g. mongodb://127.0.0.1:27018/) to run the MongoDB tests"
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(url))
	if err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("%s is set but the server does not answer: %v", envURL, err)
	}
	db := c.Database("mfa_test_mongo_" + hex.EncodeToString(randBytes(t, 6)))
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("drop database: %v", err)
		}
		_ = c.Disconnect(context.Background())
	})
	return db
}

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// newStore returns a store with its indexes in db.
func newStore(t testing.TB, db *mongo.Database, cfg mongostore.Config) *mongostore.Store {
	t.Helper()
	cfg.Database = db
	s, err := mongostore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	db := newDatabase(t)
	s := newStore(t, db, mongostore.Config{})
	storetest.Run(t, func(t *testing.T) any { return s })
}
