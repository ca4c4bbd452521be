package factor_test

import (
	"bytes"
	"testing"

	"github.com/mfakit/mfa/factor"
)

func ring(t testing.TB, keys ...factor.HashKey) *factor.Hasher {
	t.Helper()
	h, err := factor.NewHasherRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var (
	legacyKey = factor.HashKey{Secret: bytes.Repeat([]byte{1}, 32)}
	newKey    = factor.HashKey{ID: "k2", Secret: bytes.Repeat([]byte{2}, 32)}
)

// A stamp names its key: bare 32 bytes for the empty ID (the format from
// before key IDs), tagged otherwise; a ring checks stamps of every key it
// holds and nothing else.
func TestHasherRingStamps(t *testing.T) {
	legacy, err := factor.NewHasher(legacyKey.Secret)
	if err != nil {
		t.Fatal(err)
	}
	rotated := ring(t, newKey, legacyKey)
	only := ring(t, newKey)
	old := legacy.Stamp("d", []byte("x"))
	if sum := legacy.Sum("d", []byte("x")); !bytes.Equal(old, sum[:]) {
		t.Fatal("the empty ID's stamp is not the bare sum")
	}
	cur := rotated.Stamp("d", []byte("x"))
	if id, ok := factor.StampKeyID(cur); !ok || id != "k2" || rotated.KeyID() != "k2" {
		t.Fatalf("StampKeyID = %q, %v", id, ok)
	}
	for _, tc := range []struct {
		name   string
		h      *factor.Hasher
		stored []byte
		want   bool
	}{
		{"legacy by ring", rotated, old, true},
		{"new by ring", rotated, cur, true},
		{"new by new only", only, cur, true},
		{"legacy by new only", only, old, false},
		{"new by legacy", legacy, cur, false},
		{"empty", rotated, nil, false},
		{"truncated", rotated, cur[:len(cur)-1], false},
		{"bad tag", rotated, append([]byte{'x'}, cur[1:]...), false},
		{"ID length lies", rotated, append([]byte{'k', 9}, cur[2:]...), false},
		{"33 bytes", rotated, append(append([]byte{}, old...), 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Match(tc.stored, "d", []byte("x")); got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
			if tc.want && tc.h.Match(tc.stored, "d", []byte("y")) {
				t.Fatal("Match accepted other parts")
			}
		})
	}
	if _, ok := rotated.SumKey("nope", "d"); ok {
		t.Fatal("SumKey with an unknown ID")
	}
	for _, bad := range [][]factor.HashKey{
		{newKey, newKey},
		{{ID: "a", Secret: make([]byte, 31)}},
		{{ID: string(make([]byte, factor.MaxHashKeyIDLen+1)), Secret: make([]byte, 32)}},
	} {
		if _, err := factor.NewHasherRing(bad[0], bad[1:]...); err == nil {
			t.Fatalf("NewHasherRing accepted %d keys with a bad one", len(bad))
		}
	}
}

func FuzzStampKeyID(f *testing.F) {
	h := ring(f, newKey, legacyKey)
	f.Add(h.Stamp("d"))
	f.Add(make([]byte, 32))
	f.Add([]byte{'k', 1, 'a'})
	f.Fuzz(func(t *testing.T, stored []byte) {
		id, ok := factor.StampKeyID(stored)
		if !ok {
			if h.Match(stored, "d") {
				t.Fatal("a malformed stamp matched")
			}
			return
		}
		if len(stored) != 32 && len(stored) != 34+len(id) {
			t.Fatalf("ID %q does not account for %d bytes", id, len(stored))
		}
	})
}
