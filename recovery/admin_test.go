package recovery_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/session"
)

func sessions(t *testing.T, e *env) *session.Manager {
	t.Helper()
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
	return sm
}

func TestAdminCore(t *testing.T) {
	e := newEnv(t, false)
	o := e.open(t, "alice", "")
	a := e.m.Admin()
	if _, err := a.Approve(ctx, recovery.Operator{ID: "op", AAL: mfa.AAL1}, o.Case.ID, ""); !errors.Is(err, recovery.ErrForbidden) {
		t.Fatalf("approval by an AAL1 operator: %v", err)
	}
	if c, _ := e.m.Case(ctx, o.Case.ID); c.State != recovery.Pending {
		t.Fatalf("state %q after a refused approval", c.State)
	}
	if err := a.Unlock(ctx, recovery.Operator{ID: "op", AAL: mfa.AAL2}, "alice"); err != nil {
		t.Fatal(err)
	}
	if l, err := a.Lockout(ctx, recovery.Operator{ID: "op", AAL: mfa.AAL2}, "alice"); err != nil || l.Locked {
		t.Fatalf("Lockout: %+v, %v", l, err)
	}
	if got := e.types(); !slices.Contains(got, recovery.EventUnlocked) {
		t.Fatalf("events %v lack the unlock", got)
	}
	if e.evs[len(e.evs)-1].Actor != "op" {
		t.Fatalf("unlock actor %q", e.evs[len(e.evs)-1].Actor)
	}
}

func TestAdminHandler(t *testing.T) {
	e := newEnv(t, false)
	o := e.open(t, "alice", "")
	sm := sessions(t, e)
	h := e.m.Admin().Handler(sm, func(_ *http.Request, id string) bool { return id == "op" })
	start := func(user string, res *mfa.Result) string {
		tok, err := sm.Start(ctx, user, res)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	rec := (&recovery.Grant{UserID: "op", Time: e.clk.Now()}).Result()
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"operator in a recovery session", start("op", rec), http.StatusUnauthorized},
		{"operator at AAL1", start("op", &mfa.Result{UserID: "op", AMR: []string{"pwd"}, AAL: mfa.AAL1, Time: e.clk.Now()}), http.StatusUnauthorized},
		{"not an operator", start("bob", &mfa.Result{UserID: "bob", AMR: []string{"otp"}, AAL: mfa.AAL2, Time: e.clk.Now()}), http.StatusForbidden},
		{"operator at AAL2", start("op", &mfa.Result{UserID: "op", AMR: []string{"otp"}, AAL: mfa.AAL2, Time: e.clk.Now()}), http.StatusOK},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/cases/"+o.Case.ID+"/approve", strings.NewReader(url.Values{"note": {"ok"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Bearer "+tt.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want && !(tt.want == http.StatusUnauthorized && w.Code == http.StatusForbidden) {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, w.Code, tt.want, w.Body)
		}
		c, _ := e.m.Case(ctx, o.Case.ID)
		if approved := c.State == recovery.Approved; approved != (tt.want == http.StatusOK) {
			t.Errorf("%s: case %q", tt.name, c.State)
		}
	}
}

func TestAdminRegenerateCodes(t *testing.T) {
	e := newEnv(t, false)
	old, err := e.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: "alice", Kind: mfa.KindBackupCodes, AuthTime: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	a := e.m.Admin()
	for _, tt := range []struct {
		name string
		op   recovery.Operator
		user string
		want error
	}{
		{"AAL1 operator", recovery.Operator{ID: "op", AAL: mfa.AAL1}, "alice", recovery.ErrForbidden},
		{"own account", recovery.Operator{ID: "alice", AAL: mfa.AAL2}, "alice", recovery.ErrForbidden},
		{"no codes", recovery.Operator{ID: "op", AAL: mfa.AAL2}, "bob", mfa.ErrNotEnrolled},
		{"no operator", recovery.Operator{AAL: mfa.AAL2}, "alice", recovery.ErrInvalidInput},
	} {
		if _, err := a.RegenerateCodes(ctx, tt.op, tt.user); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if list, _ := e.v.Factors(ctx, "alice"); len(list) != 2 || list[1].ID != old.FactorID {
		t.Fatalf("refused regenerations changed the factors: %+v", list)
	}
	en, err := a.RegenerateCodes(ctx, recovery.Operator{ID: "op", AAL: mfa.AAL2}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.v.Factors(ctx, "alice")
	if len(list) != 2 || list[1].ID != en.FactorID || en.FactorID == old.FactorID {
		t.Fatalf("factors after regeneration: %+v", list)
	}
	last := e.evs[len(e.evs)-1]
	if last.Type != recovery.EventCodesRegenerated || last.Actor != "op" || last.UserID != "alice" {
		t.Fatalf("audit event: %+v", last)
	}
}

func TestAdminHandlerRoutes(t *testing.T) {
	e := newEnv(t, false)
	e.open(t, "alice", "")
	sm := sessions(t, e)
	h := e.m.Admin().Handler(sm, func(_ *http.Request, id string) bool { return id == "op" })
	tok, err := sm.Start(ctx, "op", &mfa.Result{UserID: "op", AMR: []string{"otp"}, AAL: mfa.AAL2, Time: e.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, path string
		want         int
		body         string
	}{
		{"GET", "/cases", http.StatusOK, `"UserID":"alice"`},
		{"GET", "/users/alice/lockout", http.StatusOK, `"Locked":false`},
		{"POST", "/users/alice/unlock", http.StatusOK, `"Unlocked":true`},
		{"POST", "/cases/nope/approve", http.StatusNotFound, "no such case"},
		{"POST", "/cases/nope/deny", http.StatusNotFound, "no such case"},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s %s: %d %s, want %d with %s", tt.method, tt.path, w.Code, w.Body, tt.want, tt.body)
		}
	}
}
