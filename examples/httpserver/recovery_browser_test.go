package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/recovery"
)

// TestBrowserRecovery drives headless Chromium through an account
// recovery: alice loses every factor and asks for a recovery; the
// operator (-admin root, signed in with TOTP) approves it; the link is
// refused until the waiting period has passed on the app's clock; then it
// starts a recovery session in which alice enrols a new authenticator
// app, and she signs in with it. Skips without Chromium unless
// MFA_TEST_REQUIRE_CHROMIUM is set.
func TestBrowserRecovery(t *testing.T) {
	a, site, clk, alloc := browserApp(t, func(c *appConfig) { c.admin = "root" })
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("ok: %s", what)
	}
	// page waits until the loaded page's main text holds want (see
	// TestBrowserPasskeys for why it polls by script).
	page := func(what, want string) string {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var text string
		var err error
		for {
			text, err = chromedp.Run(wait, chromedp.Evaluate[string](
				`document.readyState === "complete" ? (document.querySelector("main") || {}).textContent || "" : ""`))
			if err == nil && strings.Contains(text, want) {
				t.Logf("ok: %s (%q)", what, want)
				return text
			}
			select {
			case <-wait.Done():
				t.Fatalf("%s: page does not say %q (last error %v):\n%s", what, want, err, text)
			case <-time.After(50 * time.Millisecond): // the browser's pace, not a clock window
			}
		}
	}
	secret := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#totp-secret").textContent`))
		if err != nil {
			t.Fatalf("reading the TOTP secret: %v", err)
		}
		return strings.ReplaceAll(s, " ", "")
	}
	// code is the TOTP code of the next 30-second step, so no code is
	// used twice.
	code := func(secret string) string { return testkit.TOTPCode(t, secret, clk.Step()) }
	signUp := func(name string) string {
		step("sign up "+name, chromedp.Navigate(site+"/signup"),
			chromedp.SendKeys(chromedp.CSS("#username"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Submit(chromedp.CSS("#password")))
		page(name+" sets up", "Set up an authenticator app")
		step(name+" begins TOTP", chromedp.Submit(chromedp.CSS(`form[action="/totp/begin"] button`)))
		page(name+" scans", "Scan the QR code")
		s := secret()
		step(name+" confirms TOTP", chromedp.SendKeys(chromedp.CSS("#totp-code"), code(s)), chromedp.Submit(chromedp.CSS("#totp-code")))
		page(name+" has TOTP", "Your authenticator app is set up.")
		step(name+" signs out", chromedp.Navigate(site+"/"), chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
		page(name+" signed out", "You are signed out.")
		return s
	}
	signIn := func(name, secret string) {
		step(name+" signs in", chromedp.Navigate(site+"/signin"),
			chromedp.SendKeys(chromedp.CSS("#username"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Submit(chromedp.CSS("#password")))
		page(name+" is asked for a code", "prove it is you")
		step(name+" enters a code", chromedp.SendKeys(chromedp.CSS("#totp-code"), code(secret)), chromedp.Submit(chromedp.CSS("#totp-code")))
		page(name+" is signed in", "Your account")
	}

	rootSecret := signUp("root")
	signUp("alice") // and then loses her phone and her backup codes

	step("alice asks for a recovery", chromedp.Navigate(site+"/recover"),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.CSS("#reason"), "phone lost with the codes in it"),
		chromedp.Click(chromedp.CSS("#request-recovery")))
	page("the request is recorded", "Your request is waiting for an operator.")
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#recovery-link").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(link, "/recover/redeem?token=") {
		t.Fatalf("recovery link %q, %v", link, err)
	}

	signIn("root", rootSecret)
	step("the operator opens the queue", chromedp.Navigate(site+"/admin"))
	page("the queue shows the case", "phone lost with the codes in it")
	step("the operator approves", chromedp.SendKeys(chromedp.CSS(`input[name="note"]`), "called alice back"), chromedp.Click(chromedp.CSS("button.approve")))
	page("approved", "Decision recorded.")
	step("the operator signs out", chromedp.Navigate(site+"/"), chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	page("operator signed out", "You are signed out.")

	redeem := func() {
		step("alice opens her link", chromedp.Navigate(site+link),
			chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Click(chromedp.CSS("#redeem")))
	}
	redeem()
	page("refused during the wait", "the waiting period has not ended")

	clk.Add(24*time.Hour + time.Minute)
	redeem()
	page("a recovery session", "This is a recovery session")
	// The recovery session is AAL1: the JSON API, behind MinAAL(AAL2),
	// refuses it.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => (await fetch("/api/me")).status)()`, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil || status == http.StatusOK {
		t.Fatalf("GET /api/me in a recovery session: %d, %v", status, err)
	}
	s := secret()
	step("alice confirms her new app", chromedp.SendKeys(chromedp.CSS("#totp-code"), code(s)), chromedp.Submit(chromedp.CSS("#totp-code")))
	page("recovered", "Your new authenticator app is set up")

	signIn("alice", s)
	uid := mustUserID(t, a, "alice")
	list, err := a.verifier.Factors(t.Context(), uid)
	if err != nil || len(list) != 1 || list[0].Kind != mfa.KindTOTP {
		t.Fatalf("alice's factors after recovery: %+v, %v", list, err)
	}
	cases, err := a.recovery.Cases(t.Context(), uid)
	if err != nil || len(cases) != 1 || cases[0].State != recovery.Completed {
		t.Fatalf("alice's cases: %+v, %v", cases, err)
	}
}
