// Package mongostore keeps every concern of package store in one MongoDB
// database, so every instance of a stateless service shares one set of
// factors, failure counters, challenges, sessions and devices. A [Store]
// is what mfa.Config.Store and session.Config.Store take.
//
//	client, err := mongo.Connect(options.Client().ApplyURI(uri))
//	s, err := mongostore.New(client.Database("app"), mongostore.Options{})
//	err = s.EnsureIndexes(ctx) // at deploy time or start-up
//
// It needs no multi-document transaction: every operation the store
// contract calls atomic is an atomic change of one document.
//
// # Security
//
//   - [Store.Hit]: each counter is one document. Hit reads them (and the
//     factor, at the same time), decides with [store.Decide] as every
//     backend does, and writes each new state as a compare-and-set on a
//     random version held in the document. No counter ever admits more
//     than its rule allows (of 200 concurrent guesses against a limit of
//     5, at most 5 are compared, across processes too); a counter that a
//     concurrent attempt blocked between the read and the write refuses
//     after the others have counted, and they keep the failure, a
//     relaxation on the side of counting, as on a sharded Redis.
//   - [Store.Advance] is one update whose filter holds the expected
//     counter: one code, one success. The failure counters are reset and
//     forgiven just after, in one bulk write, as the contract allows.
//   - [Store.TakeChallenge] is one findOneAndDelete; [Store.RotateRefresh]
//     one findOneAndUpdate whose filter holds the presented hash, and,
//     only when that fails, one update that revokes the session if the
//     hash is among those it retired (kept in the session's document).
//     Refresh hashes are compared by value: they are keyed hashes.
//   - A Factor.Lookup is claimed by a document of its own whose _id is the
//     kind and lookup, inserted before the factor and released if the
//     factor's ID is taken or the factor is deleted.
//
// The store holds no plaintext secret: seeds arrive sealed and codes and
// tokens as keyed hashes, stored as opaque binary. Every error from the
// server is returned, so the caller denies the attempt.
//
// # Storage
//
// Collections, each named with a prefix ("mfa_" unless [Options].Prefix
// says otherwise): factors, lookups, counters, challenges, sessions,
// devices. Times are int64 microseconds since the Unix epoch, UTC (0 is
// the zero time). [Store.EnsureIndexes] creates an index on every user
// and every expiry field, and, unless Options.NoTTL is set, a TTL index on
// a date field "at" that holds each record's expiry plus 10 minutes: the
// server then deletes what nobody swept, by its own clock, never before
// the record expired by the caller's clock (clocks within 10 minutes).
// [Store.Sweep] deletes expired records by the caller's clock, in batches.
//
// # Status and versions
//
// Not yet verified: this package is written for MongoDB 5.0 or later
// (standalone, replica set, or a sharded cluster with the default _id
// shard key) through the official Go driver v2, and relies on MongoDB
// changing one document atomically under a filter. It has been run only
// against FerretDB 1.24 on its SQLite backend, where the conformance
// suite passes everything but its concurrency checks: FerretDB 1.x does
// not apply a filtered findOneAndDelete, findOneAndUpdate or update
// atomically (of 64 concurrent takes of one challenge, 2 won), so none of
// the guarantees above hold on it. Do not use it in production before
// the suite passes on MongoDB itself. FerretDB 1.x has no TTL indexes
// either; its tests set NoTTL.
//
// # Performance
//
// A refused attempt is one round trip (the counters read, the factor
// read beside it); an admitted one two (then the counters written, all
// at once); a success adds Advance, two more (the compare-and-set, then
// the counters). A refresh is one round trip. BENCHMARKS.md at the
// repository root gives the counts measured on the wire.
package mongostore
