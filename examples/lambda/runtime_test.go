package main

// A stand-in for the Lambda Runtime API (next invocation, response, error,
// init error), and the builds the tests run under it: the function and a
// hello-world baseline, both for provided.al2023 with CGO off.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// binary builds pkg with tags once, the way it is deployed: static, CGO
// off, -tags lambda.norpc, stripped.
func binary(t *testing.T, pkg string, tags ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := pkg + " " + strings.Join(tags, ",")
	if bin, ok := built[key]; ok {
		return bin
	}
	if buildDir == "" {
		var err error
		if buildDir, err = os.MkdirTemp("", "mfa-lambda-"); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(buildDir, fmt.Sprintf("bootstrap-%d", len(built)))
	cmd := exec.Command("go", "build", "-tags", strings.Join(append([]string{"lambda.norpc"}, tags...), ","), "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", key, err, out)
	}
	built[key] = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// outcome is what the function posted for one invocation, or at init.
type outcome struct {
	body    []byte
	isError bool
}

// runtimeAPI serves one execution environment's Runtime API.
type runtimeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	events  chan []byte
	results chan outcome
	initErr chan []byte

	ready chan time.Time // the first request for an invocation

	mu     sync.Mutex
	first  bool
	served int
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	rt := &runtimeAPI{t: t, events: make(chan []byte, 1), results: make(chan outcome, 1), initErr: make(chan []byte, 1), ready: make(chan time.Time, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		rt.mu.Lock()
		if !rt.first {
			rt.first = true
			rt.ready <- now
		}
		rt.mu.Unlock()
		select {
		case ev := <-rt.events:
			rt.mu.Lock()
			rt.served++
			id := fmt.Sprintf("req-%d", rt.served)
			rt.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", id)
			h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-2:111122223333:function:mfa")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			w.Write(ev)
		case <-r.Context().Done():
		}
	})
	post := func(isError bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			rt.results <- outcome{body: b, isError: isError}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", post(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", post(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rt.initErr <- b
		w.WriteHeader(http.StatusAccepted)
	})
	rt.srv = httptest.NewServer(mux)
	t.Cleanup(rt.srv.Close)
	return rt
}

// fn is one running function process.
type fn struct {
	rt    *runtimeAPI
	cmd   *exec.Cmd
	start time.Time
	log   *lockedBuffer // its stderr
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done
}

// startFn starts bin as Lambda would, with env as its whole environment.
func startFn(t *testing.T, rt *runtimeAPI, bin string, env map[string]string) *fn {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.srv.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=mfa", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_REGION=eu-west-2", "TZ=UTC"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	f := &fn{rt: rt, cmd: cmd, done: make(chan struct{}), log: &lockedBuffer{}}
	cmd.Stderr = f.log
	f.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.err = cmd.Wait(); close(f.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-f.done
	})
	return f
}

// invoke sends one event and returns what the function answered.
func (f *fn) invoke(t *testing.T, ev any) outcome {
	t.Helper()
	b, ok := ev.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	}
	f.rt.events <- b
	select {
	case o := <-f.rt.results:
		return o
	case <-f.done:
		t.Fatalf("%s exited: %v\n%s", filepath.Base(f.cmd.Path), f.err, f.log)
	case <-time.After(20 * time.Second):
		t.Fatal("no answer in 20 s")
	}
	return outcome{}
}

// initTime is the time from process start to its first request for an
// invocation: everything Lambda bills as init.
func (f *fn) initTime(t *testing.T) time.Duration {
	t.Helper()
	select {
	case first := <-f.rt.ready:
		return first.Sub(f.start)
	case <-f.done:
		t.Fatalf("%s exited during init: %v\n%s", filepath.Base(f.cmd.Path), f.err, f.log)
	case <-time.After(20 * time.Second):
	}
	t.Fatal("no request for an invocation in 20 s")
	return 0
}

// lockedBuffer is a process's stderr, written by os/exec's copier.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
