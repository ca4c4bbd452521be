package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store/memstore"
)

// testCA is the vendor of newTestKey's keys, which startApp's app trusts.
var testCA = testkit.NewAttestationCA("example test vendor")

// The origin startApp's app serves: what a browser would report.
const appOrigin = "http://localhost:8080"

// newTestKey returns a software security key for the app's origin: it
// answers the app's options as navigator.credentials would. flags are
// added to every answer: testkit.FlagUV alone is a security key (AAL3),
// with testkit.FlagBE|testkit.FlagBS a synced passkey (AAL2). The key
// counts its signatures.
func newTestKey(flags byte) *testkit.Authenticator {
	k := testkit.NewAuthenticator(appOrigin, flags).Attested(testCA)
	k.Count = 1
	return k
}

// creation reads creation options (the "publicKey" member the app sends)
// as the key takes them.
func creation(t *testing.T, options json.RawMessage) *protocol.CredentialCreation {
	t.Helper()
	cc := &protocol.CredentialCreation{}
	if err := json.Unmarshal(options, &cc.Response); err != nil {
		t.Fatal(err)
	}
	return cc
}

// assertion reads request options as the key takes them.
func assertion(t *testing.T, options json.RawMessage) *protocol.CredentialAssertion {
	t.Helper()
	ca := &protocol.CredentialAssertion{}
	if err := json.Unmarshal(options, &ca.Response); err != nil {
		t.Fatal(err)
	}
	return ca
}

// keyOptions fetches a challenge from one of the JSON option routes, as
// the page's script does.
func (b *browser) keyOptions(t *testing.T, path string) (challengeID string, publicKey json.RawMessage) {
	t.Helper()
	p := b.post(path, nil).must(t, http.StatusOK)
	var o struct {
		ChallengeID string          `json:"challengeId"`
		PublicKey   json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(p.body), &o); err != nil || o.ChallengeID == "" {
		t.Fatalf("%s: no challenge (%v) in %s", path, err, p.body)
	}
	return o.ChallengeID, o.PublicKey
}

// addKey registers k, as the "Add a security key or passkey" form does.
func (b *browser) addKey(t *testing.T, k *testkit.Authenticator) page {
	t.Helper()
	id, opts := b.keyOptions(t, "/webauthn/register/options")
	return b.post("/webauthn/register", url.Values{"challenge_id": {id}, "response": {k.Create(creation(t, opts))}, "name": {"Test key"}})
}

// signInWithKey signs in with the password, then k.
func (b *browser) signInWithKey(t *testing.T, name string, k *testkit.Authenticator) {
	t.Helper()
	b.signIn(t, name).must(t, http.StatusOK, "Enter a code")
	id, opts := b.keyOptions(t, "/webauthn/signin/options")
	b.post("/signin/code", url.Values{"kind": {"webauthn"}, "challenge_id": {id}, "response": {k.Get(assertion(t, opts))}}).
		must(t, http.StatusOK, "Your account")
}

// acr is the assurance level of the browser's session, as /api/me reads
// it from a new access token.
func (b *browser) acr(t *testing.T) string {
	t.Helper()
	b.get("/").must(t, http.StatusOK, "Your account") // a current access cookie
	res, me := api(t, http.MethodGet, b.base+"/api/me", b.cookie(accessCookie), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/api/me: %d %v", res.StatusCode, me)
	}
	acr, _ := me["acr"].(string)
	return acr
}

// TestAddedKeyKeepsSessionLevel: registering a security key (an AAL3
// authenticator) in an AAL2 session does not make the session AAL3:
// binding is not authenticating at the new key's level. Signing in with
// the key does.
func TestAddedKeyKeepsSessionLevel(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	signUp(t, b, c, "olga")
	if got := b.acr(t); got != session.ACRAAL2 {
		t.Fatalf("after TOTP sign-up: %s, want %s", got, session.ACRAAL2)
	}
	c.Add(time.Minute)
	k := newTestKey(testkit.FlagUV)
	b.addKey(t, k).must(t, http.StatusOK, "Your security key or passkey is registered.")
	if got := b.acr(t); got != session.ACRAAL2 {
		t.Fatalf("after adding a key in an AAL2 session: %s, want %s", got, session.ACRAAL2)
	}

	b.signOut(t)
	b.signInWithKey(t, "olga", k)
	if got := b.acr(t); got != session.ACRAAL3 {
		t.Fatalf("signed in with the key: %s, want %s", got, session.ACRAAL3)
	}
}

