package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/mfakit/mfa/store/sqlstore"
)

// CurrentSchemaVersion reads 0 before the first migration and the code's
// version after it, and creates nothing itself.
func TestCurrentSchemaVersion(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // reading twice creates nothing in between
		if v, err := s.CurrentSchemaVersion(ctx); err != nil || v != 0 {
			t.Fatalf("before Migrate: %d, %v", v, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := s.CurrentSchemaVersion(ctx); err != nil || v != s.SchemaVersion() || v == 0 {
		t.Fatalf("after Migrate: %d, %v; want %d", v, err, s.SchemaVersion())
	}
}
