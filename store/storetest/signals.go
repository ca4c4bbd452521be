package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// testSignals runs when the value is a [store.Signals]; it uses nothing
// else.
func testSignals(t *testing.T, s store.Signals) {
	t.Run("Lists", func(t *testing.T) { signalScripts(t, s) })
	t.Run("BinaryData", func(t *testing.T) { signalData(t, s) })
	t.Run("BadInput", func(t *testing.T) { signalBadInput(t, s) })
	t.Run("ZeroSightings", func(t *testing.T) {
		lists, err := s.Observe(ctx, at(0))
		must(t, "Observe of no sightings", err)
		if len(lists) != 0 {
			t.Fatalf("Observe of no sightings returned %d lists", len(lists))
		}
	})
	t.Run("OpaqueKeys", func(t *testing.T) { signalKeys(t, s) })
	t.Run("Concurrency", func(t *testing.T) { concurrentSignals(t, s) })
}

// sig is a Signal at base+at that expires at base+exp.
func sig(tm, exp time.Duration, data string) store.Signal {
	return store.Signal{Time: at(tm), Expires: at(exp), Data: []byte(data)}
}

// sightingOf is one sighting of a scripted step: key indexes the case's
// keys; a nil sig.Data only reads.
type sightingOf struct {
	key  int
	sig  store.Signal
	keep int
}

func add(key int, s store.Signal, keep int) sightingOf { return sightingOf{key, s, keep} }
func read(key, keep int) sightingOf                    { return sightingOf{key: key, keep: keep} }

// signalStep is one Observe at base+now and the lists it must return.
type signalStep struct {
	now  time.Duration
	obs  []sightingOf
	want [][]store.Signal
}

// list is the expected list of records, oldest first.
func list(s ...store.Signal) []store.Signal {
	if s == nil {
		return []store.Signal{}
	}
	return s
}

