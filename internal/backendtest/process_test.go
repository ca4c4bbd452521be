package backendtest_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/sqlstore"
)

// spec is how another OS process opens the store a test opened.
type spec struct {
	Backend string // "postgres", "mysql", "redis", "redis-cluster", "mongo"
	Addr    string // DSN, URL or comma-separated node addresses
	Prefix  string // key prefix or database name, where the Addr lacks it
}

// reopen opens the store sp names, for a helper process.
func reopen(sp spec) (mfa.Store, func(), error) {
	switch sp.Backend {
	case "postgres", "mysql":
		driver, d := "pgx", sqlstore.Postgres
		if sp.Backend == "mysql" {
			driver, d = "mysql", sqlstore.MySQL
		}
		db, err := sql.Open(driver, sp.Addr)
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(8)
		s, err := sqlstore.New(db, d)
		return s, func() { db.Close() }, err
	case "redis":
		opt, err := redis.ParseURL(sp.Addr)
		if err != nil {
			return nil, nil, err
		}
		c := redis.NewClient(opt)
		s, err := redisstore.New(c, redisstore.Options{Prefix: sp.Prefix})
		return s, func() { c.Close() }, err
	case "redis-cluster":
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(sp.Addr, ",")})
		s, err := redisstore.New(c, redisstore.Options{Prefix: sp.Prefix})
		return s, func() { c.Close() }, err
	case "mongo":
		return reopenMongo(sp)
	}
	return nil, nil, fmt.Errorf("no helper for backend %q", sp.Backend)
}

// Environment of a helper process (see TestHelperProcess).
const (
	envHelper     = "MFA_BACKENDTEST_HELPER" // the spec, as JSON, in a helper process
	envHelperUser = "MFA_BACKENDTEST_HELPER_USER"
	envHelperFac  = "MFA_BACKENDTEST_HELPER_FACTOR"
	envHelperCode = "MFA_BACKENDTEST_HELPER_CODE"
	envHelperNow  = "MFA_BACKENDTEST_HELPER_NOW"
	envHelperN    = "MFA_BACKENDTEST_HELPER_RACERS"
	envHelperIP   = "MFA_BACKENDTEST_HELPER_IP"
	resultPrefix  = "result "
)

// outcome counts how verifications ended.
type outcome struct{ OK, Wrong, Replayed, Limited, Other int }

func (o *outcome) add(err error) {
	switch {
	case err == nil:
		o.OK++
	case errors.Is(err, mfa.ErrWrongCode):
		o.Wrong++
	case errors.Is(err, mfa.ErrReplayed):
		o.Replayed++
	case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked):
		o.Limited++
	default:
		o.Other++
	}
}

// crossLimits admits 5 failures per user and per factor before a delay.
var crossLimits = mfa.Limits{User: store.Rule{Free: 5}, Factor: store.Rule{Free: 5}, IP: store.Rule{Free: 5}}

// TestHelperProcess is not a test: TestCrossProcess runs the test binary
// again with envHelper set, once per OS process. Each process opens its
// own client on the shared store, builds its own Verifier (same keys,
// same fixed clock), says "ready", waits for a line on stdin so that all
// start together, submits one code from many goroutines, and prints how
// the verifications ended.
func TestHelperProcess(t *testing.T) {
	raw := os.Getenv(envHelper)
	if raw == "" {
		return
	}
	out, err := helper(t, raw)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	b, _ := json.Marshal(out)
	fmt.Printf("%s%s\n", resultPrefix, b)
}

