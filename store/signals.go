package store

import (
	"context"
	"fmt"
	"time"
)

// Signal is one record of recent activity that monitoring keeps: a
// sign-in and where it came from, a failed attempt from an address, a
// factor kind tried. Data is the monitor's own encoding, opaque to the
// backend and small (at most [MaxSignalData] bytes); it never holds a
// secret.
//
// A backend keeps Time and Expires at its own precision, whole
// milliseconds or finer (memstore nanoseconds, SQL microseconds, Redis
// milliseconds); records whose Times are equal at that precision keep the
// order they were added in.
type Signal struct {
	Time    time.Time
	Expires time.Time // the record is gone at and after this instant
	Data    []byte
}

// MaxSignalData bounds Signal.Data: [Signals.Observe] refuses more, and
// the monitor never writes more.
const MaxSignalData = 512

// MaxSignalKey bounds a Sighting's Key, in bytes.
const MaxSignalKey = 256

// MaxSignalKeep bounds Sighting.Keep.
const MaxSignalKeep = 256

// Sighting asks [Signals.Observe] to add one Signal to the list under Key
// (or only to read the list, when Signal.Data is nil) and to keep at most
// Keep records there.
type Sighting struct {
	// Key names the list. A backend treats it as opaque text of at most
	// MaxSignalKey bytes, as it does CounterKey fields.
	Key string
	// Signal is added unless its Data is nil.
	Signal Signal
	// Keep is the most records the list holds after the call: when it
	// would hold more, the oldest (by Time, then by the order they were
	// added) go. 1 ≤ Keep ≤ MaxSignalKeep.
	Keep int
}

// Check reports a sighting out of bounds, with an error wrapping
// ErrInvalid: an empty Key or one longer than MaxSignalKey, Keep outside
// 1 to MaxSignalKeep, or Data longer than MaxSignalData. Backends call it
// on every sighting of a call before they read or write anything.
func (o Sighting) Check() error {
	switch {
	case o.Key == "" || len(o.Key) > MaxSignalKey:
		return fmt.Errorf("mfa: signal key of %d bytes (want 1 to %d): %w", len(o.Key), MaxSignalKey, ErrInvalid)
	case o.Keep < 1 || o.Keep > MaxSignalKeep:
		return fmt.Errorf("mfa: signal keep %d (want 1 to %d): %w", o.Keep, MaxSignalKeep, ErrInvalid)
	case len(o.Signal.Data) > MaxSignalData:
		return fmt.Errorf("mfa: signal data of %d bytes (want at most %d): %w", len(o.Signal.Data), MaxSignalData, ErrInvalid)
	}
	return nil
}

// Signals keeps short, bounded, expiring lists of recent activity, so that
// a detector in any instance sees what every instance saw: the places a
// user signed in from, the users who failed from one address, the factor
// kinds one user tried.
type Signals interface {
	// Observe handles every Sighting in one call, which a networked
	// backend makes one round trip where it can: for each, atomically,
	// it drops the records of that list expired at now, adds the
	// Signal (unless its Data is nil), trims the list to its Keep newest
	// records, and returns the list as it then stands, oldest first
	// (by Time, then by the order the records were added). lists[i]
	// belongs to sightings[i]; an empty list is an empty slice. Two
	// concurrent Observes on one key never lose each other's records
	// (beyond what Keep trims). A list with no live record left is
	// removed. Zero sightings return no lists and do no I/O.
	//
	// A Signal already expired at now (Expires not after now) is not
	// added: the sighting only reads, as if its Data were nil. The
	// same key may appear in several sightings of one call; each sees
	// the list as the sightings before it left it.
	//
	// A sighting out of bounds (an empty Key or one longer than
	// MaxSignalKey bytes, Keep outside 1 to MaxSignalKeep, Data longer
	// than MaxSignalData bytes) is refused with an error wrapping
	// [ErrInvalid] before anything is read or written: a call holding
	// one stores nothing, for any of its sightings.
	Observe(ctx context.Context, now time.Time, sightings ...Sighting) (lists [][]Signal, err error)
}
