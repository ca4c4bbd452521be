package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskeys drives headless Chromium, with a virtual
// authenticator standing in for a security key, through the example as a
// new user would: sign up, register a passkey, sign out, sign in with the
// passkey alone, register a second key, and remove the first after a
// step-up. It skips without Chromium (Debian's chromium package), unless
// MFA_TEST_REQUIRE_CHROMIUM is set, as CI sets it.
func TestBrowserPasskeys(t *testing.T) {
	a, site, clk, alloc := browserApp(t, nil)
	if !a.keys {
		t.Fatal("the app offers no security keys")
	}
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
	// page waits until a fully loaded page's main text holds want and
	// returns that text. It reads the text by script rather than by DOM
	// node, and asks again until the deadline: a navigation in flight (a
	// form post, then its redirect) replaces the document under any node
	// it was handed, and a document still loading has only part of its
	// text.
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
	authenticator := func() webauthn.AuthenticatorID {
		t.Helper()
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportUsb,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		if err != nil {
			t.Fatalf("adding a virtual authenticator: %v", err)
		}
		return res.AuthenticatorID
	}

	step("open the sign-up page", chromedp.Navigate(site+"/signup"))
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn domain: %v", err)
	}
	first := authenticator()

	step("sign up",
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
	)
	page("setup offers a key", "Add a security key or passkey")

	step("register a passkey", chromedp.Click(chromedp.CSS("#add-key")))
	text := page("the passkey is registered", "Your security key or passkey is registered.")
	if !strings.Contains(text, "pop") || !strings.Contains(text, "Security key") {
		t.Fatalf("account page after registration:\n%s", text)
	}

	step("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	page("signed out", "You are signed out.")

	step("open the sign-in page", chromedp.Navigate(site+"/signin"))
	step("sign in with the passkey alone", chromedp.Click(chromedp.CSS("#passkey-signin")))
	text = page("signed in", "Your account")
	if !strings.Contains(text, "pop user mfa") {
		t.Fatalf("account page after passkey sign-in lacks amr pop user mfa:\n%s", text)
	}

	// A second key is another authenticator: the first would refuse to
	// register twice (the options exclude its credential).
	if _, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: first}); err != nil {
		t.Fatal(err)
	}
	authenticator()
	step("register a second key",
		chromedp.Clear(chromedp.CSS("#key-name")),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "Second key"),
		chromedp.Click(chromedp.CSS("#add-key")),
	)
	text = page("the second key is registered", "Your security key or passkey is registered.")
	if !strings.Contains(text, "Second key") || !strings.Contains(text, "Security key") {
		t.Fatalf("account page lists:\n%s", text)
	}

	// Eleven minutes on, a change needs a new check: removing the first
	// key asks for one, which the second key gives.
	clk.Add(freshFor + time.Minute)
	step("reload", chromedp.Reload())
	step("remove the first key", chromedp.Click(chromedp.Search(`//tr[td[1][text()="Security key"]]//form[@action="/factors/remove"]/button`)))
	page("step-up asked", "Confirm it's you")
	step("step up with the second key", chromedp.Click(chromedp.CSS("#use-key")))
	text = page("the first key is removed", "The factor was removed.")
	if strings.Contains(text, "Security key\n") || !strings.Contains(text, "Second key") {
		t.Fatalf("account page after removal:\n%s", text)
	}
	list, err := a.verifier.Factors(t.Context(), mustUserID(t, a, "alice"))
	if err != nil || len(list) != 1 || list[0].Name != "Second key" {
		t.Fatalf("factors after removal: %+v, %v", list, err)
	}
}

func mustUserID(t *testing.T, a *app, name string) string {
	t.Helper()
	u, err := a.users.byName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
