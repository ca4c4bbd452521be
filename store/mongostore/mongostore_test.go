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

// envURI names the MongoDB server the tests use, e.g.
// mongodb://127.0.0.1:27017/ (FerretDB in CI).
const envURI = "MFA_TEST_MONGODB_URI"

// newDatabase returns a fresh database on the test server, dropped when
// t ends; t is skipped when MFA_TEST_MONGODB_URI is unset and fails when
// it is set but the server does not answer.
func newDatabase(t testing.TB) *mongo.Database {
	t.Helper()
	uri := os.Getenv(envURI)
	if uri == "" {
		const msg = envURI + " is not set; set it to a MongoDB URI (e.g. mongodb://127.0.0.1:27017/) to run the MongoDB tests"
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("%s: %v", envURI, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("%s is set but the server cannot be reached: %v", envURI, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	db := c.Database("mfatest_" + hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("drop database: %v", err)
		}
		_ = c.Disconnect(context.Background())
	})
	return db
}

// newStore returns a store with its indexes in a fresh database.
func newStore(t testing.TB) *mongostore.Store {
	t.Helper()
	s, err := mongostore.New(newDatabase(t), mongostore.Options{NoTTL: os.Getenv("MFA_TEST_MONGODB_TTL") == ""})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	newDatabase(t) // skip the whole suite at once when unset
	storetest.Run(t, func(t *testing.T) any { return newStore(t) })
}
