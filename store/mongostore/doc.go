// Package mongostore keeps every concern of package store in MongoDB, on
// the official Go driver (go.mongodb.org/mongo-driver/v2): factors,
// counters, challenges, sessions, devices, recovery cases, signals,
// re-sealing ([store.Resealable]) and [store.Sweeper].
//
//	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
//	s, err := mongostore.New(mongostore.Config{Database: client.Database("app")})
//	err = s.EnsureIndexes(ctx) // once, at deploy time or start-up
//	v, err := mfa.New(mfa.Config{Store: s, ...})
//
// It is a module of its own, so only applications that choose MongoDB
// pull in the driver.
//
// # One rule: single use rests on a unique _id
//
// Every single-use operation here rests on one thing only: an insert of a
// document whose _id is already taken fails with a duplicate-key error.
// Nothing relies on a filtered update, a filtered delete, findAndModify or
// a multi-document transaction being atomic. Real MongoDB makes those
// atomic on one document, but servers that speak its protocol need not:
// FerretDB 1.x, for one, reads and then writes. Any server that enforces
// a unique _id keeps every guarantee below.
//
// A record that changes (a factor, a counter, a session, a recovery case,
// the owner of a factor's lookup key) is a sequence of immutable versions
// in the collection "versions", each a document whose _id is the record's
// key and the version number. A change reads the newest version v and
// inserts version v+1. Of any number of changes that read version v, in
// any number of processes, exactly one insert of v+1 succeeds; every
// other finds the _id taken, and knows that its reading is out of date.
// That is a compare-and-set on the whole record:
//
//   - [Store.Advance]: the factor's version v+1 holds Counter = To; it is
//     written only if version v holds Counter = From. Of concurrent calls
//     with the same From, exactly one inserts v+1; the others wrap
//     store.ErrConflict and write nothing (the counters to reset or
//     forgive follow the factor's version in one ordered insert, which
//     stops at the first taken _id).
//   - [Store.Hit]: each counter's next version holds Rule.Apply of the
//     version it replaces, decided on that version. A counter's count is
//     therefore exact under any concurrency, and of N attempts on a fresh
//     counter with Free f at most f are admitted: the (f+1)-th can only be
//     written on top of the f-th, which refuses it. The counters of one
//     attempt are written in one ordered insert, in the order of their
//     keys, so attempts on the same counters meet on the first and only
//     one goes on; an attempt whose counters only partly overlap
//     another's may be counted on some and then refused by the next: an
//     over-count, the safe side.
//   - [Store.RotateRefresh]: the session's next version holds the new
//     hash and every retired one. One rotation inserts it; the others
//     read again, find their hash retired, and revoke the session in a
//     version of their own (store.ErrReused).
//   - [Store.MoveCase]: every move changes the state, so of moves from the
//     same version one is inserted and the others wrap store.ErrConflict;
//     a recovery grant is redeemed once.
//   - [Store.DeletePendingFactor] against an activating
//     [Store.UpdateFactor]: the tombstone and the activation are both
//     version v+1 of the factor; one is inserted, the other reads again
//     and finds the factor gone or active.
//   - [Store.CreateFactor] with a Lookup: the lookup key is a record too,
//     whose newest version names its owner; taking it is inserting its
//     next version, so two factors never both own one lookup key. The
//     factor is inserted first and deleted again when the key is taken
//     by a live factor; [Store.FindFactor] finds only the owner.
//
// A challenge is not a record but a document, and taking it
// ([Store.TakeChallenge]) is inserting the claim "t" + its ID and the
// random nonce of the put that stored it: exactly one take inserts the
// claim. Signals are inserted and never updated: each takes the number
// after the highest of its list, a unique index on list and number lets
// exactly one of two inserts that read the same list take it, and the
// _id adds a random part to the number, so a record trimmed away never
// lends its _id to a later one (a delete from an older reading of the
// list removes only what it read). Devices are inserted and deleted,
// never changed.
//
// # Heads
//
// Reading the newest version must not scan, and FerretDB on SQLite finds
// a document quickly only by its _id. So each record also has a head, in
// the collection "heads" under the record's key: a copy of its newest
// version, written (replaced) after each version. The heads of one
// verification's counters and factor are read in one query. A head is
// never ahead of its record, since it is written only after the version
// it copies; it may be behind, when a write stopped between its version
// and its head, or when two heads were written out of order. That never
// matters to a write: its insert of the version after the head's fails,
// and it then reads the versions after the head, by _id, to the newest.
// A read that returns a record (GetFactor, GetSession, CounterState,
// listings) reads on from the head to the newest version the same way,
// and writes a head found behind again. A refusal decided on a head alone
// (a compare-and-set that does not match, a lock) is decided again on the
// newest version; a delay decided on a head that is behind is at worst
// the delay of a moment before.
//
// # Sweeping and Config.Grace
//
// [Store.Sweep] deletes expired challenges, devices, signals, counters
// and sessions (every version and the head), and the versions superseded
// by one written more than Config.Grace ago (by Config.Now), and the
// deleted factors and cleared counters whose newest version is that old.
// Removing a superseded version frees its _id, which a write that read
// the version before it could then insert. That write would have to take
// longer than Grace from its read to its insert; any write that takes
// more than Grace/2 is refused with [ErrSlow] (fail closed), whatever
// landed: a version that was still the next one stands, and one that
// went in behind the newest is never read as it. This holds as long as
// the clocks of the machines running the store differ by less than
// Grace/2 and no write stays in flight on the network longer than
// Grace/2. An expired counter or session is removed whole at once; a
// write that read it before may bring it back as that write leaves it,
// as a write that began before a sweep does in any backend (its head
// written that late, after the record began again, would hide the new
// versions: that takes a write in flight for as long as the record
// lived). Recovery cases are audit records: Sweep never removes one.
//
// TTL indexes (Config.TTL) let MongoDB delete expired challenges,
// devices and signals on its own, ten minutes after their expiry; nothing
// relies on them, as the caller's now decides expiry everywhere.
//
// # Servers
//
// The driver supports MongoDB 4.4 and later; so does this package. It
// uses only find, insert, replace by _id with upsert, delete and
// createIndexes, so any MongoDB 4.4+ deployment works: standalone,
// replica set or sharded. On a sharded cluster shard each collection on
// _id (ranged or hashed), so that each _id lives on one shard and its
// uniqueness holds across the cluster.
//
// Tested: the conformance suite (store/storetest, every group, its races
// included, under the race detector), the cross-process replay and
// brute-force tests and the round-trip counts of internal/backendtest,
// all on FerretDB 1.24.2 on its SQLite backend, which CI builds and
// starts. FerretDB 1.x has no TTL indexes (leave Config.TTL off) and no
// transactions, which nothing here needs; it answers every query that
// does not name one _id with a scan of the collection (the heads of
// several records read at once, listings, Sweep), so it suits tests, not
// load. No real MongoDB server was available to test against.
//
// # Round trips
//
// A store call that changes something costs three round trips: read the
// heads, insert the next versions, write the heads; a refusal only reads.
// The Advance that commits a success skips its read: the Hit of the same
// verification, in the same process, leaves it the versions it read and
// wrote, which are only a guess (the insert still fails if one is no
// longer the newest). So a TOTP verification that succeeds costs five
// round trips (Hit three, Advance two), a wrong code three, a
// rate-limited attempt one, a refresh-token rotation three.
// TestWireRoundTrips in internal/backendtest counts them on the network
// through a proxy, on FerretDB, and asserts them. The other networked
// backends of this module need two, one, one and one: they decide and
// write in one statement or script, which needs the atomic conditional
// update that this package, by design, does without.
//
// # Security
//
// Seeds arrive sealed and codes and tokens as keyed hashes, and are stored
// as given; superseded versions of a factor keep its earlier (sealed)
// secret until Sweep removes them, Config.Grace after they were
// superseded. Between a Hit and its Advance the process keeps the loaded
// factor (sealed, as stored) and the counters in memory: an Advance
// takes them (and uses them only within a quarter of Config.Grace), and
// all are dropped once a few thousand have piled up. Nothing is logged.
//
// Use the write concern "majority" (the default of MongoDB 5.0 and later
// on a replica set) and do not read from secondaries: with w:1 a failover
// can roll back an acknowledged insert, and a claim rolled back is a
// single-use operation that can succeed a second time.
package mongostore
