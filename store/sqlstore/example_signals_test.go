package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// Keep the places a user signed in from during the last 30 days, at most
// 5, shared by every instance: each sign-in adds its place and reads the
// list in the same call.
func ExampleStore_Observe() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mfa-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "mfa.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	if err := s.Migrate(ctx); err != nil {
		panic(err)
	}

	now := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	signIn := func(place string) {
		lists, err := s.Observe(ctx, now, store.Sighting{
			Key:    "places:alice",
			Signal: store.Signal{Time: now, Expires: now.Add(30 * 24 * time.Hour), Data: []byte(place)},
			Keep:   5,
		})
		if err != nil {
			panic(err) // a monitor fails closed: treat the sign-in as unusual
		}
		var seen []string
		for _, r := range lists[0] {
			seen = append(seen, r.Time.Format("Jan 2 ")+string(r.Data))
		}
		fmt.Println(strings.Join(seen, ", "))
		now = now.Add(24 * time.Hour)
	}
	signIn("Lyon")
	signIn("Lyon")
	signIn("Osaka")
	now = now.Add(30 * 24 * time.Hour) // a month without signing in
	signIn("Lyon")
	// Output:
	// Jan 2 Lyon
	// Jan 2 Lyon, Jan 3 Lyon
	// Jan 2 Lyon, Jan 3 Lyon, Jan 4 Osaka
	// Feb 4 Lyon
}
