package backendtest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
)

// TestSignalsMatchMemstore drives every backend and memstore (the
// reference implementation) through the same random sequence of Observe
// calls (several sightings each, on a few lists, equal Times, records
// already expired, Keep that shrinks and grows, a clock that sometimes
// goes back) and Sweeps, and requires the same lists from every call.
func TestSignalsMatchMemstore(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		if b.name == "memstore" {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			o := b.open(t)
			s := o.concerns.(store.Signals)
			sw, _ := o.concerns.(store.Sweeper)
			ref := memstore.New()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewPCG(seed, 7))
			ctx := context.Background()
			base := newClock().Now()
			sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
			keys := []string{randName("a-"), randName("b-"), randName("c-")}
			clock := 0
			for step := range 300 {
				clock += r.IntN(4)
				if r.IntN(10) == 0 {
					clock -= r.IntN(6) // another instance, a little behind
				}
				now := sec(clock)
				if sw != nil && r.IntN(25) == 0 {
					if _, err := sw.Sweep(ctx, now); err != nil {
						t.Fatal(err)
					}
					if _, err := ref.Sweep(ctx, now); err != nil {
						t.Fatal(err)
					}
					continue
				}
				sightings := make([]store.Sighting, 1+r.IntN(4))
				for i := range sightings {
					o := store.Sighting{Key: keys[r.IntN(len(keys))], Keep: 1 + r.IntN(6)}
					if r.IntN(10) < 7 {
						tm := clock + r.IntN(8) - 4
						o.Signal = store.Signal{Time: sec(tm), Expires: sec(tm + r.IntN(30) - 3), Data: fmt.Appendf(nil, "d%d.%d", step, i)}
					}
					sightings[i] = o
				}
				got, err := s.Observe(ctx, now, sightings...)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				want, err := ref.Observe(ctx, now, sightings...)
				if err != nil {
					t.Fatalf("step %d, memstore: %v", step, err)
				}
				for i := range sightings {
					if d := signalDiff(got[i], want[i]); d != "" {
						t.Fatalf("step %d (seed %d), sighting %d of %d on %s: %s", step, seed, i, len(sightings), sightings[i].Key, d)
					}
				}
			}
		})
	}
}

// signalDiff describes how list got differs from want, or is empty.
func signalDiff(got, want []store.Signal) string {
	show := func(l []store.Signal) string {
		s := ""
		for _, r := range l {
			s += fmt.Sprintf("[%s %s..%s] ", r.Data, r.Time.Format("15:04:05"), r.Expires.Format("15:04:05"))
		}
		return s
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %s, want %s", show(got), show(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || !got[i].Expires.Equal(want[i].Expires) || string(got[i].Data) != string(want[i].Data) {
			return fmt.Sprintf("got %s, want %s", show(got), show(want))
		}
	}
	return ""
}
