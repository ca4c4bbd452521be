package sqlstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// TestSignalKeysAnyBytes stores one record under each of keys that a
// text column would refuse or fold (NUL, bytes that are not UTF-8, a
// trailing space, case) on every dialect, and reads each back alone:
// list keys are kept as the bytes given.
func TestSignalKeysAnyBytes(t *testing.T) {
	keys := []string{"k\x00", "k\x00x", "k\xff", "k\xc3", "k", "k ", "K", "k\u00e9", "ke\u0301"}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0)
			for i, k := range keys {
				rec := store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte(strconv.Itoa(i))}
				if _, err := s.Observe(ctx, now, store.Sighting{Key: k, Signal: rec, Keep: 5}); err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
			}
			for i, k := range keys {
				lists, err := s.Observe(ctx, now, store.Sighting{Key: k, Keep: 5})
				if err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
				if l := lists[0]; len(l) != 1 || string(l[0].Data) != strconv.Itoa(i) {
					t.Errorf("key %q reads %d records %v, want only its own", k, len(l), l)
				}
			}
		})
	}
}
