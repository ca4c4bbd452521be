package recovery_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/session"
)

// A recovery session cannot pass a route that needs AAL2; a normal one
// can.
func TestRecoverySessionBelowAAL2(t *testing.T) {
	e := newEnv(t, false)
	key, err := session.GenerateEd25519Key("k1", bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := session.New(session.Config{Issuer: "https://app", Audience: "https://api", Store: e.st, Hasher: e.v.Hasher(), Keys: ks, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	g := &recovery.Grant{CaseID: "c", UserID: "alice", Time: e.clk.Now(), Expires: e.clk.Now().Add(10 * time.Minute)}
	rec, err := sm.Start(ctx, "alice", g.Result())
	if err != nil {
		t.Fatal(err)
	}
	normal, err := sm.Start(ctx, "alice", &mfa.Result{UserID: "alice", AMR: []string{"otp"}, AAL: mfa.AAL2, Time: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	h := sm.Require(session.MinAAL(mfa.AAL2))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tt := range []struct {
		name  string
		token string
		want  int
	}{{"recovery", rec.AccessToken, http.StatusUnauthorized}, {"normal", normal.AccessToken, http.StatusOK}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tt.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want && !(tt.want != http.StatusOK && w.Code == http.StatusForbidden) {
			t.Errorf("%s session: status %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}
