package storetest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/mfakit/mfa/store"
)

// resealable is what the Reseal checks need: the walk and the factors it
// walks.
type resealable interface {
	store.Factors
	store.Resealable
}

// testReseal runs when the value is a [store.Resealable] and keeps
// Factors: a walk in small pages reaches every factor, a foreign cursor is
// refused, and SwapSecret is a compare-and-set that one of many concurrent
// callers wins.
func testReseal(t *testing.T, v any) {
	s := v.(resealable)
	want := map[store.FactorRef]bool{}
	var made []store.Factor
	for i := range 5 {
		f := newFactor("totp")
		f.ID = string(rune('a' + i))
		if i == 4 {
			f.Secret = nil
		}
		must(t, "CreateFactor", s.CreateFactor(ctx, f))
		want[store.FactorRef{UserID: f.UserID, ID: f.ID}] = true
		made = append(made, f)
	}
	t.Run("WalkReachesEveryFactor", func(t *testing.T) {
		cursor, pages := "", 0
		for {
			page, next, err := s.ScanFactors(ctx, cursor, 2)
			must(t, "ScanFactors", err)
			if next != "" && len(page) == 0 {
				// Allowed only for SCAN-like walks; a cursor must move.
				if next == cursor {
					t.Fatal("ScanFactors returned an empty page and the same cursor")
				}
			}
			for _, f := range page {
				delete(want, store.FactorRef{UserID: f.UserID, ID: f.ID})
			}
			if pages++; next == "" || pages > 1e6 {
				break
			}
			cursor = next
		}
		if len(want) != 0 {
			t.Fatalf("the walk missed %d of 5 factors: %v", len(want), want)
		}
	})
	t.Run("ForeignCursor", func(t *testing.T) {
		_, _, err := s.ScanFactors(ctx, "not a cursor!", 10)
		wantErr(t, "ScanFactors with a foreign cursor", err, store.ErrInvalid)
	})
	t.Run("SwapSecret", func(t *testing.T) {
		f := made[0]
		ref := store.FactorRef{UserID: f.UserID, ID: f.ID}
		err := s.SwapSecret(ctx, ref, randBytes(40), randBytes(40))
		wantErr(t, "SwapSecret with a wrong old secret", err, store.ErrConflict)
		err = s.SwapSecret(ctx, store.FactorRef{UserID: uid("user"), ID: "x"}, f.Secret, randBytes(40))
		wantErr(t, "SwapSecret of a missing factor", err, store.ErrNotFound)

		news := make([][]byte, 8)
		errs := make([]error, len(news))
		var wg sync.WaitGroup
		for i := range news {
			news[i] = randBytes(48)
			wg.Go(func() { errs[i] = s.SwapSecret(ctx, ref, f.Secret, news[i]) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatal("two concurrent SwapSecret calls from the same secret succeeded")
				}
				won = i
				continue
			}
			wantErr(t, "losing SwapSecret", err, store.ErrConflict)
		}
		if won < 0 {
			t.Fatal("no concurrent SwapSecret succeeded")
		}
		got, err := s.GetFactor(ctx, f.UserID, f.ID)
		must(t, "GetFactor", err)
		if !bytes.Equal(got.Secret, news[won]) {
			t.Fatal("the winning SwapSecret's secret is not stored")
		}
		got.Secret = f.Secret
		checkFactor(t, "factor after SwapSecret, secret aside", got, f)
	})
}
