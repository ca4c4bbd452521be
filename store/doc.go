// Package store defines the storage contract of the mfa library: the records
// it keeps and the small interfaces a backend implements to keep them.
//
// Most applications never call this package: they pick a backend and hand
// it to the consumers, each of which declares the concerns it uses.
//
//	s := memstore.New() // or sqlstore.New(db, dialect), redisstore.New(client, opts)
//	v, err := mfa.New(mfa.Config{Store: s, ...})     // uses Factors, Counters, Challenges
//	m, err := session.New(session.Config{Store: s, ...}) // uses Sessions, Devices
//
// Backends: store/memstore (in process), store/sqlstore (PostgreSQL,
// MySQL/MariaDB, SQLite), store/redisstore and store/mongostore (each of
// the last three a module of its own). Each implements every concern and
// [Sweeper]. To keep the long-lived records in one
// backend and the short-lived ones in another, compose a [Split].
//
// Each concern is its own interface, so a backend can be read, reviewed and
// tested one concern at a time, and a consumer asks only for what it uses:
//
//   - [Factors]: enrolled factors and the single-use compare-and-set
//     ([Factors.Advance]) that commits a successful verification.
//   - [Counters]: failure counters, counted before any secret is compared.
//   - [Challenges]: short-lived single-use challenges.
//   - [Sessions]: refresh-token families.
//   - [Devices]: remembered devices.
//   - [Recovery]: account recovery cases and the compare-and-set on
//     their state ([Recovery.MoveCase]) that makes a grant single use.
//   - [Signals]: short, bounded, expiring lists of recent activity that
//     monitoring detectors read (package monitor).
//   - [Sweeper] (optional): removal of expired records on demand.
//
// Someone writing a backend implements the concerns it keeps and runs
// store/storetest, which checks whichever of them the backend implements.
//
// # Contract
//
// Every method takes a context first and may be called concurrently from
// many goroutines and from many processes sharing one database. A missing or
// expired record is reported by an error that wraps [ErrNotFound]; an
// insert that finds its key taken wraps [ErrExists]; a compare-and-set whose
// expectation no longer holds wraps [ErrConflict]. Anything the contract
// calls atomic is one method, so a backend can make it one statement, one
// transaction or one script: there is never a read followed by a write in
// the caller.
//
// Times are always passed in by the caller (from an injected clock); a
// backend never reads its own clock to decide whether a record has expired,
// so tests drive expiry without sleeping.
//
// # Security
//
// The records hold no plaintext secret: TOTP seeds arrive sealed (an AEAD
// ciphertext bound to user and factor), codes and tokens arrive as keyed
// hashes. A backend stores bytes as given and must not log them.
//
// The conformance suite in store/storetest checks all of this, concurrency
// included; every backend runs it.
package store
