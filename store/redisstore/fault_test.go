package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"
	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/totp"
)

// faultStore runs every Advance through around: the moment between a
// verification's admitted attempt and its commit.
type faultStore struct {
	mfa.Store
	around func(advance func() error) error
}

func (f *faultStore) Advance(ctx context.Context, req store.Advance) error {
	return f.around(func() error { return f.Store.Advance(ctx, req) })
}

func newVerifier(t testing.TB, s mfa.Store, clk *testkit.Clock) *mfa.Verifier {
	t.Helper()
	tf, err := totp.New(totp.Config{Issuer: "x"})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(mfa.Key{ID: "k1", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{
		Store: s, Factors: []mfa.Factor{tf}, Sealer: kr, HashKey: make([]byte, 32), Now: clk.Now,
		// Generous limits: this test is about faults, not rate limits.
		Limits: mfa.Limits{User: store.Rule{Free: 100, Cap: 100}, Factor: store.Rule{Free: 1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// clients lists the IDs of the connections named name, and whether each
// is blocked (here: held by CLIENT PAUSE with a command in flight).
func clients(admin *redis.Client, name string) (ids []string, blocked int, err error) {
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		return nil, 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		var id, n, flags string
		for _, f := range strings.Fields(sc.Text()) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "id":
				id = v
			case "name":
				n = v
			case "flags":
				flags = v
			}
		}
		if n == name {
			ids = append(ids, id)
			if strings.Contains(flags, "b") {
				blocked++
			}
		}
	}
	return ids, blocked, sc.Err()
}

// killInFlight runs advance with its command held in flight on the server
// (CLIENT PAUSE WRITE holds every script), closes every connection named
// name server side while it is held, and returns advance's result. The
// command is never executed: the server drops it with the connection.
func killInFlight(admin *redis.Client, name string, advance func() error) error {
	ctx := context.Background()
	// The pause outlasts the polling below, which is generous because a
	// loaded machine running the race detector can take seconds to send.
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "15000", "WRITE").Err(); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	defer admin.Do(ctx, "CLIENT", "UNPAUSE")
	done := make(chan error, 1)
	go func() { done <- advance() }()
	var ids []string
	for deadline := time.Now().Add(10 * time.Second); ; { // bounded polling
		var blocked int
		var err error
		if ids, blocked, err = clients(admin, name); err != nil {
			return fmt.Errorf("client list: %w", err)
		}
		if blocked > 0 {
			break
		}
		select {
		case err := <-done:
			// Advance ended without reaching the server (its connection was
			// cut by an earlier kill, say): this fault missed, and what
			// Advance returned is the outcome.
			return err
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("no command of the store's client was held in flight")
		}
		time.Sleep(time.Millisecond)
	}
	for _, id := range ids {
		// The connection may be gone already; that is what we want.
		_ = admin.ClientKillByFilter(ctx, "ID", id).Err()
	}
	admin.Do(ctx, "CLIENT", "UNPAUSE")
	return <-done
}

// TestFaultMidVerification cuts the store's connection in the middle of
// concurrent verifications (between admitted attempts and their commits):
// "kill" closes the connections server side with retries off, so errors
// surface; "kill-retry" does the same with go-redis's default retries;
// "close" closes the client's pool for good. Every attempt must either
// succeed or fail with an error that errors.Is can match (ErrStore for the
// faults), nothing may panic, and no code may be accepted twice, neither
// during the run nor afterwards on a healthy connection.
func TestFaultMidVerification(t *testing.T) {
	t.Parallel()
	redisOptions(t)
	for _, mode := range []string{"kill", "kill-retry", "close"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			faultRun(t, mode)
		})
	}
}

