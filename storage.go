package mfa

import "github.com/mfakit/mfa/store"

// Store is the storage a [Verifier] needs: enrolled factors, failure
// counters and challenges. The contract, including which sentinel error
// each method wraps and what must be atomic, lives on each method in
// package store.
//
// The values of store/memstore, store/sqlstore and store/redisstore satisfy
// it; a [store.Split] composes one from several backends (factors in one,
// counters and challenges in another). Sessions and remembered devices are
// not part of it: the session package declares its own store.
type Store interface {
	store.Factors
	store.Counters
	store.Challenges
}
