package sqlstore

import (
	"context"
	"database/sql"
)

// CurrentSchemaVersion reads the database's schema version without
// changing anything: 0 when the tables were never created. Compare it with
// [Store.SchemaVersion] to see whether [Store.Migrate] has work to do, or
// whether the database is newer than this code.
func (s *Store) CurrentSchemaVersion(ctx context.Context) (int, error) {
	var exists string
	switch s.d {
	case Postgres:
		exists = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	case MySQL:
		exists = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	default:
		exists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.sql(exists), s.prefix+"schema_version").Scan(&n); err != nil {
		return 0, wrapErr("schema version", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.sql("SELECT MAX(version) FROM {p}schema_version")).Scan(&v); err != nil {
		return 0, wrapErr("schema version", err)
	}
	return int(v.Int64), nil
}