func faultRun(t *testing.T, mode string) {
	const (
		users   = 6
		workers = 4 // concurrent submissions of the same code per user
		rounds  = 12
	)
	ctx := context.Background()
	opt := redisOptions(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "mfa-fault-" + hex.EncodeToString(b[:])
	opt.ClientName = name
	if mode != "kill-retry" {
		opt.MaxRetries = -1
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	admin := newClient(t)
	p := prefix(t, admin)
	rs, err := redisstore.New(c, redisstore.Options{Prefix: p})
	if err != nil {
		t.Fatal(err)
	}

	var (
		advances atomic.Int64
		faults   atomic.Int64
		faultAt  = int64(users * rounds / 2) // at least users*rounds Advances happen
		killErr  error
		mu       sync.Mutex
	)
	fs := &faultStore{Store: rs, around: func(advance func() error) error { return advance() }}
	clk := testkit.NewClock(time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC))
	v := newVerifier(t, fs, clk)

	type user struct{ id, factor, secret string }
	us := make([]user, users)
	for i := range us {
		u := user{id: fmt.Sprintf("user-%d", i)}
		en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: u.id, Kind: mfa.KindTOTP, Account: u.id})
		if err != nil {
			t.Fatal(err)
		}
		u.factor, u.secret = en.FactorID, en.Show.(*totp.Setup).Secret
		code, _ := otptotp.GenerateCode(u.secret, clk.Now())
		if _, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: u.id, FactorID: u.factor, Response: code}); err != nil {
			t.Fatal(err)
		}
		us[i] = u
	}

	// From here on, the fault fires around some Advance calls: once in the
	// middle of the run for close, three times for the kills.
	fs.around = func(advance func() error) error {
		n := advances.Add(1)
		if n != faultAt && (mode == "close" || (n != faultAt/2 && n != faultAt*3/2)) {
			return advance()
		}
		faults.Add(1)
		if mode == "close" {
			c.Close()
			return advance()
		}
		err := killInFlight(admin, name, advance)
		if err != nil && !errors.Is(err, store.ErrConflict) && !isRedisError(err) {
			mu.Lock()
			killErr = err
			mu.Unlock()
		}
		return err
	}

	type key struct{ user, round int }
	var (
		wins    = map[key]int{}
		byError = map[string]int{}
	)
	codes := make([][]string, rounds)
	times := make([]time.Time, rounds)
	for r := range rounds {
		clk.Add(30 * time.Second)
		times[r] = clk.Now()
		codes[r] = make([]string, users)
		var wg sync.WaitGroup
		for ui, u := range us {
			code, _ := otptotp.GenerateCode(u.secret, clk.Now())
			codes[r][ui] = code
			for range workers {
				wg.Go(func() {
					_, err := v.Verify(ctx, mfa.VerifyRequest{UserID: u.id, FactorID: u.factor, Response: code})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins[key{ui, r}]++
						byError["ok"]++
					case errors.Is(err, mfa.ErrStore):
						byError["store"]++
					case errors.Is(err, mfa.ErrReplayed):
						byError["replayed"]++
					case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked):
						byError["limited"]++
					default:
						byError["other"]++
						t.Errorf("round %d user %d: unexpected error %v", r, ui, err)
					}
				})
			}
		}
		wg.Wait()
	}
	if killErr != nil {
		t.Fatalf("killing connections: %v", killErr)
	}
	t.Logf("%s: %d faults injected; outcomes %v", mode, faults.Load(), byError)
	if faults.Load() == 0 {
		t.Fatal("no fault was injected: too few verifications reached Advance")
	}
	if mode != "kill-retry" && byError["store"] == 0 {
		t.Errorf("%s produced no ErrStore", mode)
	}
	if byError["ok"] == 0 {
		t.Error("no verification succeeded at all")
	}
	for k, n := range wins {
		if n > 1 {
			t.Errorf("user %d round %d: one code accepted %d times", k.user, k.round, n)
		}
	}

	// On a healthy connection, every code that was accepted stays spent.
	fresh := newClient(t)
	rs2, err := redisstore.New(fresh, redisstore.Options{Prefix: p})
	if err != nil {
		t.Fatal(err)
	}
	clk2 := &testkit.Clock{}
	v2 := newVerifier(t, rs2, clk2)
	for k := range wins {
		clk2.Set(times[k.round])
		u := us[k.user]
		_, err := v2.Verify(ctx, mfa.VerifyRequest{UserID: u.id, FactorID: u.factor, Response: codes[k.round][k.user]})
		if err == nil {
			t.Errorf("user %d round %d: an accepted code was accepted again after the fault", k.user, k.round)
		} else if !errors.Is(err, mfa.ErrReplayed) && !errors.Is(err, mfa.ErrRateLimited) {
			t.Errorf("user %d round %d: replay after the fault: %v, want ErrReplayed", k.user, k.round, err)
		}
	}
}

// isRedisError reports whether err came from the store's Redis client (a
// dropped connection), as opposed to the test's own fault injection.
func isRedisError(err error) bool {
	return strings.HasPrefix(err.Error(), "mfa: redisstore:")
}