// signUpWithKey creates a user whose first factor is k, a security key:
// the browser is signed in at AAL3.
// A minute passes: the next factor is added later than the key was.
func signUpWithKey(t *testing.T, b *browser, c *testkit.Clock, name string, k *testkit.Authenticator) {
	t.Helper()
	b.post("/signup", url.Values{"username": {name}, "password": {password}}).
		must(t, http.StatusOK, "Set up two-step sign-in")
	b.addKey(t, k).must(t, http.StatusOK, "Your account")
	if got := b.acr(t); got != session.ACRAAL3 {
		t.Fatalf("signed up with a security key: %s, want %s", got, session.ACRAAL3)
	}
	c.Add(time.Minute)
}

// TestFactorAddedInAAL3Session: a factor below the session's level (a
// synced passkey, an authenticator app) added in an AAL3 session is added
// like any other: the page says so, the session keeps its level, and the
// user's other sessions end.
func TestFactorAddedInAAL3Session(t *testing.T) {
	t.Run("synced passkey", func(t *testing.T) {
		srv, c := start(t)
		b := newBrowser(t, srv)
		k := newTestKey(testkit.FlagUV)
		signUpWithKey(t, b, c, "pia", k)
		other := newBrowser(t, srv)
		other.signInWithKey(t, "pia", k)

		b.addKey(t, newTestKey(testkit.FlagUV|testkit.FlagBE|testkit.FlagBS)).
			must(t, http.StatusOK, "Your security key or passkey is registered.")
		if got := b.acr(t); got != session.ACRAAL3 {
			t.Fatalf("after adding a synced passkey: %s, want %s", got, session.ACRAAL3)
		}
		other.get("/").must(t, http.StatusOK, "Create an account")
	})
	t.Run("authenticator app", func(t *testing.T) {
		srv, c := start(t)
		b := newBrowser(t, srv)
		k := newTestKey(testkit.FlagUV)
		signUpWithKey(t, b, c, "quinn", k)
		other := newBrowser(t, srv)
		other.signInWithKey(t, "quinn", k)

		p := b.post("/totp/begin", nil).must(t, http.StatusOK, "Scan the QR code")
		secret := strings.ReplaceAll(p.find(t, `id="totp-secret"[^>]*>([^<]+)<`), " ", "")
		b.post("/totp/confirm", url.Values{
			"factor_id": {p.find(t, `name="factor_id" value="([^"]+)"`)},
			"code":      {testkit.TOTPCode(t, secret, c.Now())},
		}).must(t, http.StatusOK, "Save your backup codes", "Your authenticator app is set up.")
		if got := b.acr(t); got != session.ACRAAL3 {
			t.Fatalf("after adding an authenticator app: %s, want %s", got, session.ACRAAL3)
		}
		other.get("/").must(t, http.StatusOK, "Create an account")
	})
}

// TestStepUpBelowSessionLevel: a session signed in with a security key
// (AAL3) takes only a key at step-up. A backup code is refused before it is
// checked, so it is not spent, and nothing changes; the key does it.
func TestStepUpBelowSessionLevel(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	acc := signUp(t, b, c, "rosa")
	c.Add(time.Minute)
	k := newTestKey(testkit.FlagUV)
	b.addKey(t, k).must(t, http.StatusOK, "Your security key or passkey is registered.")
	b.signOut(t)
	b.signInWithKey(t, "rosa", k)
	other := newBrowser(t, srv)
	other.signInWithKey(t, "rosa", k)
	if got := b.acr(t); got != session.ACRAAL3 {
		t.Fatalf("after a key sign-in: %s, want %s", got, session.ACRAAL3)
	}

	c.Add(freshFor + time.Minute)
	p := b.post("/factors/remove", url.Values{"factor_id": {acc.totpID}}).must(t, http.StatusOK, "Confirm it's you", "Use security key")
	if strings.Contains(p.body, `name="kind" value="backup_codes"`) || strings.Contains(p.body, `name="kind" value="totp"`) {
		t.Fatalf("an AAL3 step-up offers codes:\n%s", p.body)
	}
	for _, kind := range []string{"backup_codes", "totp"} {
		code := acc.codes[0]
		if kind == "totp" {
			code = testkit.TOTPCode(t, acc.secret, c.Now())
		}
		b.post("/step-up", url.Values{"kind": {kind}, "code": {code}, "action": {"remove"}, "factor_id": {acc.totpID}}).
			must(t, http.StatusUnprocessableEntity, "signed in with a security key")
	}
	b.get("/").must(t, http.StatusOK, "Authenticator app", "codes left: 10")
	if got := b.acr(t); got != session.ACRAAL3 {
		t.Fatalf("after refused code step-ups: %s, want %s", got, session.ACRAAL3)
	}
	other.get("/").must(t, http.StatusOK, "Your account")

	id, opts := b.keyOptions(t, "/webauthn/step-up/options")
	b.post("/step-up", url.Values{"kind": {"webauthn"}, "challenge_id": {id}, "response": {k.Get(assertion(t, opts))}, "action": {"remove"}, "factor_id": {acc.totpID}}).
		must(t, http.StatusOK, "The factor was removed.")
	if got := b.acr(t); got != session.ACRAAL3 {
		t.Fatalf("after a key step-up: %s, want %s", got, session.ACRAAL3)
	}
	other.get("/").must(t, http.StatusOK, "Create an account")
}