func signalScripts(t *testing.T, s store.Signals) {
	const (
		ms     = time.Millisecond
		sec    = time.Second
		hour   = time.Hour
		minute = time.Minute
	)
	a, b, c := sig(2*sec, hour, "a"), sig(1*sec, hour, "b"), sig(3*sec, hour, "c")
	same := func(d string) store.Signal { return sig(sec, hour, d) }
	r := func(i int) store.Signal { return sig(time.Duration(i)*sec, hour, "r"+strconv.Itoa(i)) }
	short, long := sig(0, 10*sec, "short"), sig(sec, 20*sec, "long")
	empty := store.Signal{Time: at(sec), Expires: at(hour), Data: []byte{}}
	tests := []struct {
		name  string
		keys  int
		steps []signalStep
	}{{
		name: "OldestFirst",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, a, 10)}, [][]store.Signal{list(a)}},
			{ms, []sightingOf{add(0, b, 10)}, [][]store.Signal{list(b, a)}},
			{2 * ms, []sightingOf{add(0, c, 10)}, [][]store.Signal{list(b, a, c)}},
			{3 * ms, []sightingOf{read(0, 10)}, [][]store.Signal{list(b, a, c)}},
		},
	}, {
		name: "EqualTimesInOrderAdded",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, same("x"), 10)}, [][]store.Signal{list(same("x"))}},
			{0, []sightingOf{add(0, same("y"), 10)}, [][]store.Signal{list(same("x"), same("y"))}},
			// "a" sorts before "x": the order added, not the data, decides.
			{0, []sightingOf{add(0, same("a"), 10)}, [][]store.Signal{list(same("x"), same("y"), same("a"))}},
			{0, []sightingOf{add(0, sig(500*ms, hour, "w"), 10)}, [][]store.Signal{list(sig(500*ms, hour, "w"), same("x"), same("y"), same("a"))}},
			{0, []sightingOf{add(0, same("v"), 10)}, [][]store.Signal{list(sig(500*ms, hour, "w"), same("x"), same("y"), same("a"), same("v"))}},
		},
	}, {
		name: "ReadOnlyAddsNothing",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{read(0, 10)}, [][]store.Signal{list()}},
			{0, []sightingOf{read(0, 10)}, [][]store.Signal{list()}},
			{0, []sightingOf{add(0, a, 10)}, [][]store.Signal{list(a)}},
			{ms, []sightingOf{read(0, 10)}, [][]store.Signal{list(a)}},
			{ms, []sightingOf{read(0, 10), read(0, 10)}, [][]store.Signal{list(a), list(a)}},
		},
	}, {
		// Data that is empty but not nil is a record.
		name: "EmptyDataAdds",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, empty, 10)}, [][]store.Signal{list(empty)}},
			{0, []sightingOf{read(0, 10)}, [][]store.Signal{list(empty)}},
		},
	}, {
		name: "ExpiredAtExpires",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, short, 10), add(0, long, 10)}, [][]store.Signal{list(short), list(short, long)}},
			{10*sec - ms, []sightingOf{read(0, 10)}, [][]store.Signal{list(short, long)}},
			{10 * sec, []sightingOf{read(0, 10)}, [][]store.Signal{list(long)}},
			// Dropped for good: an earlier clock does not bring it back.
			{5 * sec, []sightingOf{read(0, 10)}, [][]store.Signal{list(long)}},
			// Nothing live left: the list reads as empty, and is gone.
			{20 * sec, []sightingOf{read(0, 10)}, [][]store.Signal{list()}},
			{0, []sightingOf{read(0, 10)}, [][]store.Signal{list()}},
		},
	}, {
		name: "ExpiredDroppedWhileAdding",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, short, 10), add(0, long, 10)}, [][]store.Signal{list(short), list(short, long)}},
			{10 * sec, []sightingOf{add(0, sig(10*sec, minute, "new"), 10)}, [][]store.Signal{list(long, sig(10*sec, minute, "new"))}},
		},
	}, {
		name: "AlreadyExpiredNotAdded",
		keys: 1,
		steps: []signalStep{
			{10 * sec, []sightingOf{add(0, short, 10)}, [][]store.Signal{list()}},
			{10 * sec, []sightingOf{add(0, sig(0, 5*sec, "old"), 10)}, [][]store.Signal{list()}},
			{0, []sightingOf{read(0, 10)}, [][]store.Signal{list()}},
			{10 * sec, []sightingOf{add(0, long, 10)}, [][]store.Signal{list(long)}},
		},
	}, {
		name: "KeepTrimsOldest",
		keys: 1,
		steps: []signalStep{
			{0, []sightingOf{add(0, r(1), 3), add(0, r(2), 3), add(0, r(3), 3)}, [][]store.Signal{list(r(1)), list(r(1), r(2)), list(r(1), r(2), r(3))}},
			{0, []sightingOf{add(0, r(4), 3)}, [][]store.Signal{list(r(2), r(3), r(4))}},
			{0, []sightingOf{add(0, r(5), 3)}, [][]store.Signal{list(r(3), r(4), r(5))}},
			// Older than every record of a full list: trimmed at once.
			{0, []sightingOf{add(0, r(0), 3)}, [][]store.Signal{list(r(3), r(4), r(5))}},
			// A read trims too, for good.
			{0, []sightingOf{read(0, 1)}, [][]store.Signal{list(r(5))}},
			{0, []sightingOf{read(0, 3)}, [][]store.Signal{list(r(5))}},
			{0, []sightingOf{add(0, r(6), 3)}, [][]store.Signal{list(r(5), r(6))}},
		},
	}, {
		name: "SeveralSightings",
		keys: 3,
		steps: []signalStep{
			{0, []sightingOf{add(0, a, 10), add(1, b, 10), add(0, c, 10), read(2, 10), add(0, r(4), 2), read(1, 10)},
				[][]store.Signal{list(a), list(b), list(a, c), list(), list(c, r(4)), list(b)}},
			{0, []sightingOf{read(2, 10), read(1, 10), read(0, 10)}, [][]store.Signal{list(), list(b), list(c, r(4))}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := make([]string, tt.keys)
			for i := range keys {
				keys[i] = uid("sig")
			}
			for n, st := range tt.steps {
				sightings := make([]store.Sighting, len(st.obs))
				for i, o := range st.obs {
					sightings[i] = store.Sighting{Key: keys[o.key], Signal: o.sig, Keep: o.keep}
				}
				what := fmt.Sprintf("step %d (Observe at base+%v)", n, st.now)
				lists, err := s.Observe(ctx, at(st.now), sightings...)
				must(t, what, err)
				if len(lists) != len(st.want) {
					t.Fatalf("%s: %d lists for %d sightings", what, len(lists), len(st.want))
				}
				for i, want := range st.want {
					checkSignals(t, fmt.Sprintf("%s, list %d", what, i), lists[i], want)
				}
			}
		})
	}
}

