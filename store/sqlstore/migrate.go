package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one numbered schema change.
type migration struct {
	version    int
	name       string
	statements []string
}

// migrations returns the dialect's migrations in version order, with the
// table prefix filled in. Files are named NNNN_description.sql; statements
// end with ';' at the end of a line; lines starting with "--" are comments.
func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + s.d.String()
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("mfa: sqlstore: bad migration file name %q", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		m := migration{version: v, name: e.Name()}
		add := func(text string) {
			for st := range strings.SplitSeq(text, ";\n") {
				if st = strings.TrimSpace(st); st != "" {
					m.statements = append(m.statements, s.sql(strings.TrimSuffix(st, ";")))
				}
			}
		}
		// A routine's body holds semicolons, so a routine is one statement
		// between a line "--{" and a line "--}".
		var lines []string
		inBlock := false
		for l := range strings.Lines(string(b)) {
			switch t := strings.TrimSpace(l); {
			case t == "--{":
				add(strings.Join(lines, ""))
				lines, inBlock = nil, true
			case t == "--}":
				if st := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "")), ";"); st != "" {
					m.statements = append(m.statements, s.sql(st))
				}
				lines, inBlock = nil, false
			case strings.HasPrefix(t, "--"):
			default:
				lines = append(lines, l)
			}
		}
		if inBlock {
			return nil, fmt.Errorf("mfa: sqlstore: migration %s: a block opened with --{ is not closed", e.Name())
		}
		add(strings.Join(lines, ""))
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	// Numbers start at 1 and never repeat. A gap is allowed (work on two
	// branches numbers its migrations apart); apply runs every migration
	// the database has not recorded, so a gap filled later still runs.
	for i, m := range ms {
		if m.version < 1 || (i > 0 && m.version == ms[i-1].version) {
			return nil, fmt.Errorf("mfa: sqlstore: migration numbers must be unique and start at 1: %s", m.name)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this code migrates to: the highest
// migration number it knows.
func (s *Store) SchemaVersion() int {
	ms, err := s.migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate brings the database's schema up to the version this code knows,
// applying every embedded migration not yet recorded in the
// <prefix>schema_version table. It is idempotent, and safe to run from
// several processes at once: they queue on a lock and the later ones find
// nothing to do. A database whose schema is newer than this code is
// refused with an error wrapping [ErrSchemaTooNew].
//
// The lock is pg_advisory_xact_lock on PostgreSQL (the whole migration is
// one transaction), GET_LOCK on MySQL (held by one connection; MySQL DDL
// is not transactional, so every statement is written to be safe to run
// again if a migration is cut short) and BEGIN IMMEDIATE on SQLite (one
// transaction).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return wrapErr("migrate", err)
	}
	switch s.d {
	case MySQL:
		err = s.migrateMySQL(ctx, ms)
	case SQLite:
		err = func() error {
			defer s.writer()()
			return s.retry(ctx, func() error {
				return s.sqliteImmediateTx(ctx, func(q querier) error { return s.apply(ctx, q, ms) })
			})
		}()
	default:
		err = s.tx(ctx, func(q querier) error {
			if s.d == Postgres {
				if _, err := q.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockID()); err != nil {
					return err
				}
			}
			return s.apply(ctx, q, ms)
		})
	}
	if err != nil && !errors.Is(err, ErrSchemaTooNew) {
		return wrapErr("migrate", err)
	}
	return err
}

// lockID is the PostgreSQL advisory lock key: one per table prefix.
func (s *Store) lockID() int64 {
	h := sha256.Sum256([]byte("mfa/sqlstore/migrate/" + s.prefix))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// GET_LOCK names are server-wide, so the name holds the database too.
	var db sql.NullString
	if err := c.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
		return err
	}
	h := sha256.Sum256([]byte(db.String + "\x00" + s.prefix))
	name := "mfa_sqlstore_" + hex.EncodeToString(h[:16])
	var got sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, int((5 * time.Minute).Seconds())).Scan(&got); err != nil {
		return err
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("could not take the migration lock %s", name)
	}
	defer func() {
		// Closing the connection would release it too; say so explicitly.
		_, _ = c.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name)
	}()
	return s.apply(ctx, c, ms)
}

// apply runs the pending migrations on q, which holds the migration lock.
func (s *Store) apply(ctx context.Context, q querier, ms []migration) error {
	if _, err := q.ExecContext(ctx, s.sql("CREATE TABLE IF NOT EXISTS {p}schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_us BIGINT NOT NULL)")); err != nil {
		return err
	}
	done, cur, err := s.applied(ctx, q)
	if err != nil {
		return err
	}
	if last := ms[len(ms)-1].version; cur > last {
		return fmt.Errorf("%w: the database is at version %d, this code knows up to %d (table %sschema_version)", ErrSchemaTooNew, cur, last, s.prefix)
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		for _, st := range m.statements {
			if _, err := q.ExecContext(ctx, st); err != nil && !s.indexExists(st, err) {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := q.ExecContext(ctx, s.sql("INSERT INTO {p}schema_version (version, applied_us) VALUES (?, ?)"), m.version, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// indexExists reports a MySQL CREATE INDEX that failed because a cut-short
// run of the same migration already made the index (MySQL has no CREATE
// INDEX IF NOT EXISTS and its DDL is not transactional).
func (s *Store) indexExists(statement string, err error) bool {
	n, ok := mysqlNumber(err)
	return s.d == MySQL && ok && n == mysqlDupKeyName && strings.HasPrefix(statement, "CREATE INDEX ")
}

// applied returns the migration numbers recorded in schema_version and
// the highest of them.
func (s *Store) applied(ctx context.Context, q querier) (map[int]bool, int, error) {
	rows, err := q.QueryContext(ctx, s.sql("SELECT version FROM {p}schema_version"))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	done, cur := map[int]bool{}, 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, 0, err
		}
		done[v], cur = true, max(cur, v)
	}
	return done, cur, rows.Err()
}
