package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/store/memstore"
)

// outbox keeps the codes the app sent, by destination.
type outbox struct {
	mu   sync.Mutex
	last map[string]string
}

func (o *outbox) Send(_ context.Context, m sentcode.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[string]string{}
	}
	o.last[m.To] = m.Code
	return nil
}

func (o *outbox) code(t *testing.T, to string) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.last[to]
	if !ok {
		t.Fatalf("nothing sent to %s", to)
	}
	return c
}

// With a sender for each, the app offers email and SMS codes: a new
// user adds a number and an address, each confirmed by the code sent to
// it, and signs in again with a texted code and then an emailed one.
func TestSentCodes(t *testing.T) {
	k, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	box := &outbox{}
	a, err := newApp(appConfig{keys: k, store: memstore.New(), users: newMemUsers(), url: "http://localhost:8080",
		log: slog.New(slog.NewTextHandler(t.Output(), nil)), sender: box, smsSender: box})
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(testkit.T0)
	a.now = clk.Now
	a.bcryptCost = bcrypt.MinCost
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv)

	b.post("/signup", url.Values{"username": {"sam"}, "password": {password}}).
		must(t, http.StatusOK, "Or get codes by SMS", "Or get codes by email")
	// A premium-rate number is refused, and nothing is sent.
	b.post("/sms/begin", url.Values{"phone": {"+44 909 879 0000"}}).must(t, http.StatusUnprocessableEntity, "not an address or number")
	b.post("/sms/begin", url.Values{"phone": {"07400 123456"}}).must(t, http.StatusUnprocessableEntity)
	p := b.post("/sms/begin", url.Values{"phone": {"+44 7400 123456"}}).must(t, http.StatusOK, "Code sent to", "44 •••• •••456")
	b.post("/sms/confirm", url.Values{"kind": {"sms"}, "factor_id": {p.find(t, `name="factor_id" value="([^"]+)"`)},
		"challenge_id": {p.find(t, `name="challenge_id" value="([^"]+)"`)}, "code": {box.code(t, "+447400123456")}}).
		must(t, http.StatusOK, "SMS codes are set up")
	clk.Add(freshFor - time.Minute) // still fresh: adding the address needs no step-up
	p = b.post("/email/begin", url.Values{"address": {"sam@example.com"}}).must(t, http.StatusOK, "Code sent to s•••@example.com")
	b.post("/email/confirm", url.Values{"kind": {"email"}, "factor_id": {p.find(t, `name="factor_id" value="([^"]+)"`)},
		"challenge_id": {p.find(t, `name="challenge_id" value="([^"]+)"`)}, "code": {box.code(t, "sam@example.com")}}).
		must(t, http.StatusOK, "Email codes are set up")

	for _, tc := range []struct{ kind, send, to, amr string }{
		{"sms", "/signin/sms", "+447400123456", "sms mca"},
		{"email", "/signin/email", "sam@example.com", "otp mca"},
	} {
		b.signOut(t)
		clk.Add(time.Minute) // past the resend cool-down
		b.signIn(t, "sam").must(t, http.StatusOK, "Text me a code", "Email me a code")
		p = b.post(tc.send, nil).must(t, http.StatusOK, "Code sent to")
		fid := p.find(t, `name="kind" value="`+tc.kind+`">\s*<input type="hidden" name="factor_id" value="([^"]+)"`)
		ch := p.find(t, `name="challenge_id" value="([^"]+)"`)
		code := box.code(t, tc.to)
		p = b.post("/signin/code", url.Values{"kind": {tc.kind}, "factor_id": {fid}, "challenge_id": {ch}, "code": {code}}).
			must(t, http.StatusOK, "Your account")
		if !strings.Contains(p.body, tc.amr) {
			t.Fatalf("%s sign-in: no amr %q on the account page", tc.kind, tc.amr)
		}
		// The code worked once.
		b.signOut(t)
		b.signIn(t, "sam")
		b.post("/signin/code", url.Values{"kind": {tc.kind}, "factor_id": {fid}, "challenge_id": {ch}, "code": {code}}).
			must(t, http.StatusUnprocessableEntity)
		b.signOut(t)
	}
}
