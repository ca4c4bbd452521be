package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/store/memstore"
)

// browserApp starts the example for a browser test and returns it, the
// URL a browser reaches it at, its clock and a Chromium allocator to open
// contexts from. The app runs on a free port, reached as localhost:
// browsers allow WebAuthn over plain http only there (not on 127.0.0.1).
// Its clock starts at the wall clock, so cookies and tokens agree with
// the browser. edit, when non-nil, adjusts the app's config. Chromium
// gets a fresh profile and the flags this machine's closed network needs.
// The test skips without Chromium (Debian's chromium package), unless
// MFA_TEST_REQUIRE_CHROMIUM is set, as CI sets it.
func browserApp(t *testing.T, edit func(*appConfig)) (*app, string, *testkit.Clock, context.Context) {
	t.Helper()
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("MFA_TEST_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("MFA_TEST_REQUIRE_CHROMIUM is set but there is no chromium: %v", err)
		}
		t.Skip("no chromium on PATH (apt-get install chromium); skipping the browser test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	k, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	cfg := appConfig{keys: k, store: memstore.New(), users: newMemUsers(), url: site,
		log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if edit != nil {
		edit(&cfg)
	}
	a, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Now())
	a.now = clk.Now
	a.bcryptCost = bcrypt.MinCost
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	alloc, cancel := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	t.Cleanup(cancel)
	return a, site, clk, alloc
}
