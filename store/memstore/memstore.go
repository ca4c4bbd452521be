// Package memstore is an in-process store: every record lives in Go
// maps behind one mutex.
//
// It implements every concern of package store ([store.Factors],
// [store.Counters], [store.Challenges], [store.Sessions], [store.Devices],
// [store.Recovery], [store.Signals]) and [store.Sweeper], concurrency included, and passes the same
// conformance suite (store/storetest) as the database backends. One mutex
// makes every method atomic, which is simple to check and fast enough for
// a single process: no method does I/O.
//
// Byte slices are copied on the way in and on the way out, so a caller
// never shares memory with the store. Hit and Advance do not allocate except
// to return a loaded factor's bytes (or to store new Data), which keeps the
// verification path cheap.
//
// # Security
//
// The state is process-local. Two instances of an application each have
// their own memstore, so failure counters, challenges and
// refresh-token families are not shared: an attacker who reaches several
// instances gets each instance's attempt budget, and a code used on one
// instance can be replayed on another. Use memstore for tests, examples and
// applications that run as exactly one process; anything behind a load
// balancer or on serverless needs a shared backend (store/sqlstore or
// store/redisstore).
//
// Nothing survives a restart: enrolled factors are lost with the process.
// Expired records are kept until [Store.Sweep] removes them.
package memstore

import (
	"sync"

	"github.com/mfakit/mfa/store"
)

// Store keeps every concern of package store in memory, and is a
// [store.Sweeper]. Create one with
// [New]; it is safe for concurrent use.
type Store struct {
	mu         sync.Mutex
	factors    map[string]map[string]*store.Factor // user ID, then factor ID
	lookups    map[lookupKey]store.FactorRef
	counters   map[store.CounterKey]*store.CounterState // counters.go
	spare      []*store.CounterState                    // dropped counters' memory, for new ones
	challenges map[string]store.Challenge
	sessions   map[string]*session
	devices    map[string]store.Device
	cases      map[string]store.RecoveryCase // recovery.go
	signals    map[string][]store.Signal     // signals.go
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Sweeper    = (*Store)(nil)
	_ store.Recovery   = (*Store)(nil)
)

type lookupKey struct{ kind, lookup string }

type session struct {
	store.Session
	retired [][]byte // refresh hashes rotated away, for reuse detection
}

// New returns an empty store.
func New() *Store {
	return &Store{
		factors:    make(map[string]map[string]*store.Factor),
		lookups:    make(map[lookupKey]store.FactorRef),
		counters:   make(map[store.CounterKey]*store.CounterState),
		challenges: make(map[string]store.Challenge),
		sessions:   make(map[string]*session),
		devices:    make(map[string]store.Device),
		cases:      make(map[string]store.RecoveryCase),
	}
}

// clone returns b copied, keeping nil as nil.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// cloneFactor copies f with its Secret and Data in one allocation.
func cloneFactor(f *store.Factor) store.Factor {
	c := *f
	n := len(f.Secret) + len(f.Data)
	if n == 0 {
		c.Secret, c.Data = emptyLike(f.Secret), emptyLike(f.Data)
		return c
	}
	buf := make([]byte, n)
	ls := copy(buf, f.Secret)
	copy(buf[ls:], f.Data)
	c.Secret, c.Data = nil, nil
	if f.Secret != nil {
		c.Secret = buf[:ls:ls] // capped, so appending to Secret cannot reach Data
	}
	if f.Data != nil {
		c.Data = buf[ls:]
	}
	return c
}

// emptyLike is nil for nil and a fresh empty slice otherwise.
func emptyLike(b []byte) []byte {
	if b == nil {
		return nil
	}
	return []byte{}
}
