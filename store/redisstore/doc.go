// Package redisstore keeps the concerns of package store on Redis
// (github.com/redis/go-redis/v9), for the short-lived, hot state of many
// instances of a stateless service: failure counters, challenges,
// refresh-token families, remembered devices and the signal lists
// monitoring keeps ([Store.Observe]). It implements every concern,
// factors included, and passes the conformance suite (store/storetest)
// on a single Redis, on a sharded client and on a real three-master
// Redis Cluster (TestStoreCluster, which CI runs).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	s, err := redisstore.New(rdb, redisstore.Options{})
//
// # Security
//
// Every operation the contract calls atomic is one Lua script (EVALSHA,
// falling back to EVAL when Redis has lost its script cache), and Redis
// runs a script to completion before any other command:
//
//   - [Store.Hit] reads every counter, decides with the rules of
//     [store.Rule.Blocked] and [store.Rule.Apply] and counts the attempt
//     in one script, and reads the factor with an HMGET sent right after
//     it in the same pipeline: one round trip. Of 200 concurrent guesses
//     against a limit of 5, exactly 5 are admitted. When no counter
//     exists (after a success or a reset) one EXISTS stands for the
//     reads; the state it then writes is the same (see Performance). The
//     factor is read whatever the script decides and returned only when
//     it admitted. The attempt is still counted before the factor is
//     read, which is what the guarantees rest on; the factor can change
//     between the two commands as it can after the read, and the
//     Advance's compare-and-set decides which of two successes counts.
//   - [Store.Advance] compares and sets the factor's counter (the last
//     accepted TOTP step, the used backup codes), writes LastUsed and Data
//     and clears the failure counters in one script.
//   - [Store.TakeChallenge] reads and deletes; [Store.RotateRefresh]
//     rotates, or revokes the session when a retired hash comes back, in
//     one script.
//   - [Store.Observe] is one script per sighting, which drops the list's
//     expired records, adds the new one, trims the list to its Keep
//     newest and reads it; two instances adding to one list at once both
//     keep their records. A list is a sorted set scored by Time, whose
//     members start with a 16-digit insertion number, so records of equal
//     Times keep the order they were added in.
//
// Expiry is decided by the times the caller passes (its injected clock),
// never by Redis's clock. Redis TTLs are only a backstop that reclaims
// memory: each short-lived key gets a TTL of its remaining lifetime, as
// the caller sees it, plus 10 minutes (a signal list: its latest
// record's); counters without a rule TTL and factors have none. The TTL
// is relative (PEXPIRE, not PEXPIREAT of the caller's instant), so an
// instance whose clock is off,
// or a test clock far in the past, never has a record reclaimed before
// the caller considers it expired. No scheduled job is needed;
// [Store.Sweep] exists for those who want expired records gone at a
// moment of their choosing.
//
// A failed or dropped connection returns an error, which the Verifier
// turns into a denial; so does a key of another type where a counter or
// a factor should be, and a counter field that is not a number (read as
// zero, it would admit an attempt its real state blocks), with nothing
// written. go-redis retries a command after a network error
// (Options.MaxRetries, 3 by default); if a script ran but its reply was
// lost, the retry runs it again, and every script here is safe to repeat
// in that it never admits twice: a repeated Advance conflicts (the code is
// refused as a replay), a repeated take finds nothing, a repeated Hit
// counts twice, and a repeated rotation is seen as reuse and revokes the
// session. Set MaxRetries to -1 on the client to turn such rare denials
// into plain errors.
//
// Hashes of tokens and the current refresh hash are compared by Redis
// (string equality, set membership), not in constant time. They are keyed
// hashes of random tokens, so timing reveals nothing an attacker can use.
// The store holds no plaintext secret: seeds arrive sealed, codes and
// tokens as keyed hashes, and are stored as opaque bytes.
//
// # Storage
//
// What a Redis without persistence, or a failover with asynchronous
// replication, loses when it restarts or a replica takes over, and what
// that means:
//
//   - Failure counters reset: an attacker gets a fresh budget of guesses
//     (the delays and the lockout start over).
//   - Single-use state is forgotten: the last accepted TOTP step (if
//     factors live here too). A code still inside its validity
//     window (a TOTP code for about a minute, an emailed code for minutes)
//     can be used once more.
//   - Challenges in flight and sessions are lost: users sign in again;
//     refresh-token reuse detection forgets the families it knew.
//   - Factors, if kept here, are lost outright: users lose their second
//     factor.
//   - Recovery cases, if kept here, are lost with their audit history;
//     they share one hash slot (tag {rc}) and get no TTL.
//   - Signal lists are lost: monitoring forgets recent activity (a known
//     place looks new once, a tally of failures per address starts over).
//
// So keep enrolled factors (and remembered devices, which users expect to
// last) in a durable database and the short-lived state in Redis:
//
//	durable, _ := sqlstore.New(db, sqlstore.Postgres) // and Migrate
//	fast, _ := redisstore.New(rdb, redisstore.Options{})
//	verifierStore := &store.Split{ // for mfa.Config.Store
//		Factors:    durable, // seeds, and the TOTP last-step compare-and-set
//		Counters:   fast,
//		Challenges: fast,
//	}
//	sessionStore := struct { // for session.Config.Store
//		store.Sessions
//		store.Devices
//	}{fast, durable}
//
// With that split the TOTP replay guard (the factor's counter, advanced by
// [store.Factors.Advance]) lives with the factors in SQL and survives a
// Redis restart; what Redis can lose is the counters, challenges and
// sessions. The split costs a round trip more on each side of a
// verification (see [store.Split]): Hit, then the factor from SQL; Advance
// in SQL, then the counters' reset in Redis. A Redis with AOF
// (appendfsync everysec) loses at most about a second of them; WAIT after
// writes narrows a failover's window but cannot close it.
//
// Keys start with [Options].Prefix ("mfa:" by default). Caller-chosen
// parts are escaped ('{', '}', ':' and '%' as %XX), so an ID cannot forge
// another key or move a key to another hash slot; a counter key is the
// escaped [store.CounterKey.String]:
//
//	mfa:{u:<user>}:f:<factor>       factor (hash)
//	mfa:{u:<user>}:fs               the user's factor IDs (set)
//	mfa:{u:<user>}:c:<counter key>  user and factor failure counters (hash)
//	mfa:{ip:<ip>}:c:<counter key>   per-IP failure counter (hash)
//	mfa:{l:<kind>:<lookup>}         unique lookup -> factor (hash)
//	mfa:{ch:<id>}                   challenge (hash)
//	mfa:{s:<id>}  mfa:{s:<id>}:r    session (hash), its retired hashes (set)
//	mfa:{d:<id>}                    remembered device (hash)
//	mfa:{u:<user>}:ss  :ds          the user's session and device IDs (sorted sets)
//	mfa:{sg:<key>}                  signal list (sorted set)
//
// Times are integer milliseconds since the Unix epoch; a time passed in
// with finer precision is rounded, up for instants at which something
// expires (so rounding never shortens a lock), down otherwise.
//
// Earlier releases also kept single-use marks under mfa:{m:<key>}; nothing
// reads or sweeps them now. Those with an expiry go with their Redis TTL;
// those kept forever can be deleted.
//
// # Redis Cluster
//
// The braces are hash tags: everything one script touches shares one tag,
// so it lies in one slot. A *redis.ClusterClient or *redis.Ring is
// detected by [New] and the few operations that span tags run as several
// scripts:
//
//   - Hit with a per-IP counter: the user's group (user and factor
//     counters, and the factor) and the IP's group are first asked to
//     decide without counting, in one pipeline; if both admit, both count,
//     in a second. If a concurrent attempt blocks one group between the
//     two steps, the other keeps the failure it counted: a slight
//     relaxation that always errs on the side of counting. No counter ever
//     admits more than its rule allows.
//   - CreateFactor with a Lookup claims the lookup first and releases it
//     if the factor's ID is taken; DeleteFactor and DeletePendingFactor
//     release it after. A concurrent create of the same lookup may see it
//     taken for that moment.
//   - Sessions and devices are added to their user's index before they
//     are written, so RevokeUserSessions and DeleteUserDevices never miss
//     one. Between the two steps the index names a record that does not
//     exist yet, so nothing removes an entry for want of its record:
//     readers skip such entries and leave them. The index is a sorted set
//     scored by the instant after which Redis may drop the record (its
//     Expires plus 10 minutes, in the caller's time); each create drops
//     the entries scored before its Created, and deleting a device drops
//     its entry. An entry thus goes only once its record is deleted or
//     expired by more than the grace, never while a create may still be
//     about to write it. Only a create stalled between its steps for
//     longer than its record's lifetime plus the grace could lose its
//     entry, and that record is then expired for every instance whose
//     clock is within the grace of the creator's; an instance whose clock
//     runs ahead by more than the grace drops the entries of records that
//     are about to expire a little early.
//
// Each signal list has a tag of its own. [Store.Observe] sends the scripts
// of all of a call's sightings in one pipeline, which a Cluster client
// splits by node and sends to every node at once: one round trip to each
// node that holds one of the lists, in parallel. The sightings of one
// list run in the call's order; those of different lists are each atomic
// but not one transaction, which the contract does not ask.
//
// On a single Redis (or a failover client) every operation is one script
// (a Hit that loads a factor: its script and the factor's HMGET, in one
// pipeline).
//
// # Performance
//
// A TOTP verification through the Verifier is two store calls, each one
// round trip: Hit (a script, and the HMGET that loads the factor, in one
// pipeline) and Advance (a script, which clears the counters). A wrong code or a rate-limited attempt is
// one Hit, one round trip; a refresh one. On a Redis Cluster, a request
// that names the client IP costs more: Hit is two round trips (decide,
// then count, each sent to both slots' nodes at once) and Advance two
// (the compare-and-set, then forgiving the IP counter), so a success is
// four, a wrong code two, a refused attempt and a refresh one each. An
// Observe is one pipeline of scripts, one round trip however many
// sightings it holds (on a Cluster, one to each node involved, at once).
// TestWireRoundTrips in internal/backendtest counts them on the network
// through a proxy and asserts them. The time of a verification is mostly
// those round trips.
//
// Where Redis and its clients share the machine's CPUs, the CPU a
// verification costs, on the server and in the client, sets the
// throughput. On the server each request costs a fixed amount (reading,
// parsing, replying), and inside a script each redis.call, each value of
// KEYS and ARGV and each value of a table that crosses between Redis and
// Lua costs about as much again as a small command. So the scripts of a
// success are kept lean:
//
//   - The hit script's lean path serves the common case, a user whose last
//     attempt succeeded: Advance deleted the user's and the factor's
//     counters, so one EXISTS over the counters answers 0 and every state
//     is zero. Then nothing can block, and each count writes, with no
//     table and no number conversion, the texts the client computed (a
//     count of 1, the expiry and its TTL), unless the rule's Free is 1.
//     Otherwise (a counter exists, or a key is named twice) the general
//     path reads every counter. Both write the same state in the same
//     layout, so instances running an earlier version of the script
//     (Redis keeps each version under its own SHA) can share the Redis;
//     TestHitPaths drives both paths against memstore, on a single Redis
//     and on a Ring. The EXISTS costs the general path one call more.
//   - The factor is read with HMGET of every field a factor is written
//     with but its user and ID, which its key names already, not HGETALL:
//     the reply is the values alone, and the client reads them by
//     position into the Factor, without a map. A field this version does
//     not know is ignored, as it always was. The HMGET is a command of its
//     own beside the hit script, not a redis.call inside it: each of the
//     ten values would cross from Redis to Lua and back.
//   - Redis 7.0 builds the KEYS and ARGV tables of a script anew on every
//     call, growing them one value at a time (about 1,000 instructions a
//     value, besides parsing it from the request). So the hit script
//     takes three values per counter (its rule as one text, "Free Base
//     Max Cap", which only the general path reads, then the expiry a
//     count sets and its TTL) and the advance script four on a usual
//     success (from, to, now, and what to clear and what to do with Data
//     as one number).
//   - The scripts of the verification path are sent by the store itself
//     (EVALSHA, then EVAL on NOSCRIPT, as redis.Script does), with their
//     arguments in one slice and their replies read as strings, not as
//     []any of boxed values. Keys are built in one buffer each. Hit's
//     pipeline is reused (the Store keeps idle ones, emptied), and so is
//     each rule's text, which the Store makes once for the few rules a
//     Verifier hands over.
//   - The Advance script writes Data in the same HSET as the counter, and
//     defines and runs its Forgive loop only when there is a counter to
//     forgive.
//
// The costs of both paths can be read without contention from
// BenchmarkVerifyPath (the store calls one after the other) with INFO
// commandstats and SLOWLOG.
//
// Measured times of the full Verifier path on Redis and, for comparison,
// on the other backends (BenchmarkVerifyTOTP in internal/backendtest) are
// in BENCHMARKS.md at the repository root, with the command that
// reproduces them and when they were measured.
package redisstore
