package backendtest_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/sqlstore"
)

// envSignalsHelper holds a signalJob, as JSON, in a helper process of
// TestSignalsAcrossInstances.
const envSignalsHelper = "MFA_BACKENDTEST_SIGNALS_HELPER"

// signalJob is what a helper process does: open its own handle on the
// store, and add one record per entry of Adds to the list Key, each from
// a goroutine of its own, all at once.
type signalJob struct {
	Spec spec // Backend "sqlite": Addr is the database's DSN
	Key  string
	Keep int
	Now  time.Time
	Adds []string
}

// signalResult is what a helper process prints: the list each Observe
// returned (the records' data), or the first error.
type signalResult struct {
	Lists [][]string
	Err   string
}

const signalResultPrefix = "signals "

// openSignals opens another handle on the store sp names.
func openSignals(sp spec) (store.Signals, func(), error) {
	if sp.Backend == "sqlite" {
		db, err := sql.Open("sqlite", sp.Addr)
		if err != nil {
			return nil, nil, err
		}
		s, err := sqlstore.New(db, sqlstore.SQLite)
		return s, func() { db.Close() }, err
	}
	s, closeStore, err := reopen(sp)
	if err != nil {
		return nil, nil, err
	}
	sig, ok := s.(store.Signals)
	if !ok {
		closeStore()
		return nil, nil, fmt.Errorf("%T keeps no signals", s)
	}
	return sig, closeStore, nil
}

// TestSignalsHelperProcess is not a test: TestSignalsAcrossInstances runs
// the test binary again with envSignalsHelper set, once per instance.
func TestSignalsHelperProcess(t *testing.T) {
	raw := os.Getenv(envSignalsHelper)
	if raw == "" {
		return
	}
	res := signalHelper(raw)
	b, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", signalResultPrefix, b)
}

func signalHelper(raw string) signalResult {
	var job signalJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		return signalResult{Err: err.Error()}
	}
	s, closeStore, err := openSignals(job.Spec)
	if err != nil {
		return signalResult{Err: err.Error()}
	}
	defer closeStore()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return signalResult{Err: err.Error()}
	}
	res := signalResult{Lists: make([][]string, len(job.Adds))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	start := make(chan struct{})
	for i, d := range job.Adds {
		wg.Go(func() {
			<-start
			lists, err := s.Observe(context.Background(), job.Now, store.Sighting{Key: job.Key, Keep: job.Keep,
				Signal: store.Signal{Time: job.Now, Expires: job.Now.Add(time.Hour), Data: []byte(d)}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if res.Err == "" {
					res.Err = err.Error()
				}
				return
			}
			res.Lists[i] = signalData(lists[0])
		})
	}
	close(start)
	wg.Wait()
	return res
}

// runSignalJobs runs one helper process per job, all released at once,
// and returns what each printed.
func runSignalJobs(t *testing.T, jobs []signalJob) []signalResult {
	t.Helper()
	envs := make([][]string, len(jobs))
	for i, job := range jobs {
		raw, err := json.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		envs[i] = []string{envSignalsHelper + "=" + string(raw)}
	}
	lines := runReleased(t, "TestSignalsHelperProcess", envs, signalResultPrefix)
	out := make([]signalResult, len(lines))
	for i, r := range lines {
		if err := json.Unmarshal([]byte(r.line), &out[i]); err != nil {
			t.Fatal(err)
		}
		if out[i].Err != "" {
			t.Fatalf("process %d: %s", i, out[i].Err)
		}
	}
	return out
}

func signalData(l []store.Signal) []string {
	out := make([]string, len(l))
	for i, r := range l {
		out[i] = string(r.Data)
	}
	return out
}

// TestSignalsAcrossInstances checks, on every backend that instances can
// share (SQLite through one file, and every networked one), that what
// one instance observes the others see: an instance in another OS
// process, with its own connections, reads the record this one added and
// adds one this one then reads; then three processes add 16 records each
// to one list at once, and none is lost. memstore lives in one process
// and has nothing to share.
func TestSignalsAcrossInstances(t *testing.T) {
	if os.Getenv(envSignalsHelper) != "" {
		t.Skip("in a helper process")
	}
	type shared struct {
		name string
		open func(t *testing.T) (store.Signals, spec)
	}
	all := []shared{{"sqlite", func(t *testing.T) (store.Signals, spec) {
		dsn := "file:" + filepath.Join(t.TempDir(), "mfa.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
		return migrated(t, sqlOpen(t, "sqlite", dsn), sqlstore.SQLite), spec{Backend: "sqlite", Addr: dsn}
	}}}
	for _, b := range networked {
		all = append(all, shared{b.name, func(t *testing.T) (store.Signals, spec) {
			o := b.open(t, false)
			return o.concerns.(store.Signals), o.spec
		}})
	}
	const procs, racers = 3, 16
	for _, b := range all {
		t.Run(b.name, func(t *testing.T) {
			s, sp := b.open(t)
			ctx := context.Background()
			now := newClock().Now()
			key := randName("signals-")
			job := signalJob{Spec: sp, Key: key, Keep: store.MaxSignalKeep, Now: now}
			mine := store.Sighting{Key: key, Keep: store.MaxSignalKeep, Signal: store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte("a")}}
			if _, err := s.Observe(ctx, now, mine); err != nil {
				t.Fatal(err)
			}

			other := job
			other.Adds = []string{"b"}
			if got := runSignalJobs(t, []signalJob{other})[0].Lists[0]; !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("the other instance saw %q, want [a b]", got)
			}
			read := func() []string {
				t.Helper()
				lists, err := s.Observe(ctx, now, store.Sighting{Key: key, Keep: store.MaxSignalKeep})
				if err != nil {
					t.Fatal(err)
				}
				return signalData(lists[0])
			}
			if got := read(); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("this instance reads %q after the other added, want [a b]", got)
			}

			jobs := make([]signalJob, procs)
			want := map[string]bool{"a": true, "b": true}
			for i := range jobs {
				jobs[i] = job
				for j := range racers {
					d := fmt.Sprintf("p%d-%d", i, j)
					jobs[i].Adds = append(jobs[i].Adds, d)
					want[d] = true
				}
			}
			runSignalJobs(t, jobs)
			got := read()
			t.Logf("%s: %d records after %d added from %d processes at once", b.name, len(got), procs*racers, procs)
			if len(got) != len(want) || !slices.Equal(got[:2], []string{"a", "b"}) {
				t.Fatalf("%d records %q, want the 2 first ones and all %d added at once", len(got), got, procs*racers)
			}
			for _, d := range got {
				if !want[d] {
					t.Fatalf("record %q twice or unknown in %q", d, got)
				}
				delete(want, d)
			}
		})
	}
}

// BenchmarkObserve measures one Signals.Observe as a sign-in's monitor
// would make it: add the place to the user's list (Keep 20), add the
// attempt to the address's list (Keep 50), and read the factor kinds the
// user tried. The clock moves a millisecond per call, so the lists stay
// full and every call trims.
func BenchmarkObserve(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b).concerns.(store.Signals)
			ctx := context.Background()
			now := newClock().Now()
			user, ip, kinds := randName("places-"), randName("ip-"), randName("kinds-")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now = now.Add(time.Millisecond)
				rec := store.Signal{Time: now, Expires: now.Add(time.Hour), Data: []byte("FR/Lyon 45.76,4.84")}
				if _, err := s.Observe(ctx, now,
					store.Sighting{Key: user, Signal: rec, Keep: 20},
					store.Sighting{Key: ip, Signal: rec, Keep: 50},
					store.Sighting{Key: kinds, Keep: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
