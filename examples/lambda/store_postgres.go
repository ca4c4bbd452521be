//go:build !redis

package main

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // sql.Open("pgx", ...)

	"github.com/mfakit/mfa/store/sqlstore"
)

// openStore opens the PostgreSQL store named by MFA_STORE_URL without
// connecting: database/sql dials on first use. One small pool per
// execution environment, reused by every invocation it serves; many
// environments run at once, so RDS Proxy multiplexes them onto few server
// connections. (Build with -tags redis for Redis instead: one driver per
// binary keeps the cold start short.)
func openStore(getenv func(string) string) (appStore, error) {
	spec, prefix := getenv("MFA_STORE_URL"), getenv("MFA_STORE_PREFIX")
	if !strings.HasPrefix(spec, "postgres://") && !strings.HasPrefix(spec, "postgresql://") {
		return nil, errors.New("MFA_STORE_URL: want a postgres:// URL (this build; -tags redis for redis://)")
	}
	if _, err := pgx.ParseConfig(spec); err != nil {
		return nil, fmt.Errorf("MFA_STORE_URL: %w", err)
	}
	db, err := sql.Open("pgx", spec)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return sqlstore.NewWithOptions(db, sqlstore.Postgres, sqlstore.Options{Prefix: prefix})
}
