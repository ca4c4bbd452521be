package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEmailCodes drives headless Chromium through email codes with
// real mail: sign up, add an address (the code is read back from the SMTP
// server, maildev, through its REST API), sign out, and sign in with a
// second code sent to it. It needs MFA_TEST_SMTP_URL and
// MFA_TEST_MAILDEV_API (as .ci/run sets them) and Chromium.
func TestBrowserEmailCodes(t *testing.T) {
	smtpURL, api := os.Getenv("MFA_TEST_SMTP_URL"), strings.TrimRight(os.Getenv("MFA_TEST_MAILDEV_API"), "/")
	if smtpURL == "" {
		t.Skip("MFA_TEST_SMTP_URL not set; skipping the email browser test")
	}
	if api == "" {
		t.Fatal("MFA_TEST_SMTP_URL is set but MFA_TEST_MAILDEV_API is not")
	}
	if !strings.Contains(smtpURL, "from=") {
		sep := "?"
		if strings.Contains(smtpURL, "?") {
			sep = "&"
		}
		smtpURL += sep + "from=mfa-example@example.com"
	}
	sender, err := smtpSender(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	_, site, clk, alloc := browserApp(t, func(c *appConfig) { c.sender = sender })
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
	// poll asks f again, at the browser's or server's pace, until it
	// reports done or 20 seconds pass.
	poll := func(what string, f func() (string, bool)) string {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for {
			if s, ok := f(); ok {
				t.Logf("ok: %s", what)
				return s
			}
			select {
			case <-wait.Done():
				s, _ := f()
				t.Fatalf("%s: not reached; last seen:\n%s", what, s)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	page := func(what, want string) string {
		t.Helper()
		return poll(what, func() (string, bool) {
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
				`document.readyState === "complete" ? (document.querySelector("main") || {}).textContent || "" : ""`))
			return text, err == nil && strings.Contains(text, want)
		})
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "e" + hex.EncodeToString(b[:])
	addr := name + "@example.com"
	codeRE := regexp.MustCompile(`\b(\d{6}) is your`)
	seen := map[string]bool{}
	// mailedCode is the code of the newest message to addr that arrived
	// at the SMTP server and was not read before.
	mailedCode := func(what string) string {
		t.Helper()
		return poll(what, func() (string, bool) {
			resp, err := http.Get(api + "/api/email")
			if err != nil {
				return err.Error(), false
			}
			defer resp.Body.Close()
			var all []struct {
				Text string `json:"text"`
				To   []struct {
					Address string `json:"address"`
				} `json:"to"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
				return err.Error(), false
			}
			for _, m := range all {
				if len(m.To) != 1 || m.To[0].Address != addr {
					continue
				}
				if c := codeRE.FindStringSubmatch(m.Text); c != nil && !seen[c[1]] {
					seen[c[1]] = true
					return c[1], true
				}
			}
			return fmt.Sprintf("%d messages, none new to %s", len(all), addr), false
		})
	}

	step("sign up", chromedp.Navigate(site+"/signup"),
		chromedp.SendKeys(chromedp.CSS("#username"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
	)
	page("setup offers email codes", "Or get codes by email")
	step("add an address", chromedp.SendKeys(chromedp.CSS("#email-address"), addr), chromedp.Click(chromedp.CSS("#add-email")))
	page("a code was sent", "Code sent to "+name[:1]+"•••@example.com")
	code := mailedCode("the enrolment code arrived at the SMTP server")
	step("confirm the address", chromedp.SendKeys(chromedp.CSS("#email-code"), code), chromedp.Click(chromedp.CSS("#confirm-email")))
	page("email codes are set up", "Email codes are set up")

	step("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	page("signed out", "You are signed out.")
	clk.Add(time.Minute) // past the resend cool-down
	step("sign in with the password", chromedp.Navigate(site+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#username"), name),
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
	)
	page("the code step offers email", "Email me a code")
	step("ask for a code", chromedp.Click(chromedp.CSS("#send-email-code")))
	page("a sign-in code was sent", "Code sent to")
	code = mailedCode("the sign-in code arrived at the SMTP server")
	step("enter the emailed code", chromedp.SendKeys(chromedp.CSS("#email-code"), code[:3]+" "+code[3:]), chromedp.Click(chromedp.CSS("#use-email-code")))
	text := page("signed in", "Your account")
	if !strings.Contains(text, "otp mca") {
		t.Fatalf("account page after an email sign-in lacks amr otp mca:\n%s", text)
	}
}
