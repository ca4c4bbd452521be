package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/sqlstore"
)

// Environment of a helper process (see TestHelperProcess).
const (
	envHelper   = "MFA_SQLSTORE_HELPER" // "1" in a helper process
	envDSN      = "MFA_SQLSTORE_HELPER_DSN"
	envUser     = "MFA_SQLSTORE_HELPER_USER"
	envFactor   = "MFA_SQLSTORE_HELPER_FACTOR"
	envCode     = "MFA_SQLSTORE_HELPER_CODE"
	envNow      = "MFA_SQLSTORE_HELPER_NOW"
	envRacers   = "MFA_SQLSTORE_HELPER_RACERS"
	envLoose    = "MFA_SQLSTORE_HELPER_LOOSE" // "true": looseLimits
	resultStart = "result "
)

// TestHelperProcess is not a test: TestCrossProcess runs the test binary
// again with -test.run=^TestHelperProcess$ and envHelper set, once per OS
// process. Each process opens its own pool on the shared PostgreSQL
// schema, builds its own Verifier (same keys, same fixed clock), says
// "ready", waits for a line on stdin so that every process starts
// together, submits one code from many goroutines at once, and prints how
// the verifications ended.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		return
	}
	out, err := helper()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	b, _ := json.Marshal(out)
	fmt.Printf("%s%s\n", resultStart, b)
}

func helper() (outcome, error) {
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(envNow))
	if err != nil {
		return outcome{}, err
	}
	racers, err := strconv.Atoi(os.Getenv(envRacers))
	if err != nil {
		return outcome{}, err
	}
	db, err := sql.Open("pgx", os.Getenv(envDSN))
	if err != nil {
		return outcome{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(8)
	s, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		return outcome{}, err
	}
	limits := strictLimits
	if os.Getenv(envLoose) == "true" {
		limits = looseLimits
	}
	v, err := newVerifier(s, func() time.Time { return now }, limits)
	if err != nil {
		return outcome{}, err
	}
	if err := db.Ping(); err != nil {
		return outcome{}, err
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return outcome{}, err
	}
	req := mfa.VerifyRequest{UserID: os.Getenv(envUser), FactorID: os.Getenv(envFactor), Response: os.Getenv(envCode)}
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
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if out.first != nil {
		fmt.Fprintln(os.Stderr, "helper: first unexpected error:", out.first)
	}
	return out, nil
}

// runProcesses starts procs helper processes that each submit code for
// user's factor from racers goroutines at now, and sums their outcomes.
func runProcesses(t *testing.T, procs, racers int, loose bool, dsn, user, factor, code string, now time.Time) outcome {
	t.Helper()
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout *bufio.Scanner
		stderr *bytes.Buffer
	}
	ps := make([]*proc, procs)
	for i := range ps {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			envHelper+"=1", envDSN+"="+dsn, envUser+"="+user, envFactor+"="+factor, envCode+"="+code,
			envNow+"="+now.Format(time.RFC3339Nano), envRacers+"="+strconv.Itoa(racers), envLoose+"="+strconv.FormatBool(loose))
		p := &proc{cmd: cmd, stderr: new(bytes.Buffer)}
		cmd.Stderr = p.stderr
		var err error
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdout = bufio.NewScanner(stdout)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		ps[i] = p
	}
	// Wait until every process is ready, then release them together.
	for i, p := range ps {
		if !p.stdout.Scan() || p.stdout.Text() != "ready" {
			_ = p.cmd.Wait()
			t.Fatalf("process %d did not get ready: %q\n%s", i, p.stdout.Text(), p.stderr)
		}
	}
	for _, p := range ps {
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	var sum outcome
	for i, p := range ps {
		var got *outcome
		for p.stdout.Scan() {
			if line, ok := strings.CutPrefix(p.stdout.Text(), resultStart); ok {
				got = new(outcome)
				if err := json.Unmarshal([]byte(line), got); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := p.cmd.Wait(); err != nil || got == nil {
			t.Fatalf("process %d: %v\n%s", i, err, p.stderr)
		}
		if got.Other > 0 {
			t.Errorf("process %d: %s", i, p.stderr)
		}
		t.Logf("process %d (pid %d): %+v", i, p.cmd.Process.Pid, *got)
		sum.merge(*got)
	}
	return sum
}

// TestCrossProcess runs Verifiers in separate OS processes against one
// PostgreSQL schema: the same valid TOTP code submitted many times at once
// is accepted exactly once, and a stream of wrong guesses against a limit
// of 5 gets at most 5 comparisons, in total across the processes.
func TestCrossProcess(t *testing.T) {
	if os.Getenv(envHelper) == "1" {
		t.Skip("in a helper process")
	}
	const procs, racers = 4, 32
	dsn := postgresDSN(t)
	s, err := sqlstore.New(postgresBackend.open(t, dsn), sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, err := newVerifier(s, func() time.Time { return t0 }, strictLimits)
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(90 * time.Second) // a later step than the one enrolment used

	t.Run("SameValidCode", func(t *testing.T) {
		factor, secret := enrol(t, v, "alice")
		got := runProcesses(t, procs, racers, false, dsn, "alice", factor, testkit.TOTPCode(t, secret, t1), t1)
		t.Logf("%d submissions of one valid code from %d processes: %+v", procs*racers, procs, got)
		if got.OK != 1 || got.Store != 0 || got.Other != 0 || got.OK+got.Replayed+got.Limited != procs*racers {
			t.Fatalf("want exactly 1 success and every other submission refused as replayed or rate limited, got %+v", got)
		}
	})

	t.Run("SameValidCodeLooseLimits", func(t *testing.T) {
		// Limits loose enough that nearly every submission is compared, so
		// they race on the single-use compare-and-set, not on the limiter.
		factor, secret := enrol(t, v, "carol")
		got := runProcesses(t, procs, racers, true, dsn, "carol", factor, testkit.TOTPCode(t, secret, t1), t1)
		t.Logf("%d submissions of one valid code from %d processes, loose limits: %+v", procs*racers, procs, got)
		if got.OK != 1 || got.Store != 0 || got.Other != 0 || got.OK+got.Replayed+got.Limited != procs*racers {
			t.Fatalf("want exactly 1 success and every other submission refused as replayed or rate limited, got %+v", got)
		}
	})

	t.Run("WrongGuesses", func(t *testing.T) {
		factor, secret := enrol(t, v, "bob")
		got := runProcesses(t, procs, racers, false, dsn, "bob", factor, testkit.WrongTOTPCode(t, secret, t1), t1)
		t.Logf("%d wrong guesses from %d processes against Free 5: %+v", procs*racers, procs, got)
		if got.Wrong > 5 || got.OK != 0 || got.Store != 0 || got.Other != 0 || got.Wrong+got.Limited != procs*racers {
			t.Fatalf("want at most 5 comparisons (ErrWrongCode) and the rest rate limited, got %+v", got)
		}
		if got.Wrong != 5 {
			t.Errorf("%d comparisons admitted, want exactly 5 (Free 5, no errors)", got.Wrong)
		}
	})
}
