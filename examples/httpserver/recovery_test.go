package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/recovery"
)

// The recovery pages refuse what they must, and a recovery session
// reaches nothing but its enrolment.
func TestRecoveryPages(t *testing.T) {
	a, srv, c := startApp(t)
	a.admin = "root"
	ctx := t.Context()

	alice := newBrowser(t, srv)
	signUp(t, alice, c, "alice")
	alice.signOut(t)
	aliceID := mustUserID(t, a, "alice")

	// Bad requests open nothing.
	alice.post("/recover", url.Values{"username": {"alice"}, "password": {"wrong password"}, "reason": {"x"}}).
		must(t, http.StatusUnauthorized, "Wrong username or password.")
	alice.post("/recover", url.Values{"username": {"nobody"}, "password": {password}}).
		must(t, http.StatusUnauthorized, "Wrong username or password.")
	alice.post("/recover", url.Values{"username": {"alice"}, "password": {password}, "reason": {"one\x00two"}}).
		must(t, http.StatusBadRequest, "Keep the reason to one line")
	if cases, err := a.recovery.Cases(ctx, aliceID); err != nil || len(cases) != 0 {
		t.Fatalf("cases after refused requests: %+v, %v", cases, err)
	}

	link := alice.post("/recover", url.Values{"username": {"alice"}, "password": {password}, "reason": {"lost phone"}}).
		must(t, http.StatusOK, "Your request is waiting for an operator.").
		find(t, `id="recovery-link" href="([^"]+)"`)
	token := strings.TrimPrefix(link, "/recover/redeem?token=")

	// Someone signed in who is not the operator sees no queue.
	bob := newBrowser(t, srv)
	signUp(t, bob, c, "bob")
	bob.get("/admin").must(t, http.StatusForbidden, "Only the operator")
	if _, err := a.recovery.Case(ctx, strings.Split(token, ".")[0]); err != nil {
		t.Fatal(err)
	}

	root := newBrowser(t, srv)
	signUp(t, root, c, "root")
	caseID := root.get("/admin").must(t, http.StatusOK, "lost phone", "password").
		find(t, `name="case_id" value="([^"]+)"`)
	root.post("/admin/decide", url.Values{"case_id": {caseID}, "decision": {"approve"}, "note": {"ok"}}).
		must(t, http.StatusOK, "Decision recorded.")
	root.post("/admin/decide", url.Values{"case_id": {caseID}, "decision": {"deny"}}).
		must(t, http.StatusConflict, "decided, cancelled or used already")

	redeem := func(b *browser, name string) page {
		return b.post("/recover/redeem", url.Values{"token": {token}, "username": {name}, "password": {password}})
	}
	redeem(alice, "alice").must(t, http.StatusConflict, "the waiting period has not ended")
	c.Add(24*time.Hour + time.Minute)
	// Another user's password with alice's link: refused, nothing spent.
	redeem(bob, "bob").must(t, http.StatusConflict, "This recovery link cannot be used now")
	redeem(alice, "alice").must(t, http.StatusOK, "This is a recovery session")
	redeem(newBrowser(t, srv), "alice").must(t, http.StatusConflict, "This recovery link cannot be used now")

	// The recovery session (AAL1, amr rec) reaches no other page.
	alice.get("/").must(t, http.StatusOK, "Recover your account") // the landing page, not the account
	alice.post("/totp/begin", nil).must(t, http.StatusOK, "Recover your account")
	alice.get("/admin").must(t, http.StatusOK, "Recover your account")
	if list, err := a.verifier.Factors(ctx, aliceID); err != nil || len(list) != 3 {
		t.Fatalf("alice's factors during recovery: %d, %v", len(list), err)
	}
	if cases, _ := a.recovery.Cases(ctx, aliceID); len(cases) != 1 || cases[0].State != recovery.Redeemed {
		t.Fatalf("case during recovery: %+v", cases)
	}
}
