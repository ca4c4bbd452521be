package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// TestSignalKeyAndTTL checks the documented layout and lifetime of a
// signal list: one key in its own hash tag, whatever the list's name
// holds; a Redis TTL of its latest record's remaining lifetime plus the
// grace, so an abandoned list goes without Sweep; no key at all for a
// list only read, or once nothing in it is live.
func TestSignalKeyAndTTL(t *testing.T) {
	t.Parallel()
	s, c, p := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const name = "ip:{10.0.0.1}|%x"
	keys := func() []string {
		t.Helper()
		ks, err := c.Keys(ctx, p+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}

	if _, err := s.Observe(ctx, now, store.Sighting{Key: name, Keep: 5}); err != nil {
		t.Fatal(err)
	}
	if ks := keys(); len(ks) != 0 {
		t.Fatalf("a read of an absent list wrote %v", ks)
	}

	sig := func(d string, exp time.Duration) store.Signal {
		return store.Signal{Time: now, Expires: now.Add(exp), Data: []byte(d)}
	}
	if _, err := s.Observe(ctx, now,
		store.Sighting{Key: name, Signal: sig("a", time.Hour), Keep: 5},
		store.Sighting{Key: name, Signal: sig("b", 2*time.Hour), Keep: 5},
		store.Sighting{Key: name, Signal: sig("c", 30*time.Minute), Keep: 5}); err != nil {
		t.Fatal(err)
	}
	want := p + "{sg:ip%3A%7B10.0.0.1%7D|%25x}"
	if ks := keys(); len(ks) != 1 || ks[0] != want {
		t.Fatalf("keys %q, want exactly %q", ks, want)
	}
	ttl, err := c.PTTL(ctx, want).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The latest record expires in 2 hours; the grace is 10 minutes.
	if lo, hi := 2*time.Hour+9*time.Minute, 2*time.Hour+10*time.Minute; ttl < lo || ttl > hi {
		t.Errorf("TTL %v, want between %v and %v", ttl, lo, hi)
	}

	// Trimming the latest record away shortens the TTL to the next one's.
	if _, err := s.Observe(ctx, now, store.Sighting{Key: name, Signal: sig("d", 45*time.Minute), Keep: 1}); err != nil {
		t.Fatal(err)
	}
	if ttl, err = c.PTTL(ctx, want).Result(); err != nil {
		t.Fatal(err)
	}
	if lo, hi := 54*time.Minute, 55*time.Minute; ttl < lo || ttl > hi {
		t.Errorf("TTL after trimming to the newest record %v, want between %v and %v", ttl, lo, hi)
	}

	lists, err := s.Observe(ctx, now.Add(45*time.Minute), store.Sighting{Key: name, Keep: 5})
	if err != nil || len(lists) != 1 || len(lists[0]) != 0 {
		t.Fatalf("read once every record expired: %v, %v", lists, err)
	}
	if ks := keys(); len(ks) != 0 {
		t.Fatalf("a list with nothing live left is still there: %v", ks)
	}
}

// TestSignalSweep checks that Sweep walks signal lists, removes their
// expired records only, and counts them.
func TestSignalSweep(t *testing.T) {
	t.Parallel()
	s, c, p := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := s.Observe(ctx, now,
		store.Sighting{Key: "k", Signal: store.Signal{Time: now, Expires: now.Add(time.Minute), Data: []byte("old")}, Keep: 5},
		store.Sighting{Key: "k", Signal: store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte("new")}, Keep: 5},
		store.Sighting{Key: "gone}", Signal: store.Signal{Time: now, Expires: now.Add(time.Minute), Data: []byte("old")}, Keep: 5},
	); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx, now.Add(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Sweep: %d, %v; want 2 records", n, err)
	}
	ks, err := c.Keys(ctx, p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 || !strings.HasSuffix(ks[0], "{sg:k}") {
		t.Fatalf("keys after Sweep %q, want the list still live", ks)
	}
	lists, err := s.Observe(ctx, now, store.Sighting{Key: "k", Keep: 5})
	if err != nil || len(lists[0]) != 1 || string(lists[0][0].Data) != "new" {
		t.Fatalf("list after Sweep, read at the earlier clock: %v, %v", lists, err)
	}
}
