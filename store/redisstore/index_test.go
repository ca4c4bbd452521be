package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/redisstore"
)

// TestIndexKeepsCreatesInFlight creates many sessions (or devices) of one
// user while another goroutine reads the user's index (List*) or creates
// more records of the same user, then revokes (deletes) them all: every
// record must be reached through the index. On a sharded client a create
// adds the index entry and writes the record in two steps; a reader or a
// concurrent create that dropped the entry in between, because its record
// did not exist yet, left a live session that RevokeUserSessions never
// revoked.
func TestIndexKeepsCreatesInFlight(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	ring, dbs := newRing(t, opt)
	single := newClient(t)
	// creates by the test's goroutine, beside partnerN others.
	const creates, partnerN = 300, 4
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	type kind struct {
		name   string
		create func(s *redisstore.Store, user, id string) error
		list   func(s *redisstore.Store, user string) error
		// clear revokes or deletes every record of user and returns how
		// many it reached.
		clear func(s *redisstore.Store, user string) (int, error)
		// gone reports whether the record id is revoked or deleted.
		gone func(s *redisstore.Store, id string) (bool, error)
	}
	ctx := context.Background()
	kinds := []kind{{
		name: "sessions",
		create: func(s *redisstore.Store, user, id string) error {
			return s.CreateSession(ctx, store.Session{ID: id, UserID: user, Refresh: []byte("h-" + id),
				Created: now, LastUsed: now, IdleExpires: now.Add(time.Hour), Expires: now.Add(24 * time.Hour)})
		},
		list: func(s *redisstore.Store, user string) error {
			_, err := s.ListSessions(ctx, user)
			return err
		},
		clear: func(s *redisstore.Store, user string) (int, error) { return s.RevokeUserSessions(ctx, user) },
		gone: func(s *redisstore.Store, id string) (bool, error) {
			x, err := s.GetSession(ctx, id)
			return x.Revoked, err
		},
	}, {
		name: "devices",
		create: func(s *redisstore.Store, user, id string) error {
			return s.CreateDevice(ctx, store.Device{ID: id, UserID: user, Hash: []byte("h-" + id),
				Created: now, LastUsed: now, Expires: now.Add(30 * 24 * time.Hour)})
		},
		list: func(s *redisstore.Store, user string) error {
			_, err := s.ListDevices(ctx, user, now)
			return err
		},
		clear: func(s *redisstore.Store, user string) (int, error) { return s.DeleteUserDevices(ctx, user) },
		gone: func(s *redisstore.Store, id string) (bool, error) {
			_, err := s.GetDevice(ctx, id, now)
			if errors.Is(err, store.ErrNotFound) {
				return true, nil
			}
			return false, err
		},
	}}
	// partner is what the other goroutines do: read the index in a loop
	// ("list"), create records of the same user too ("create"; every
	// create may prune the index), or revoke or delete all of them in a
	// loop ("clear"). The sharded client is the one that
	// writes an entry and its record in two steps.
	cases := []struct {
		kind    kind
		partner string
		sharded bool
	}{
		{kinds[0], "list", true},
		{kinds[1], "list", true},
		{kinds[0], "create", true},
		{kinds[1], "create", true},
		{kinds[1], "clear", true},
		{kinds[0], "list", false},
	}
	for _, tc := range cases {
		k, partner, sharded := tc.kind, tc.partner, tc.sharded
		name := k.name + "/" + partner + "/single"
		if sharded {
			name = k.name + "/" + partner + "/ring"
		}
		t.Run(name, func(t *testing.T) {
			var s *redisstore.Store
			var err error
			if sharded {
				s, err = redisstore.New(ring, redisstore.Options{Prefix: prefix(t, dbs...)})
			} else {
				s, err = redisstore.New(single, redisstore.Options{Prefix: prefix(t, single)})
			}
			if err != nil {
				t.Fatal(err)
			}
			const user = "alice"
			var (
				stop    atomic.Bool
				wg      sync.WaitGroup
				mu      sync.Mutex
				theirs  []string
				partErr error
			)
			for p := range partnerN {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					for i := 0; !stop.Load() && err == nil; i++ {
						if partner == "list" {
							err = k.list(s, user)
							continue
						}
						id := fmt.Sprintf("p%d-%d", p, i)
						if err = k.create(s, user, id); err == nil {
							mu.Lock()
							theirs = append(theirs, id)
							mu.Unlock()
						}
					}
					if err != nil {
						mu.Lock()
						partErr = err
						mu.Unlock()
					}
				}()
			}
			var ours []string
			for i := range creates {
				id := fmt.Sprintf("m%d", i)
				if err := k.create(s, user, id); err != nil {
					stop.Store(true)
					wg.Wait()
					t.Fatalf("create %s: %v", id, err)
				}
				ours = append(ours, id)
			}
			stop.Store(true)
			wg.Wait()
			if partErr != nil {
				t.Fatalf("partner (%s): %v", partner, partErr)
			}

			all := append(ours, theirs...)
			n, err := k.clear(s, user)
			if err != nil {
				t.Fatal(err)
			}
			var missed []string
			for _, id := range all {
				gone, err := k.gone(s, id)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				if !gone {
					missed = append(missed, id)
				}
			}
			if len(missed) > 0 || n != len(all) {
				t.Errorf("cleared %d of %d %s; still live, missing from the index: %d %v",
					n, len(all), k.name, len(missed), missed)
			}
		})
	}
}