// signalData stores data of every byte value and of the largest size,
// which must read back exactly.
func signalData(t *testing.T, s store.Signals) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	key := uid("sig")
	recs := []store.Signal{
		{Time: at(0), Expires: at(time.Hour), Data: all},
		{Time: at(time.Millisecond), Expires: at(time.Hour), Data: randBytes(store.MaxSignalData)},
		{Time: at(2 * time.Millisecond), Expires: at(time.Hour), Data: []byte("\x00")},
	}
	for i, r := range recs {
		lists, err := s.Observe(ctx, at(0), store.Sighting{Key: key, Signal: r, Keep: store.MaxSignalKeep})
		must(t, "Observe", err)
		checkSignals(t, "list after add "+strconv.Itoa(i), lists[0], recs[:i+1])
	}
}

// signalBadInput checks that every out-of-bounds sighting is refused,
// alone or among good ones, and that a refused call stores nothing; and
// that the bounds themselves are accepted.
func signalBadInput(t *testing.T, s store.Signals) {
	good := func(key string) store.Sighting {
		return store.Sighting{Key: key, Signal: sig(0, time.Hour, "good"), Keep: 10}
	}
	long := uid("sig")
	long += strings.Repeat("k", store.MaxSignalKey+1-len(long))
	// 129 two-byte runes: 258 bytes, though 129 characters.
	wide := strings.Repeat("é", store.MaxSignalKey/2+1)
	tests := []struct {
		name string
		bad  func(key string) store.Sighting
	}{
		{"EmptyKey", func(string) store.Sighting { return good("") }},
		{"LongKey", func(string) store.Sighting { return good(long) }},
		{"LongKeyInBytes", func(string) store.Sighting { return good(wide) }},
		{"KeepZero", func(k string) store.Sighting { o := good(k); o.Keep = 0; return o }},
		{"KeepNegative", func(k string) store.Sighting { o := good(k); o.Keep = -1; return o }},
		{"KeepTooMany", func(k string) store.Sighting { o := good(k); o.Keep = store.MaxSignalKeep + 1; return o }},
		{"KeepZeroReadOnly", func(k string) store.Sighting { return store.Sighting{Key: k} }},
		{"DataTooLarge", func(k string) store.Sighting {
			o := good(k)
			o.Signal.Data = randBytes(store.MaxSignalData + 1)
			return o
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, bad, after := uid("sig"), uid("sig"), uid("sig")
			refused := func(what string, lists [][]store.Signal, err error) {
				t.Helper()
				if !errors.Is(err, store.ErrInvalid) {
					t.Fatalf("%s: error %v, want one wrapping store.ErrInvalid", what, err)
				}
				if !strings.HasPrefix(err.Error(), "mfa: ") {
					t.Errorf("%s: error %q does not start with \"mfa: \"", what, err)
				}
				if lists != nil {
					t.Errorf("%s: %d lists returned with the error", what, len(lists))
				}
			}
			lists, err := s.Observe(ctx, at(0), tt.bad(bad))
			refused("alone", lists, err)
			lists, err = s.Observe(ctx, at(0), good(before), tt.bad(bad), good(after))
			refused("among good sightings", lists, err)
			// Nothing stored: neither the good sightings nor the bad one.
			lists, err = s.Observe(ctx, at(time.Millisecond), store.Sighting{Key: before, Keep: 10},
				store.Sighting{Key: bad, Keep: 10}, store.Sighting{Key: after, Keep: 10})
			must(t, "Observe of the keys after a refused call", err)
			for i, l := range lists {
				checkSignals(t, "list "+strconv.Itoa(i)+" after a refused call", l, list())
			}
		})
	}

	t.Run("Bounds", func(t *testing.T) {
		key := uid("sig")
		key += strings.Repeat("k", store.MaxSignalKey-len(key))
		wideOK := uid("sig") + "-"
		wideOK += strings.Repeat("é", (store.MaxSignalKey-len(wideOK))/2)
		rec := store.Signal{Time: at(0), Expires: at(time.Hour), Data: randBytes(store.MaxSignalData)}
		for _, k := range []string{key, wideOK} {
			lists, err := s.Observe(ctx, at(0), store.Sighting{Key: k, Signal: rec, Keep: store.MaxSignalKeep})
			must(t, fmt.Sprintf("Observe with a key of %d bytes, Keep %d, Data of %d bytes", len(k), store.MaxSignalKeep, len(rec.Data)), err)
			checkSignals(t, "list at the bounds", lists[0], list(rec))
			lists, err = s.Observe(ctx, at(0), store.Sighting{Key: k, Keep: 1})
			must(t, "Observe with Keep 1", err)
			checkSignals(t, "list read back", lists[0], list(rec))
		}
	})
}

