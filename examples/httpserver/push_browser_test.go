package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfakit/mfa/internal/testkit"
)

// TestBrowserPush drives two headless Chromium contexts that share
// nothing (no cookies, no IndexedDB): the user's browser and their
// device. The user signs up with an authenticator app, pairs the device
// from the account page's link, and signs in by push: choosing the right
// number, denying, choosing a wrong number, and answering too late. It
// skips without Chromium unless MFA_TEST_REQUIRE_CHROMIUM is set.
func TestBrowserPush(t *testing.T) {
	_, site, clk, alloc := browserApp(t, nil)
	user, cancelUser := chromedp.NewContext(alloc)
	defer cancelUser()
	user, cancel := context.WithTimeout(user, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(user); err != nil { // start the browser
		t.Fatal(err)
	}
	// The device: a second browser context of its own, like another
	// profile.
	device, cancelDevice := chromedp.NewContext(user, chromedp.WithNewBrowserContext())
	defer cancelDevice()

	step := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("ok: %s", what)
	}
	// page waits until the visible text of ctx's main holds want (see
	// TestBrowserPasskeys; innerText, as the device page hides sections).
	page := func(ctx context.Context, what, want string) string {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		var text string
		var err error
		for {
			text, err = chromedp.Run(wait, chromedp.Evaluate[string](
				`document.readyState === "complete" ? (document.querySelector("main") || {}).innerText || "" : ""`))
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
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).textContent`))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	// Sign up with an authenticator app, the first factor.
	step(user, "open the sign-up page", chromedp.Navigate(site+"/signup"))
	step(user, "sign up",
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
	)
	page(user, "setup", "Set up an authenticator app")
	step(user, "begin TOTP", chromedp.Click(chromedp.CSS(`form[action="/totp/begin"] button`)))
	page(user, "QR code", "setup key")
	secret := strings.ReplaceAll(text(user, "#totp-secret"), " ", "")
	step(user, "confirm TOTP",
		chromedp.SendKeys(chromedp.CSS("#totp-code"), testkit.TOTPCode(t, secret, clk.Now())),
		chromedp.Submit(chromedp.CSS("#totp-code")),
	)
	page(user, "backup codes", "I have saved them")
	step(user, "account", chromedp.Navigate(site+"/"))

	// Pair the device from the account page's link.
	step(user, "ask for a pairing link", chromedp.Click(chromedp.CSS("#pair-device")))
	page(user, "pairing link", "works once")
	link, err := chromedp.Run(user, chromedp.Evaluate[string](`document.querySelector("#pair-link").href`))
	if err != nil || !strings.HasPrefix(link, site+"/device#") {
		t.Fatalf("pairing link %q, %v", link, err)
	}
	step(device, "open the link on the device", chromedp.Navigate(link))
	step(device, "pair",
		chromedp.Clear(chromedp.CSS("#device-name")),
		chromedp.SendKeys(chromedp.CSS("#device-name"), "Test phone"),
		chromedp.Click(chromedp.CSS("#device-pair-button")),
	)
	page(device, "paired", "sign-in requests appear here")
	// Web Push: the service worker is installed; headless Chromium has no
	// push service, so the subscription fails and the page polls.
	sw, err := chromedp.Run(device, chromedp.Evaluate[string](
		`navigator.serviceWorker.getRegistration().then(r => r ? new URL(r.active ? r.active.scriptURL : r.installing ? r.installing.scriptURL : r.waiting.scriptURL).pathname : "none")`,
		chromedp.EvalAwaitPromise))
	if err != nil || sw != "/sw.js" {
		t.Fatalf("service worker %q, %v", sw, err)
	}
	sub, _ := chromedp.Run(device, chromedp.Evaluate[bool](
		`navigator.serviceWorker.ready.then(r => r.pushManager.getSubscription()).then(s => s !== null)`, chromedp.EvalAwaitPromise))
	t.Logf("Web Push subscription in this Chromium: %v", sub)
	step(device, "reopen without the link", chromedp.Navigate(site+"/device"))
	page(device, "the key survived in IndexedDB", "Paired as Test phone")
	step(user, "reload the account", chromedp.Navigate(site+"/"))
	page(user, "the device is listed", "Device: Test phone")

	signInByPush := func(what string) int {
		t.Helper()
		step(user, what+": sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
		page(user, what+": signed out", "You are signed out.")
		step(user, what+": password",
			chromedp.Navigate(site+"/signin"),
			chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
			chromedp.Submit(chromedp.CSS("#password")),
		)
		page(user, what+": second step", "Send a push to my device")
		step(user, what+": send a push", chromedp.Click(chromedp.CSS("#push-send")))
		page(user, what+": number shown", "pick this number")
		n, err := strconv.Atoi(text(user, "#push-number"))
		if err != nil {
			t.Fatal(err)
		}
		page(device, what+": the device shows the request", "Is this you signing in?")
		ctxText := text(device, "#device-context")
		if !strings.Contains(ctxText, "mfa example") || !strings.Contains(ctxText, "127.0.0.1") || !strings.Contains(ctxText, "Chrome") {
			t.Fatalf("the device shows %q", ctxText)
		}
		choices, err := chromedp.Run(device, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#device-choices .choice")].map(b => b.textContent)`))
		if err != nil || len(choices) != 3 || !contains(choices, strconv.Itoa(n)) {
			t.Fatalf("choices %v (number %d), %v", choices, n, err)
		}
		return n
	}
	choose := func(what string, n int) {
		t.Helper()
		step(device, what, chromedp.Click(chromedp.Search(fmt.Sprintf(`//*[@id="device-choices"]/button[text()="%d"]`, n))))
	}

	n := signInByPush("approve")
	choose("approve: pick the right number", n)
	page(user, "approve: signed in", "Your account")
	// The amr is inside a closed <details>, which innerText leaves out.
	if got := text(user, "main"); !strings.Contains(got, "swk mca") {
		t.Fatalf("account page after a push sign-in lacks amr swk mca:\n%s", got)
	}

	signInByPush("deny")
	step(device, "deny: press deny", chromedp.Click(chromedp.CSS("#device-deny")))
	page(device, "deny: reported", "Denied.")
	page(user, "deny: refused", "The sign-in was denied on your device.")

	step(user, "wrong number: back", chromedp.Navigate(site+"/"))
	page(user, "wrong number: second step", "Send a push to my device")
	step(user, "wrong number: send a push", chromedp.Click(chromedp.CSS("#push-send")))
	page(user, "wrong number: number shown", "pick this number")
	n, _ = strconv.Atoi(text(user, "#push-number"))
	page(device, "wrong number: the device shows the request", "Is this you signing in?")
	wrong, err := chromedp.Run(device, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#device-choices .choice")].map(b => b.textContent).find(c => c !== `+strconv.Quote(strconv.Itoa(n))+`)`))
	if err != nil {
		t.Fatal(err)
	}
	step(device, "wrong number: pick another", chromedp.Click(chromedp.Search(`//*[@id="device-choices"]/button[text()="`+wrong+`"]`)))
	page(user, "wrong number: refused", "did not match")

	step(user, "expiry: back", chromedp.Navigate(site+"/"))
	step(user, "expiry: send a push", chromedp.Click(chromedp.CSS("#push-send")))
	page(user, "expiry: number shown", "pick this number")
	n, _ = strconv.Atoi(text(user, "#push-number"))
	page(device, "expiry: the device shows the request", "Is this you signing in?")
	clk.Add(2*time.Minute + time.Second)
	choose("expiry: pick the right number too late", n)
	page(device, "expiry: the answer is refused", "expired")
	page(user, "expiry: the sign-in page gives up", "expired without an answer")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