// TestPasskeyCookieFollowsAppURL: behind a proxy that ends TLS the app is
// reached over plain HTTP, but its URL is https: the passkey binding
// cookie is Secure, with the __Host- prefix, like the session cookies.
func TestPasskeyCookieFollowsAppURL(t *testing.T) {
	k, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{keys: k, store: memstore.New(), users: newMemUsers(), url: "https://login.example.com",
		log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	res, err := http.Post(srv.URL+"/webauthn/passkey/options", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var got []string
	for _, ck := range res.Cookies() {
		got = append(got, ck.String())
		if ck.Name == "__Host-"+passkeyCookie && ck.Secure && ck.Path == "/" && ck.HttpOnly {
			return
		}
	}
	t.Fatalf("no Secure __Host-%s cookie for an https app; got %q", passkeyCookie, got)
}

// TestEnrolmentBegunBeforeAnotherFactor: an authenticator app begun during
// sign-up, before a security key was added, cannot be confirmed once the
// check is no longer recent: the app asks for a step-up instead of adding
// it (or failing).
func TestEnrolmentBegunBeforeAnotherFactor(t *testing.T) {
	srv, c := start(t)
	b := newBrowser(t, srv)
	b.post("/signup", url.Values{"username": {"tess"}, "password": {password}}).
		must(t, http.StatusOK, "Set up two-step sign-in")
	p := b.post("/totp/begin", nil).must(t, http.StatusOK, "Scan the QR code")
	secret := strings.ReplaceAll(p.find(t, `id="totp-secret"[^>]*>([^<]+)<`), " ", "")
	pending := p.find(t, `name="factor_id" value="([^"]+)"`)

	c.Add(time.Minute)
	k := newTestKey(testkit.FlagUV)
	b.addKey(t, k).must(t, http.StatusOK, "Your account")
	c.Add(freshFor + time.Minute)

	b.post("/totp/confirm", url.Values{"factor_id": {pending}, "code": {testkit.TOTPCode(t, secret, c.Now())}}).
		must(t, http.StatusOK, "Confirm it's you", "To add an authenticator app", "Use security key")
	b.get("/").must(t, http.StatusOK, "Your account", "You have no authenticator app.")
}

// A passkey sign-in with a key nobody registered and one with a
// registered key's forged answer read the same: the page does not tell a
// stranger which credential IDs exist.
func TestPasskeySignInRefusalsAlike(t *testing.T) {
	_, srv, c := startApp(t)
	b := newBrowser(t, srv)
	k := newTestKey(testkit.FlagUV)
	signUpWithKey(t, b, c, "alice", k)
	b.signOut(t)

	refusal := func(key *testkit.Authenticator, tweaks ...testkit.Tweak) page {
		t.Helper()
		id, opts := b.keyOptions(t, "/webauthn/passkey/options")
		return b.post("/signin/passkey", url.Values{"challenge_id": {id}, "response": {key.Get(assertion(t, opts), tweaks...)}})
	}
	unknown := refusal(newTestKey(testkit.FlagUV))
	forged := refusal(k, testkit.TamperSignature())
	const neutral = "answer was not accepted. Try again."
	unknown.must(t, http.StatusUnprocessableEntity, neutral)
	forged.must(t, http.StatusUnprocessableEntity, neutral)
	if strings.Contains(unknown.body, "not registered") {
		t.Fatal("the page says the key is not registered")
	}
}
