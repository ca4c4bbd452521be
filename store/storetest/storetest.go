// Package storetest is the conformance suite of the store contract. Every
// backend runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) any { return memstore.New() })
//	}
//
// Like testing/fstest.TestFS, which checks any fs.FS, [Run] checks whichever
// concerns of package store the value implements, so a backend that keeps
// only some of them (factors in one database, counters in another) runs the
// same suite. Each group of checks is a subtest named after what it needs:
//
//	Factors          store.Factors (Advance without counters)
//	Counters         store.Counters (Hit without Load, Reset, Forgive,
//	                 CounterState, scopes treated as opaque text)
//	Challenges       store.Challenges
//	Sessions         store.Sessions
//	Devices          store.Devices
//	FactorsCounters  store.Factors and store.Counters: Hit with Load,
//	                 Advance with Reset and Forgive
//	Concurrency      each race on the concerns it needs: Advance and
//	                 DeletePendingVersusActivate on Factors (the winner
//	                 also resets a counter when the value is Counters too),
//	                 TakeChallenge on Challenges, RotateRefresh on Sessions,
//	                 HitFree and HitExact on Counters
//	Sweep            store.Sweeper, expiring records of each of Challenges,
//	                 Counters, Sessions, Devices and Signals the value
//	                 keeps
//	Recovery         store.Recovery, its races (approve against deny, one
//	                 redemption) included
//	Reseal           store.Resealable with Factors: a paged walk reaches
//	                 every factor, SwapSecret is a compare-and-set
//	Signals          store.Signals: lists oldest first (equal Times in
//	                 the order added), read-only sightings, expiry at
//	                 Expires, Keep, several sightings (one key twice)
//	                 in one call, bad input refused with nothing
//	                 stored, opaque keys, and racers adding to one list
//
// A value that implements none of these fails the test.
//
// The suite is safe to run against a shared database that already holds
// rows: every subtest makes its own random IDs and keys, and no subtest
// reads anything it did not write. Time is never read from the clock:
// every instant is a fixed base plus whole milliseconds, so backends that
// keep times at microsecond (SQL) or millisecond (Redis) precision compare
// equal, and expiry is driven by the instants passed in.
//
// The Sweep group works at instants years before the others, so sweeping a
// shared database removes nothing another subtest still needs; it checks
// that at least the rows it expired went, since the database may hold
// other expired rows.
//
// The concurrency subtests start many goroutines behind a barrier and check
// that exactly one of them wins every single-use operation and that counters
// are exact; run them with -race.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// base is the instant every subtest counts from. Whole milliseconds, so
// every derived instant survives millisecond storage.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at returns base+d truncated to the millisecond.
func at(d time.Duration) time.Time { return base.Add(d).Truncate(time.Millisecond) }

// racers is how many goroutines each concurrency subtest starts.
const racers = 64

// group is one top-level subtest of [Run] and the concerns it needs.
type group struct {
	name  string
	needs func(v any) bool
	run   func(t *testing.T, v any)
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

var groups = []group{
	{"Factors", is[store.Factors], func(t *testing.T, v any) { testFactors(t, v.(store.Factors)) }},
	{"Counters", is[store.Counters], func(t *testing.T, v any) { testCounters(t, v.(store.Counters)) }},
	{"Challenges", is[store.Challenges], func(t *testing.T, v any) { testChallenges(t, v.(store.Challenges)) }},
	{"Sessions", is[store.Sessions], func(t *testing.T, v any) { testSessions(t, v.(store.Sessions)) }},
	{"Devices", is[store.Devices], func(t *testing.T, v any) { testDevices(t, v.(store.Devices)) }},
	{"FactorsCounters", is[factorsCounters], func(t *testing.T, v any) { testFactorsCounters(t, v.(factorsCounters)) }},
	{"Concurrency", func(v any) bool {
		return is[store.Factors](v) || is[store.Counters](v) || is[store.Challenges](v) || is[store.Sessions](v)
	}, testConcurrency},
	{"Sweep", is[store.Sweeper], testSweep},
	{"Recovery", is[store.Recovery], func(t *testing.T, v any) { testRecovery(t, v.(store.Recovery)) }},
	{"Reseal", is[resealable], testReseal},
	{"Signals", is[store.Signals], func(t *testing.T, v any) { testSignals(t, v.(store.Signals)) }},
}

// plan returns the groups that run on v.
func plan(v any) []group {
	var gs []group
	for _, g := range groups {
		if g.needs(v) {
			gs = append(gs, g)
		}
	}
	return gs
}

// Run checks that the values open returns keep the store contract for every
// concern they implement (see the package documentation for which checks
// run for which interfaces). open is called once to learn which concerns
// the value implements, then once per group of checks that applies (each
// with that group's t); it may return the same backing database each time,
// and may register cleanup with t. Run fails t when the value implements
// none of the concerns.
func Run(t *testing.T, open func(t *testing.T) any) {
	t.Helper()
	v := open(t)
	if v == nil {
		t.Fatal("storetest: open returned nil")
	}
	gs := plan(v)
	if len(gs) == 0 {
		t.Fatalf("storetest: %T implements none of store.Factors, store.Counters, store.Challenges, store.Sessions, store.Devices, store.Sweeper, store.Recovery, store.Signals", v)
	}
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			v := open(t)
			if v == nil || !g.needs(v) {
				t.Fatalf("storetest: open returned %T, which lacks what the first value it returned had", v)
			}
			g.run(t, v)
		})
	}
}