// signalKeys stores one record under each of many keys that differ only
// in characters a backend might treat specially (separators, hash tags,
// escapes, case, trailing spaces, Unicode forms) and reads each back
// alone.
func signalKeys(t *testing.T, s store.Signals) {
	base := uid("sig")
	suffixes := []string{"", "|", "|x", "x|", "{x}", "{", "}", "%7Bx%7D", "%", "%25", ":", ":x", "x:", "::",
		"a b", "a b ", " ", "a", "A", "é", "e\u0301", "日本", "\t", `x\y`, "'", `"`, "*", "?", "[x]", "$1", "x y"}
	add := make([]store.Sighting, len(suffixes))
	read := make([]store.Sighting, len(suffixes))
	want := make([]store.Signal, len(suffixes))
	for i, suf := range suffixes {
		want[i] = sig(0, time.Hour, strconv.Itoa(i))
		add[i] = store.Sighting{Key: base + suf, Signal: want[i], Keep: 10}
		read[i] = store.Sighting{Key: base + suf, Keep: 10}
	}
	// Added in one call, read in another, read once more one by one.
	lists, err := s.Observe(ctx, at(0), add...)
	must(t, "Observe adding under every key", err)
	for i := range suffixes {
		checkSignals(t, fmt.Sprintf("key %q while adding", base+suffixes[i]), lists[i], list(want[i]))
	}
	lists, err = s.Observe(ctx, at(0), read...)
	must(t, "Observe reading every key", err)
	for i := range suffixes {
		checkSignals(t, fmt.Sprintf("key %q", base+suffixes[i]), lists[i], list(want[i]))
	}
	for i, o := range read {
		lists, err := s.Observe(ctx, at(0), o)
		must(t, "Observe", err)
		checkSignals(t, fmt.Sprintf("key %q alone", base+suffixes[i]), lists[0], list(want[i]))
	}
}