// TestIndexDropsEntriesAfterExpiry follows a user's index (a sorted set,
// see the package docs) through creates at chosen caller times, on a
// single Redis and on the Ring: an entry without a record (written here by
// hand, as the first step of a sharded create leaves it) survives readers,
// RevokeUserSessions, DeleteUserDevices and later creates, until a create
// at a caller time past its record's expiry plus the 10 minute grace drops
// it, with the entries of the records that expired as long ago.
func TestIndexDropsEntriesAfterExpiry(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	ring, dbs := newRing(t, opt)
	single := newClient(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const grace = 10 * time.Minute
	type kind struct {
		name  string
		index string // the index key after the prefix
		// create writes a record of user "alice" created at c, expiring
		// at c+life.
		create func(s *redisstore.Store, id string, c time.Time, life time.Duration) error
		// use lists, then revokes or deletes every record, at now.
		use func(s *redisstore.Store, now time.Time) error
	}
	kinds := []kind{{
		name:  "sessions",
		index: "{u:alice}:ss",
		create: func(s *redisstore.Store, id string, c time.Time, life time.Duration) error {
			return s.CreateSession(ctx, store.Session{ID: id, UserID: "alice", Created: c, LastUsed: c,
				IdleExpires: c.Add(life), Expires: c.Add(life)})
		},
		use: func(s *redisstore.Store, now time.Time) error {
			if _, err := s.ListSessions(ctx, "alice"); err != nil {
				return err
			}
			_, err := s.RevokeUserSessions(ctx, "alice")
			return err
		},
	}, {
		name:  "devices",
		index: "{u:alice}:ds",
		create: func(s *redisstore.Store, id string, c time.Time, life time.Duration) error {
			return s.CreateDevice(ctx, store.Device{ID: id, UserID: "alice", Created: c, LastUsed: c, Expires: c.Add(life)})
		},
		use: func(s *redisstore.Store, now time.Time) error {
			if _, err := s.ListDevices(ctx, "alice", now); err != nil {
				return err
			}
			_, err := s.DeleteUserDevices(ctx, "alice")
			return err
		},
	}}
	// steps run in order on one store; after each, the index holds want
	// (devices: wantDevices, when set: deleted devices leave the index,
	// revoked sessions stay until they expire).
	steps := []struct {
		name        string
		id          string        // created at t0+at; "" only uses the index
		at          time.Duration // caller time of the step
		life        time.Duration
		pending     bool // write only an index entry for id, as a create's first step
		want        []string
		wantDevices []string
	}{
		{name: "first", id: "a", at: 0, life: time.Hour, want: []string{"a"}},
		{name: "entry without its record yet", id: "p", at: 0, life: time.Hour, pending: true, want: []string{"a", "p"}},
		{name: "list, then revoke or delete all", at: time.Minute, want: []string{"a", "p"}, wantDevices: []string{"p"}},
		{name: "create at the entries' score", id: "b", at: time.Hour + grace, life: time.Hour,
			want: []string{"a", "b", "p"}, wantDevices: []string{"b", "p"}},
		{name: "create just past it", id: "c", at: time.Hour + grace + time.Millisecond, life: 24 * time.Hour,
			want: []string{"b", "c"}},
		{name: "create with an earlier clock", id: "d", at: 0, life: time.Minute, want: []string{"b", "c", "d"}},
	}
	for _, k := range kinds {
		for _, sharded := range []bool{false, true} {
			name := k.name + "/single"
			if sharded {
				name = k.name + "/ring"
			}
			t.Run(name, func(t *testing.T) {
				var c redis.UniversalClient = single
				p := ""
				if sharded {
					c, p = ring, prefix(t, dbs...)
				} else {
					p = prefix(t, single)
				}
				s, err := redisstore.New(c, redisstore.Options{Prefix: p})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					now := t0.Add(st.at)
					switch {
					case st.pending:
						score := now.Add(st.life + grace).UnixMilli()
						if err := c.ZAdd(ctx, p+k.index, redis.Z{Score: float64(score), Member: st.id}).Err(); err != nil {
							t.Fatal(err)
						}
					case st.id != "":
						if err := k.create(s, st.id, now, st.life); err != nil {
							t.Fatalf("%s: create %s: %v", st.name, st.id, err)
						}
					default:
						if err := k.use(s, now); err != nil {
							t.Fatalf("%s: %v", st.name, err)
						}
					}
					got, err := c.ZRange(ctx, p+k.index, 0, -1).Result()
					if err != nil {
						t.Fatal(err)
					}
					slices.Sort(got)
					want := st.want
					if k.name == "devices" && st.wantDevices != nil {
						want = st.wantDevices
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s: index = %v, want %v", st.name, got, want)
					}
				}
			})
		}
	}
}