// uid returns a random identifier with a readable prefix, unique across
// runs so a shared database never sees the same key twice.
func uid(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// randBytes returns n random bytes, the shape of a sealed secret or a hash.
func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// wantErr fails t unless err wraps target (or is nil when target is nil).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

// must fails t on a non-nil error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, nil)
}

// diff collects field mismatches so one failure names every wrong field.
type diff []string

func (d *diff) str(name, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", name, got, want))
	}
}

func (d *diff) bytes(name string, got, want []byte) {
	if !bytes.Equal(got, want) {
		*d = append(*d, fmt.Sprintf("%s = %x, want %x", name, got, want))
	}
}

func (d *diff) time(name string, got, want time.Time) {
	if !got.Equal(want) {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v", name, got, want))
	}
}

func (d *diff) int(name string, got, want int64) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %d, want %d", name, got, want))
	}
}

func (d *diff) bool(name string, got, want bool) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %t, want %t", name, got, want))
	}
}

func (d diff) report(t *testing.T, what string) {
	t.Helper()
	if len(d) > 0 {
		t.Fatalf("%s:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

func checkFactor(t *testing.T, what string, got, want store.Factor) {
	t.Helper()
	var d diff
	d.str("UserID", got.UserID, want.UserID)
	d.str("ID", got.ID, want.ID)
	d.str("Kind", got.Kind, want.Kind)
	d.str("Name", got.Name, want.Name)
	d.str("Status", string(got.Status), string(want.Status))
	d.str("Lookup", got.Lookup, want.Lookup)
	d.bytes("Secret", got.Secret, want.Secret)
	d.bytes("Data", got.Data, want.Data)
	d.int("Counter", got.Counter, want.Counter)
	d.time("Created", got.Created, want.Created)
	d.time("Confirmed", got.Confirmed, want.Confirmed)
	d.time("LastUsed", got.LastUsed, want.LastUsed)
	d.report(t, what)
}

func checkState(t *testing.T, what string, got, want store.CounterState) {
	t.Helper()
	var d diff
	d.int("Failures", int64(got.Failures), int64(want.Failures))
	d.time("Until", got.Until, want.Until)
	d.time("Expires", got.Expires, want.Expires)
	d.report(t, what)
}

func checkChallenge(t *testing.T, what string, got, want store.Challenge) {
	t.Helper()
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("UserID", got.UserID, want.UserID)
	d.str("FactorID", got.FactorID, want.FactorID)
	d.str("Kind", got.Kind, want.Kind)
	d.str("Binding", got.Binding, want.Binding)
	d.bytes("Data", got.Data, want.Data)
	d.time("Created", got.Created, want.Created)
	d.time("Expires", got.Expires, want.Expires)
	d.report(t, what)
}

func checkSession(t *testing.T, what string, got, want store.Session) {
	t.Helper()
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("UserID", got.UserID, want.UserID)
	d.bytes("Refresh", got.Refresh, want.Refresh)
	d.bytes("Data", got.Data, want.Data)
	d.time("Created", got.Created, want.Created)
	d.time("LastUsed", got.LastUsed, want.LastUsed)
	d.time("IdleExpires", got.IdleExpires, want.IdleExpires)
	d.time("Expires", got.Expires, want.Expires)
	d.bool("Revoked", got.Revoked, want.Revoked)
	d.report(t, what)
}

func checkDevice(t *testing.T, what string, got, want store.Device) {
	t.Helper()
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("UserID", got.UserID, want.UserID)
	d.bytes("Hash", got.Hash, want.Hash)
	d.str("Name", got.Name, want.Name)
	d.time("Created", got.Created, want.Created)
	d.time("LastUsed", got.LastUsed, want.LastUsed)
	d.time("Expires", got.Expires, want.Expires)
	d.report(t, what)
}

// ids lists the IDs of records, for order checks.
func ids[T any](list []T, id func(T) string) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = id(v)
	}
	return strings.Join(s, ",")
}

// race runs fn in n goroutines released together and returns their errors
// by index. The barrier makes them contend instead of running in turn.
func race(n int, fn func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts errors by sentinel; other holds the first unexpected error.
type tally struct {
	ok, notFound, exists, conflict, reused int
	other                                  error
}

func count(errs []error) tally {
	var c tally
	for _, err := range errs {
		switch {
		case err == nil:
			c.ok++
		case errors.Is(err, store.ErrNotFound):
			c.notFound++
		case errors.Is(err, store.ErrExists):
			c.exists++
		case errors.Is(err, store.ErrConflict):
			c.conflict++
		case errors.Is(err, store.ErrReused):
			c.reused++
		case c.other == nil:
			c.other = err
		}
	}
	return c
}

var ctx = context.Background()
