package backendtest_test

// Push approval on every backend: a whole sign-in, and exactly one
// accepted answer of many identical answers sent at once, from goroutines
// over two Factor values (two instances) and, on PostgreSQL and Redis,
// from separate OS processes.

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

func newPush(tb testing.TB, s push.Store, now func() time.Time) *push.Factor {
	tb.Helper()
	pf, err := push.New(push.Config{Store: s, HashKey: hashKey, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return pf
}

// pushed pairs a device to user and issues a push to it; it returns the
// device, the factor ID, the challenge and the prompt.
func pushed(tb testing.TB, v *mfa.Verifier, user string, clk *testkit.Clock) (*testkit.PushDevice, string, *mfa.IssuedChallenge, *push.Prompt) {
	tb.Helper()
	ctx := context.Background()
	en, err := v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: user, Kind: push.Kind})
	if err != nil {
		tb.Fatal(err)
	}
	d := testkit.NewPushDevice(tb, false)
	body := d.Register(tb, en.Show.(*push.Pairing).Code, "Phone", nil)
	res, err := v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: user, ChallengeID: en.ChallengeID, Response: string(body)})
	if err != nil {
		tb.Fatal(err)
	}
	ic, err := v.Challenge(ctx, mfa.ChallengeRequest{UserID: user, Kind: push.Kind, Binding: "attempt"})
	if err != nil {
		tb.Fatal(err)
	}
	return d, res.FactorID, ic, ic.Show.(*push.Prompt)
}

func pushVerifier(tb testing.TB, s mfa.Store, pf *push.Factor, clk *testkit.Clock) *mfa.Verifier {
	tb.Helper()
	kr, err := mfa.NewKeyring(sealKey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := mfa.New(mfa.Config{Store: s, Factors: []mfa.Factor{pf}, Sealer: kr, HashKey: hashKey, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestPushOneAnswer(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			clk := newClock()
			// Two instances: two Factors and Verifiers over one store.
			pfs := []*push.Factor{newPush(t, s, clk.Now), newPush(t, s, clk.Now)}
			vs := []*mfa.Verifier{pushVerifier(t, s, pfs[0], clk), pushVerifier(t, s, pfs[1], clk)}
			ctx := context.Background()
			user := randName("u")
			d, fid, ic, p := pushed(t, vs[0], user, clk)
			if _, err := pfs[1].Poll(ctx, d.Poll(t, clk.Now().Unix())); err != nil {
				t.Fatal(err)
			}
			body := d.Answer(t, p.RequestID, p.Number, push.Approve, clk.Now().Unix())
			const n = 1000
			var ok, expired atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					err := pfs[i%2].Answer(ctx, body)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, mfa.ErrExpired):
						expired.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if ok.Load() != 1 || expired.Load() != n-1 {
				t.Fatalf("%d answers recorded, %d refused as answered, of %d; want 1 and %d", ok.Load(), expired.Load(), n, n-1)
			}
			ans, err := pfs[1].Answered(ctx, user, p.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			ok.Store(0)
			for i := range 50 {
				wg.Go(func() {
					_, err := vs[i%2].Verify(ctx, mfa.VerifyRequest{UserID: user, FactorID: ans.FactorID, Kind: push.Kind,
						Response: ans.Response, ChallengeID: ic.ID, Binding: "attempt"})
					if err == nil {
						ok.Add(1)
					}
				})
			}
			wg.Wait()
			if ok.Load() != 1 || ans.FactorID != fid {
				t.Fatalf("%d of 50 verifications succeeded, want 1", ok.Load())
			}
		})
	}
}

// Environment of a push helper process (see TestPushHelperProcess).
const (
	envPushHelper  = "MFA_BT_PUSH_HELPER" // "postgres" or "redis" in a helper process
	envPushSource  = "MFA_BT_PUSH_SOURCE" // the DSN with search_path, or the Redis URL
	envPushPrefix  = "MFA_BT_PUSH_PREFIX" // the Redis key prefix
	envPushBody    = "MFA_BT_PUSH_BODY"   // the answer, base64
	envPushNow     = "MFA_BT_PUSH_NOW"
	envPushRacers  = "MFA_BT_PUSH_RACERS"
	pushResultLine = "recorded "
)

// TestPushHelperProcess is not a test: TestPushAcrossProcesses runs the
// test binary again with it, once per OS process. Each process opens its
// own connection to the shared schema or key prefix, says "ready", waits
// for a line on stdin, sends one answer from many goroutines at once and
// prints how many were recorded.
func TestPushHelperProcess(t *testing.T) {
	kind := os.Getenv(envPushHelper)
	if kind == "" {
		return
	}
	n, err := pushHelper(kind)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Printf("%s%d\n", pushResultLine, n)
}

func pushHelper(kind string) (int64, error) {
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(envPushNow))
	if err != nil {
		return 0, err
	}
	racers, err := strconv.Atoi(os.Getenv(envPushRacers))
	if err != nil {
		return 0, err
	}
	body, err := base64.StdEncoding.DecodeString(os.Getenv(envPushBody))
	if err != nil {
		return 0, err
	}
	var s push.Store
	switch kind {
	case "postgres":
		db, err := sqlOpenErr("pgx", os.Getenv(envPushSource))
		if err != nil {
			return 0, err
		}
		defer db.Close()
		if s, err = sqlstore.New(db, sqlstore.Postgres); err != nil {
			return 0, err
		}
	case "redis":
		opt, err := redis.ParseURL(os.Getenv(envPushSource))
		if err != nil {
			return 0, err
		}
		c := redis.NewClient(opt)
		defer c.Close()
		if s, err = redisstore.New(c, redisstore.Options{Prefix: os.Getenv(envPushPrefix)}); err != nil {
			return 0, err
		}
	}
	pf, err := push.New(push.Config{Store: s, HashKey: hashKey, Now: func() time.Time { return now }})
	if err != nil {
		return 0, err
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return 0, err
	}
	var ok atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			err := pf.Answer(context.Background(), body)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, mfa.ErrExpired):
				first.CompareAndSwap(nil, err.Error())
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return 0, errors.New(e.(string))
	}
	return ok.Load(), nil
}
