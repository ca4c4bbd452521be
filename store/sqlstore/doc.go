// Package sqlstore keeps every concern of package store over database/sql
// for PostgreSQL, MySQL/MariaDB and SQLite, so every instance of a
// stateless service (Lambda, Cloud Run, pods that come and go) shares one
// set of factors, failure counters, challenges, sessions, devices and the
// signal lists monitoring keeps. A [Store] is what mfa.Config.Store and
// session.Config.Store take.
//
// The package imports no driver. The application opens the *sql.DB with
// the driver it already uses and names the [Dialect]:
//
//	import _ "github.com/jackc/pgx/v5/stdlib"    // Postgres: sql.Open("pgx", dsn)
//	import _ "github.com/go-sql-driver/mysql"     // MySQL:    sql.Open("mysql", dsn)
//	import _ "modernc.org/sqlite"                 // SQLite:   sql.Open("sqlite", dsn), pure Go
//
//	s, err := sqlstore.New(db, sqlstore.Postgres)
//	err = s.Migrate(ctx) // at deploy time or start-up
//
// # Security
//
// Every operation the store contract calls atomic is one statement or one
// transaction, so N instances behave as one:
//
//   - [Store.Hit] locks the counter rows, decides with the rules of
//     [store.Rule.Blocked] and [store.Rule.Apply], writes the new counts
//     and loads the factor. On PostgreSQL and MySQL this is one call of a
//     routine that migration 3 installs and migration 6 replaces ({p}hit:
//     a PL/pgSQL function, a MySQL procedure running its own transaction),
//     which applies the rules in SQL exactly as the Go code does,
//     comparing times in nanoseconds. A missing counter has the zero
//     state, which blocks nothing: it is inserted at once with its count
//     of one (the insert locks the new row), which after a success, whose
//     commit deleted the counters, is the whole Hit. A counter that exists
//     is locked and read before anything is decided. A refusal writes
//     nothing (what it inserted is deleted or rolled back). For up to
//     three distinct counters, the usual case, each key goes with its
//     state after one failure from zero (store.Rule.Apply, computed in
//     Go) as a plain parameter. On MySQL migration 7's {p}hit_new is
//     called: it inserts them all in one statement and, when any exists,
//     undoes that insert and calls {p}hit (since migration 8 the insert
//     is a statement of its own, which a duplicate key undoes whole, so
//     the store needs autocommit on, the server's default). On
//     PostgreSQL no routine is called in that case: one plain statement
//     inserts the counters if none of them exists, and otherwise inserts
//     nothing and calls {p}hit_new, which calls {p}hit. Its insert has no
//     ON CONFLICT clause, so a counter another attempt inserts after the
//     statement looked makes the whole statement fail on the duplicate
//     key, writing nothing; Hit then calls {p}hit_new, a second round
//     trip in that race only (the server logs the duplicate key as an
//     error). On SQLite it is a transaction that takes the
//     write lock with its first statement, as BEGIN IMMEDIATE would, and
//     decides in Go. Of 200
//     concurrent guesses against a limit of 5, at most 5 are admitted,
//     across processes too.
//   - [Store.Advance] is a compare-and-set of the factor's counter (the
//     last accepted TOTP step, the used backup codes) committed together
//     with the reset and forgiving of the failure counters: one code, one
//     success. On MySQL, an Advance that resets up to three counters and
//     forgives none calls migration 7's {p}advance_keys, whose UPDATE
//     compares and sets in one statement (InnoDB re-checks the condition
//     after waiting for a concurrent writer); others call {p}advance.
//   - [Store.TakeChallenge] is DELETE ... RETURNING (a locked read and a
//     delete on MySQL), [Store.RotateRefresh] a locked read and write
//     (the {p}rotate routine on PostgreSQL and MySQL) that revokes the
//     session, in the same transaction, when a retired refresh hash comes
//     back. The routine compares refresh hashes by value: they are keyed
//     hashes, so the time a comparison takes tells an attacker nothing.
//   - [Store.Observe] locks each list it touches (its row in
//     signal_lists, inserted if missing, all in key order so two calls
//     never deadlock), then drops, adds, trims and reads: on PostgreSQL
//     and MySQL in one call of the {p}observe routine of migration 5, on
//     SQLite in one write-locking transaction. Instances adding to one
//     list at once never lose each other's records, and Keep holds
//     exactly. A record's order is (time_us, seq), seq an insertion
//     sequence, so records of equal times keep the order they were added
//     in.
//
// On MySQL the calls of these routines are sent as text with their values
// written into it, so that each is one request whatever the DSN says
// about interpolateParams. That is safe because of what a value can
// become: integers are written by strconv, every string and byte slice
// becomes a hexadecimal literal X'...' of the characters 0-9 and a-f only,
// which no character set, SQL mode or quoting rule can turn into anything
// but its bytes, and any other type is refused (see literal.go). Counter
// keys reach the routines hex-encoded inside a JSON array, for the same
// reason.
//
// Transactions run at READ COMMITTED. A transaction the database aborts
// for contention (PostgreSQL 40001/40P01, MySQL 1213/1205, SQLITE_BUSY) is
// retried a bounded number of times with a jittered pause; any other
// error, a dropped connection included, is returned, so the caller denies
// the attempt. A commit whose acknowledgement is lost may have happened,
// which can only consume a code, never admit one twice.
//
// The store holds no plaintext secret: seeds arrive sealed and codes and
// tokens as keyed hashes, and are stored as opaque bytes. Identifiers are
// compared bytewise (VARBINARY on MySQL, COLLATE "C" on PostgreSQL), never
// case-insensitively. Values longer than their column (IDs 512 bytes, keys
// 1024, Factor.Lookup 2048, hashes 255) are refused with an error rather
// than truncated. On PostgreSQL, text identifiers must be valid UTF-8
// without NUL bytes; the server refuses others, and the operation fails.
// Signal list keys are kept as the bytes given, NUL and invalid UTF-8
// included (BYTEA, VARBINARY, and SQLite TEXT compared bytewise), up to
// store.MaxSignalKey bytes.
//
// # Storage
//
// The schema is created by [Store.Migrate] and never by [New]: versioned
// migrations are embedded in the binary (one directory per dialect), the
// applied versions are recorded in <prefix>schema_version, and running
// Migrate again, or from several instances at once, is safe (a PostgreSQL
// advisory lock, a MySQL GET_LOCK, or SQLite's write lock serialises
// them). A database migrated by a newer release is refused with
// [ErrSchemaTooNew] rather than written by code that does not know its
// tables. Every table name starts with a prefix, "mfa_" unless
// [Options].Prefix says otherwise:
//
//	factors          one row per factor; unique (user_id, id) and (kind, lookup)
//	counters         failure counters, keyed by CounterKey.String()
//	challenges       issued challenges until taken or expired
//	sessions         refresh-token families
//	retired_refresh  refresh hashes rotated away, for reuse detection
//	devices          remembered devices
//	recovery_cases   recovery cases (audit records: never swept)
//	signals          signal records, keyed by list and insertion sequence
//	signal_lists     one row per signal list, locked by Observe
//	                 (PostgreSQL and MySQL; SQLite's write lock does
//	                 without)
//	schema_version   applied migrations
//
// Times are BIGINT microseconds since the Unix epoch, UTC (the zero time
// is 0), identical in every dialect; bytes are BYTEA, LONGBLOB or BLOB.
//
// Expired rows stay until [Store.Sweep] deletes them: run it from a
// scheduled job (a cron Lambda, a Cloud Scheduler call). Nothing in this
// package starts a goroutine. Every expiry column is indexed and Sweep
// deletes in batches of Options.SweepBatch rows, so it never holds a
// lock for long; on SQLite a verification waits for one batch at most.
//
// Schema version 2 drops the marks table of version 1, whose concern had
// no caller. Version 3 adds an index on every expiry column and, on
// PostgreSQL and MySQL, the routines {p}hit and {p}rotate ({p}advance too
// on MySQL); the database user running Migrate needs the right to create
// them (CREATE ROUTINE on MySQL). Version 4 adds recovery_cases. Version
// 5 adds signals and signal_lists and, on PostgreSQL and MySQL, the
// routine {p}observe. Version 6 replaces {p}hit with one that inserts
// missing counters at once (see above); its arguments and results are
// unchanged. Version 7 adds, on PostgreSQL and MySQL, {p}hit_new (and
// {p}advance_keys on MySQL), which take plain parameters instead of JSON
// for the usual case (see above); on SQLite it changes nothing. Version
// 8 makes MySQL's {p}hit_new leaner (see above): code of version 7 that
// still runs beside it reads its answer for a factor that does not exist
// as an error, and denies. Migrate
// applies every version a database has not recorded, so migration
// numbers may leave a gap.
//
// Connection pools: set db.SetMaxOpenConns below the server's connection
// limit. With MySQL, interpolateParams=true in the DSN saves a round trip
// per statement off the hot path. SQLite needs a file database (":memory:" is one database
// per connection) opened with a busy timeout, and WAL is recommended:
//
//	file:/var/lib/app/mfa.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)
//
// Writers take SQLite's database-wide lock, so they queue; without a busy
// timeout they fail with SQLITE_BUSY and are retried only briefly.
// db.SetMaxOpenConns(1) also works and serialises in Go instead.
//
// # Performance
//
// A TOTP verification is two store calls, [Store.Hit] and [Store.Advance];
// a wrong code or a rate-limited refusal is one Hit; a refresh is one
// [Store.RotateRefresh]. On PostgreSQL and MySQL each of these is one
// statement, one network round trip: Hit and RotateRefresh call a routine
// of migration 3 (Hit on PostgreSQL, in the usual case, a plain statement
// that calls one only when a counter exists, because calling a PL/pgSQL
// function costs the server more than the insert it would do), and
// Advance is one statement with data-modifying CTEs on PostgreSQL (and a
// second when it refuses, to tell a lost compare from a missing factor:
// a check that, in the first, the server would prepare on every success)
// and one procedure CALL on MySQL. Every parameter and result column
// costs the client and the server on every call, so the hot statements
// send each value once and return only what the caller does not know.
// [Store.Observe], however
// many sightings it holds, is one call of the {p}observe routine (on
// MySQL written as text, like the others, and answered with a result
// set per sighting). TestStatements counts the
// requests each sends through the driver and TestWireRoundTrips (in
// internal/backendtest) the round trips on the network, through a
// counting proxy; both fail if the hot path gains one. Each success still
// commits twice, so on a server with synchronous commit (the default
// everywhere) the disk's flush latency dominates its time.
//
// pgx's database/sql driver pings a connection idle for more than a
// second before reusing it, an extra round trip; stdlib.OptionShouldPing
// turns that off for a pool that is busy anyway. SQLite is in process:
// its Hit is a transaction of a few statements, each holding the write
// lock that every other writer waits for. Parsing a statement costs
// SQLite more than running one, so a transaction runs the statements it
// has met before as prepared statements (database/sql keeps one per
// connection), and prepares a new text once the transaction is over, for
// the next time: not during it, which would take a second connection
// from a pool that may have only one. Up to 128 texts are kept per
// Store and closed with the *sql.DB, so make one Store per database at
// start-up and share it, as the other dialects want too, rather than one
// per request.
//
// BENCHMARKS.md also gives measured times of the full Verifier path on
// every backend (BenchmarkVerifyTOTP in internal/backendtest), with the
// command that reproduces them and when they were measured.
package sqlstore

import "github.com/mfakit/mfa/store"

// store is imported for the doc links above.
var _ store.Factors = (*Store)(nil)
