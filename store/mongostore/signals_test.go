package mongostore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/store/mongostore"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sig(at time.Duration, life time.Duration, data string) store.Signal {
	return store.Signal{Time: t0.Add(at), Expires: t0.Add(at + life), Data: []byte(data)}
}

// TestSignalsLikeMemstore runs one script of Observe calls on the store
// and on memstore, the reference, and wants the same lists back.
func TestSignalsLikeMemstore(t *testing.T) {
	s := newStore(t, newDatabase(t), mongostore.Config{})
	ref := memstore.New()
	ctx := context.Background()
	a, b := "user|alice", "ip|192.0.2.1"
	steps := []struct {
		now       time.Duration
		sightings []store.Sighting
	}{
		{0, []store.Sighting{{Key: a, Keep: 3, Signal: sig(0, time.Hour, "a0")}}},
		{time.Second, []store.Sighting{{Key: a, Keep: 3, Signal: sig(time.Second, time.Minute, "a1")}, {Key: b, Keep: 2, Signal: sig(0, time.Hour, "b0")}}},
		// Same time as a1: after it, in the order added.
		{2 * time.Second, []store.Sighting{{Key: a, Keep: 3, Signal: sig(time.Second, time.Hour, "a2")}}},
		// An older Time goes before the others.
		{3 * time.Second, []store.Sighting{{Key: a, Keep: 3, Signal: sig(-time.Second, time.Hour, "a3")}}},
		// Read only.
		{4 * time.Second, []store.Sighting{{Key: a, Keep: 3}, {Key: b, Keep: 2}}},
		// a1 expired at 61 s; trimming to 2.
		{2 * time.Minute, []store.Sighting{{Key: a, Keep: 2, Signal: sig(2*time.Minute, time.Hour, "a4")}, {Key: b, Keep: 1, Signal: sig(2*time.Minute, time.Hour, "b1")}}},
		// Everything expired: empty lists.
		{3 * time.Hour, []store.Sighting{{Key: a, Keep: 3}, {Key: b, Keep: 3}}},
		// The same key twice in one call.
		{4 * time.Hour, []store.Sighting{{Key: a, Keep: 2, Signal: sig(4*time.Hour, time.Hour, "a5")}, {Key: a, Keep: 2, Signal: sig(4*time.Hour, time.Hour, "a6")}}},
	}
	for i, st := range steps {
		now := t0.Add(st.now)
		want, err := ref.Observe(ctx, now, st.sightings...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Observe(ctx, now, st.sightings...)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if g, w := show(got), show(want); g != w {
			t.Errorf("step %d: got\n%s\nwant\n%s", i, g, w)
		}
	}
	if got, err := s.Observe(ctx, t0); err != nil || got != nil {
		t.Errorf("no sightings: %v, %v; want nil, nil", got, err)
	}
}

func show(lists [][]store.Signal) string {
	var b strings.Builder
	for i, l := range lists {
		fmt.Fprintf(&b, "[%d]", i)
		if l == nil {
			b.WriteString(" nil")
		}
		for _, s := range l {
			fmt.Fprintf(&b, " %s@%s-%s", s.Data, s.Time.Sub(t0), s.Expires.Sub(t0))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSignalsConcurrent: concurrent Observes on one key lose nothing.
func TestSignalsConcurrent(t *testing.T) {
	s := newStore(t, newDatabase(t), mongostore.Config{})
	ctx := context.Background()
	const n = 24
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Observe(ctx, t0, store.Sighting{Key: "k", Keep: store.MaxSignalKeep, Signal: sig(0, time.Hour, fmt.Sprint(i))})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	lists, err := s.Observe(ctx, t0, store.Sighting{Key: "k", Keep: store.MaxSignalKeep})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range lists[0] {
		seen[string(r.Data)] = true
	}
	if len(lists[0]) != n || len(seen) != n {
		t.Fatalf("%d concurrent Observes left %d records (%d distinct)", n, len(lists[0]), len(seen))
	}
}

// TestSignalsBadInput: a sighting the store cannot keep is refused with
// ErrInvalid, and nothing of the call is stored.
func TestSignalsBadInput(t *testing.T) {
	s := newStore(t, newDatabase(t), mongostore.Config{})
	ctx := context.Background()
	good := store.Sighting{Key: "good", Keep: 2, Signal: sig(0, time.Hour, "x")}
	for _, tc := range []struct {
		name string
		bad  store.Sighting
	}{
		{"empty key", store.Sighting{Keep: 1, Signal: sig(0, time.Hour, "x")}},
		{"long key", store.Sighting{Key: strings.Repeat("k", store.MaxSignalKey+1), Keep: 1, Signal: sig(0, time.Hour, "x")}},
		{"keep 0", store.Sighting{Key: "k", Signal: sig(0, time.Hour, "x")}},
		{"keep too many", store.Sighting{Key: "k", Keep: store.MaxSignalKeep + 1, Signal: sig(0, time.Hour, "x")}},
		{"data too large", store.Sighting{Key: "k", Keep: 1, Signal: store.Signal{Time: t0, Expires: t0.Add(time.Hour), Data: bytes.Repeat([]byte{1}, store.MaxSignalData+1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lists, err := s.Observe(ctx, t0, good, tc.bad)
			if !errors.Is(err, store.ErrInvalid) || lists != nil || !strings.HasPrefix(err.Error(), "mfa: ") {
				t.Fatalf("Observe: %v, %v; want ErrInvalid", lists, err)
			}
			if strings.Contains(err.Error(), "\x01") {
				t.Fatalf("the error repeats the data: %v", err)
			}
			got, err := s.Observe(ctx, t0, store.Sighting{Key: "good", Keep: 2})
			if err != nil || len(got[0]) != 0 {
				t.Fatalf("after a refused call: %v, %v; want nothing stored", got, err)
			}
		})
	}
}