func helper(t *testing.T, raw string) (outcome, error) {
	var sp spec
	if err := json.Unmarshal([]byte(raw), &sp); err != nil {
		return outcome{}, err
	}
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(envHelperNow))
	if err != nil {
		return outcome{}, err
	}
	racers, err := strconv.Atoi(os.Getenv(envHelperN))
	if err != nil {
		return outcome{}, err
	}
	s, closeStore, err := reopen(sp)
	if err != nil {
		return outcome{}, err
	}
	defer closeStore()
	v := newVerifier(t, s, testkit.NewClock(now), crossLimits)
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return outcome{}, err
	}
	req := mfa.VerifyRequest{UserID: os.Getenv(envHelperUser), FactorID: os.Getenv(envHelperFac), Response: os.Getenv(envHelperCode), IP: os.Getenv(envHelperIP)}
	var (
		mu  sync.Mutex
		out outcome
		wg  sync.WaitGroup
	)
	start := make(chan struct{})
	for range racers {
		wg.Go(func() {
			<-start
			_, err := v.Verify(context.Background(), req)
			mu.Lock()
			out.add(err)
			if out.Other == 1 && err != nil && !errors.Is(err, mfa.ErrWrongCode) {
				fmt.Fprintln(os.Stderr, "helper: unexpected error:", err)
			}
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return out, nil
}

// runProcesses starts procs helper processes that each submit code from
// racers goroutines at now, from ip, and sums their outcomes.
func runProcesses(t *testing.T, sp spec, procs, racers int, user, factor, code, ip string, now time.Time) outcome {
	t.Helper()
	raw, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{envHelper + "=" + string(raw), envHelperUser + "=" + user, envHelperFac + "=" + factor,
		envHelperCode + "=" + code, envHelperNow + "=" + now.Format(time.RFC3339Nano), envHelperN + "=" + strconv.Itoa(racers), envHelperIP + "=" + ip}
	envs := make([][]string, procs)
	for i := range envs {
		envs[i] = env
	}
	var sum outcome
	for i, r := range runReleased(t, "TestHelperProcess", envs, resultPrefix) {
		var got outcome
		if err := json.Unmarshal([]byte(r.line), &got); err != nil {
			t.Fatal(err)
		}
		if got.Other > 0 {
			t.Errorf("process %d: %s", i, r.stderr)
		}
		sum.OK += got.OK
		sum.Wrong += got.Wrong
		sum.Replayed += got.Replayed
		sum.Limited += got.Limited
		sum.Other += got.Other
	}
	return sum
}

// TestCrossProcess runs Verifiers in separate OS processes against one
// store, on every networked backend: one valid TOTP code submitted many
// times at once is accepted exactly once (replay), and a stream of wrong
// guesses against a limit of 5 gets at most 5 comparisons in total
// across the processes (brute force; exactly 5 where the counters share
// one slot).
func TestCrossProcess(t *testing.T) {
	if os.Getenv(envHelper) != "" {
		t.Skip("in a helper process")
	}
	const procs, racers = 3, 24
	for _, b := range networked {
		t.Run(b.name, func(t *testing.T) {
			o := b.open(t, false)
			clk := newClock()
			v := newVerifier(t, o.concerns, clk, crossLimits)
			t1 := clk.Now().Add(90 * time.Second) // a later step than enrolment's

			t.Run("Replay", func(t *testing.T) {
				factor, setup := enrollTOTP(t, v, clk, "alice")
				got := runProcesses(t, o.spec, procs, racers, "alice", factor, testkit.TOTPCode(t, setup.Secret, t1), "192.0.2.10", t1)
				t.Logf("%d submissions of one valid code from %d processes: %+v", procs*racers, procs, got)
				if got.OK != 1 || got.Other != 0 || got.OK+got.Replayed+got.Limited != procs*racers {
					t.Errorf("want exactly 1 success, every other submission replayed or rate limited; got %+v", got)
				}
			})
			t.Run("BruteForce", func(t *testing.T) {
				factor, setup := enrollTOTP(t, v, clk, "bob")
				got := runProcesses(t, o.spec, procs, racers, "bob", factor, testkit.WrongTOTPCode(t, setup.Secret, t1), "192.0.2.11", t1)
				t.Logf("%d wrong guesses from %d processes against Free 5: %+v", procs*racers, procs, got)
				if got.Wrong > 5 || got.Wrong == 0 || got.OK != 0 || got.Other != 0 || got.Wrong+got.Limited != procs*racers {
					t.Errorf("want at most 5 comparisons and the rest rate limited; got %+v", got)
				}
				// On a cluster the user's and the IP's counters live in two
				// slots: an attempt refused by one after the other counted
				// keeps that count (redisstore's documented relaxation), so
				// fewer than 5 may be compared there.
				if got.Wrong != 5 && b.name != "redis-cluster" {
					t.Errorf("%d comparisons, want exactly 5 (Free 5, one slot)", got.Wrong)
				}
			})
		})
	}
}
