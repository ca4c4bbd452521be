package mongostore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/mongostore"
)

// TestBadInput: identifiers a client chose (a challenge ID, a user ID, a
// lookup key, a scan cursor) that name nothing, or that look like the
// store's own key encoding, find nothing, change nothing, and never
// reach another record.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, newDatabase(t), mongostore.Config{})
	now := t0
	f := store.Factor{UserID: "alice", ID: "f1", Kind: "webauthn", Lookup: "cred", Status: store.StatusActive, Secret: []byte("sealed"), Created: now}
	must(t, s.CreateFactor(ctx, f))
	ch := store.Challenge{ID: "ch1", UserID: "alice", Kind: "email", Data: []byte("hash"), Created: now, Expires: now.Add(time.Minute)}
	must(t, s.PutChallenge(ctx, ch))

	odd := []string{"", "#", "#0", "ch1#0", "ch1\x00", "tch1", "c" + "ch1", "5:alice|2:f1", "alice|2:f1", strings.Repeat("x", 4096), "$where", "a.b"}
	for _, id := range odd {
		if _, err := s.TakeChallenge(ctx, id, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeChallenge(%.20q): %v, want ErrNotFound", id, err)
		}
		if _, err := s.GetFactor(ctx, id, "f1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetFactor(%.20q, f1): %v, want ErrNotFound", id, err)
		}
		if _, err := s.GetFactor(ctx, "alice", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetFactor(alice, %.20q): %v, want ErrNotFound", id, err)
		}
		if _, err := s.FindFactor(ctx, "webauthn", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindFactor(webauthn, %.20q): %v, want ErrNotFound", id, err)
		}
		if _, err := s.GetSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetSession(%.20q): %v, want ErrNotFound", id, err)
		}
		if err := s.Advance(ctx, store.Advance{UserID: id, FactorID: "f1", From: 0, To: 1, Now: now}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Advance(%.20q): %v, want ErrNotFound", id, err)
		}
	}
	for _, c := range []string{"!", "AAAA", strings.Repeat("A", 5000)} {
		if _, _, err := s.ScanFactors(ctx, c, 10); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ScanFactors(%.20q): %v, want ErrInvalid", c, err)
		}
	}
	// Nothing changed.
	got, err := s.GetFactor(ctx, "alice", "f1")
	if err != nil || got.Counter != 0 || string(got.Secret) != "sealed" {
		t.Fatalf("the factor after the bad input: %+v, %v", got, err)
	}
	if got, err := s.FindFactor(ctx, "webauthn", "cred"); err != nil || got.ID != "f1" {
		t.Fatalf("FindFactor after the bad input: %+v, %v", got, err)
	}
	if got, err := s.TakeChallenge(ctx, "ch1", now); err != nil || string(got.Data) != "hash" {
		t.Fatalf("the challenge after the bad input: %+v, %v", got, err)
	}
}
