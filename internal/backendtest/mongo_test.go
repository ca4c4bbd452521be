package backendtest_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store/mongostore"
)

// envMongo names the MongoDB server (FerretDB in CI) of the "mongo"
// backend, e.g. mongodb://127.0.0.1:27018/.
const envMongo = "MFA_TEST_MONGO_URL"

func openMongo(tb testing.TB) opened { return mongoStore(tb, false) }

// mongoClientOptions are the client settings of every mongo store here:
// one server, polled rarely, so that through a counting proxy the only
// traffic after the first operations is the store's own.
func mongoClientOptions(u string) *options.ClientOptions {
	return options.Client().ApplyURI(u).SetDirect(true).
		SetServerMonitoringMode(options.ServerMonitoringModePoll).SetHeartbeatInterval(time.Hour)
}

// mongoStore opens a store in a fresh database (mfa_bt_<random>); with
// viaWire its connections pass through a round-trip counting proxy
// (opened.wire).
func mongoStore(tb testing.TB, viaWire bool) opened {
	raw := os.Getenv(envMongo)
	if raw == "" {
		skipUnset(tb, envMongo, "a MongoDB URL (mongodb://host:27017/)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "mongodb" || u.Host == "" {
		tb.Fatalf("%s must be a mongodb:// URL with one host: %q", envMongo, raw)
	}
	admin, err := mongo.Connect(mongoClientOptions(raw))
	if err != nil {
		tb.Fatalf("%s: %v", envMongo, err)
	}
	tb.Cleanup(func() { _ = admin.Disconnect(context.Background()) })
	ping(tb, envMongo, func(ctx context.Context) error { return admin.Ping(ctx, nil) })
	name := randName("mfa_bt_")
	tb.Cleanup(func() {
		if err := admin.Database(name).Drop(context.Background()); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	client := admin
	var w wireCount
	if viaWire {
		pw := newWire(tb, u.Host)
		w = pw
		pu := *u
		pu.Host = pw.Addr()
		client, err = mongo.Connect(mongoClientOptions(pu.String()))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	}
	s, err := mongostore.New(mongostore.Config{Database: client.Database(name)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		tb.Fatal(err)
	}
	dump := func(tb testing.TB, _ []string) []blob { return dumpDatabase(tb, admin.Database(name)) }
	return opened{concerns: s, dump: dump, wire: w, spec: spec{Backend: "mongo", Addr: raw, Prefix: name}}
}

// reopenMongo opens, in a helper process, the store mongoStore made.
func reopenMongo(sp spec) (mfa.Store, func(), error) {
	c, err := mongo.Connect(mongoClientOptions(sp.Addr))
	if err != nil {
		return nil, nil, err
	}
	s, err := mongostore.New(mongostore.Config{Database: c.Database(sp.Prefix)})
	return s, func() { _ = c.Disconnect(context.Background()) }, err
}

// dumpDatabase reads every document of every collection of db, as the
// BSON the server returns, with the names of its collections.
func dumpDatabase(tb testing.TB, db *mongo.Database) []blob {
	tb.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatal("no collections found")
	}
	var out []blob
	for _, name := range names {
		out = append(out, blob{"collection name", []byte(name)})
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			tb.Fatalf("read %s: %v", name, err)
		}
		n := 0
		for cur.Next(ctx) {
			out = append(out, blob{fmt.Sprintf("%s document %d", name, n), append([]byte(nil), cur.Current...)})
			n++
		}
		if err := cur.Err(); err != nil {
			tb.Fatal(err)
		}
		cur.Close(ctx)
	}
	return out
}