// concurrentSignals has racers add one record each to one list at once.
func concurrentSignals(t *testing.T, s store.Signals) {
	now := at(time.Minute)
	// Equal Times: the list is in the order the records went in, so each
	// racer's list ends with its own record and is a prefix of the final
	// list, and nothing is lost.
	t.Run("Keep256", func(t *testing.T) {
		key := uid("sig")
		got := make([][]store.Signal, racers)
		errs := race(racers, func(i int) error {
			lists, err := s.Observe(ctx, now, store.Sighting{Key: key, Signal: sig(0, time.Hour, "r"+strconv.Itoa(i)), Keep: store.MaxSignalKeep})
			if err == nil {
				got[i] = lists[0]
			}
			return err
		})
		for i, err := range errs {
			must(t, "racer "+strconv.Itoa(i), err)
		}
		lists, err := s.Observe(ctx, now, store.Sighting{Key: key, Keep: store.MaxSignalKeep})
		must(t, "Observe after the race", err)
		final := data(lists[0])
		if len(final) != racers {
			t.Fatalf("%d records after %d concurrent adds with Keep %d, want all: %v", len(final), racers, store.MaxSignalKeep, final)
		}
		seen := map[string]bool{}
		for _, d := range final {
			seen[d] = true
		}
		for i := range racers {
			if !seen["r"+strconv.Itoa(i)] {
				t.Errorf("record of racer %d lost", i)
			}
			mine := data(got[i])
			if len(mine) == 0 || mine[len(mine)-1] != "r"+strconv.Itoa(i) {
				t.Errorf("racer %d saw %v, which does not end with its own record", i, mine)
			}
			if len(mine) > len(final) || !slices.Equal(mine, final[:len(mine)]) {
				t.Errorf("racer %d saw %v, not a prefix of the final list %v", i, mine, final)
			}
		}
	})
	// Distinct Times: whatever order they arrive in, the 10 newest stay.
	t.Run("Keep10", func(t *testing.T) {
		key := uid("sig")
		errs := race(racers, func(i int) error {
			lists, err := s.Observe(ctx, now, store.Sighting{Key: key, Signal: sig(time.Duration(i)*time.Millisecond, time.Hour, "r"+strconv.Itoa(i)), Keep: 10})
			if err == nil && (len(lists[0]) > 10 || !sortedSignals(lists[0])) {
				return fmt.Errorf("racer %d saw %d records, out of order or more than Keep: %v", i, len(lists[0]), data(lists[0]))
			}
			return err
		})
		for i, err := range errs {
			must(t, "racer "+strconv.Itoa(i), err)
		}
		lists, err := s.Observe(ctx, now, store.Sighting{Key: key, Keep: store.MaxSignalKeep})
		must(t, "Observe after the race", err)
		var want []string
		for i := racers - 10; i < racers; i++ {
			want = append(want, "r"+strconv.Itoa(i))
		}
		if got := data(lists[0]); !slices.Equal(got, want) {
			t.Fatalf("after %d concurrent adds with Keep 10: %v, want the 10 newest %v", racers, got, want)
		}
	})
}

func data(l []store.Signal) []string {
	out := make([]string, len(l))
	for i, r := range l {
		out[i] = string(r.Data)
	}
	return out
}

func sortedSignals(l []store.Signal) bool {
	return slices.IsSortedFunc(l, func(a, b store.Signal) int { return a.Time.Compare(b.Time) })
}

// checkSignals compares a list with want record by record; an empty list
// must be an empty slice, not nil.
func checkSignals(t *testing.T, what string, got, want []store.Signal) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil list, want an empty slice at least", what)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records %q, want %d %q", what, len(got), data(got), len(want), data(want))
	}
	var d diff
	for i := range want {
		n := strconv.Itoa(i)
		d.time("["+n+"].Time", got[i].Time, want[i].Time)
		d.time("["+n+"].Expires", got[i].Expires, want[i].Expires)
		d.bytes("["+n+"].Data", got[i].Data, want[i].Data)
	}
	d.report(t, what)
}
