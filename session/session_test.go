package session_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
)

var ctx = context.Background()

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	first := f.start(t, user, mfa.AAL2)
	sid := first.Claims.SessionID
	if !strings.HasPrefix(first.RefreshToken, sid+".") || len(first.RefreshToken) < 22+1+22 {
		t.Fatalf("refresh token %q: want <sid>.<secret>", first.RefreshToken)
	}
	s, err := f.store.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(s.Refresh), first.RefreshToken[23:]) || len(s.Refresh) != 32 {
		t.Errorf("the store must hold only a 32-byte keyed hash")
	}
	f.clk.Add(time.Minute)
	second, err := f.m.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh must issue new tokens")
	}
	if second.Claims.SessionID != sid || second.Claims.ID == first.Claims.ID {
		t.Errorf("same session, new jti expected: %+v", second.Claims)
	}
	// A refresh never raises (or changes) the level, amr or auth_time.
	if second.Claims.ACR != first.Claims.ACR || !second.Claims.AuthTime.Equal(first.Claims.AuthTime.Time) ||
		!slices.Equal(second.Claims.AMR, first.Claims.AMR) {
		t.Errorf("refresh changed the level: %+v vs %+v", second.Claims, first.Claims)
	}
	// Reuse of the retired token revokes the family.
	_, err = f.m.Refresh(ctx, first.RefreshToken)
	if !errors.Is(err, session.ErrReused) || !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("reuse: err = %v, want ErrReused", err)
	}
	if _, err := f.m.Refresh(ctx, second.RefreshToken); !errors.Is(err, session.ErrRevoked) {
		t.Errorf("after reuse the current token must be dead too: err = %v", err)
	}
	want := []session.EventType{session.EventStarted, session.EventRefreshed, session.EventReuseDetected}
	if got := f.events(); !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// TestRefreshConcurrent: 64 refreshes racing with one token give exactly
// one new pair; the rest are refused, and the reuse revokes the family.
func TestRefreshConcurrent(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	const n = 64
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		wins, reused, bad int
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.m.Refresh(ctx, tok.RefreshToken)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, session.ErrReused):
				reused++
			case errors.Is(err, session.ErrInvalidToken):
			default:
				bad++
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 || reused < 1 || bad != 0 {
		t.Fatalf("wins %d, reused %d, other %d: want exactly one win and a reuse", wins, reused, bad)
	}
	s, err := f.store.GetSession(ctx, tok.Claims.SessionID)
	if err != nil || !s.Revoked {
		t.Errorf("session must be revoked after reuse: %+v, %v", s, err)
	}
}

func TestLifetimes(t *testing.T) {
	tests := []struct {
		aal            mfa.AAL
		idle, absolute time.Duration
	}{
		{mfa.AAL1, 7 * 24 * time.Hour, 30 * 24 * time.Hour},
		{mfa.AAL2, time.Hour, 24 * time.Hour},
		{mfa.AAL3, 15 * time.Minute, 12 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(session.ACR(tt.aal), func(t *testing.T) {
			// Idle: one refresh just inside the limit works, the next one
			// just past it fails.
			f := newFixture(t)
			tok := f.start(t, user, tt.aal)
			if !tok.RefreshExpires.Equal(t0.Add(tt.idle)) {
				t.Errorf("RefreshExpires = %v, want %v", tok.RefreshExpires, t0.Add(tt.idle))
			}
			f.clk.Add(tt.idle - time.Second)
			tok, err := f.m.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh inside idle: %v", err)
			}
			f.clk.Add(tt.idle)
			if _, err := f.m.Refresh(ctx, tok.RefreshToken); !errors.Is(err, session.ErrExpired) {
				t.Fatalf("refresh past idle: err = %v, want ErrExpired", err)
			}

			// Absolute: refreshing within idle keeps the session alive
			// only until the absolute limit.
			f = newFixture(t)
			tok = f.start(t, user, tt.aal)
			step := tt.idle - time.Second
			for elapsed := step; elapsed < tt.absolute; elapsed += step {
				f.clk.Add(step)
				next, err := f.m.Refresh(ctx, tok.RefreshToken)
				if err != nil {
					t.Fatalf("refresh at %v: %v", elapsed, err)
				}
				if next.AccessExpires.After(t0.Add(tt.absolute)) || next.RefreshExpires.After(t0.Add(tt.absolute)) {
					t.Fatalf("tokens outlive the session: %v / %v", next.AccessExpires, next.RefreshExpires)
				}
				tok = next
			}
			f.clk.Add(step)
			if _, err := f.m.Refresh(ctx, tok.RefreshToken); !errors.Is(err, session.ErrExpired) {
				t.Fatalf("refresh past absolute: err = %v, want ErrExpired", err)
			}
		})
	}
}

func TestStepUp(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	f.clk.Add(10 * time.Minute)
	up, err := f.m.StepUp(ctx, tok.RefreshToken, f.result(user, mfa.AAL3, "hwk"))
	if err != nil {
		t.Fatal(err)
	}
	c := up.Claims
	if c.AAL() != mfa.AAL3 || !c.AuthTime.Equal(t0.Add(10*time.Minute)) || c.SessionID != tok.Claims.SessionID {
		t.Errorf("stepped-up claims = %+v", c)
	}
	if want := []string{"otp", "mfa", "hwk"}; !slices.Equal(c.AMR, want) {
		t.Errorf("amr = %v, want %v", c.AMR, want)
	}
	// The level sticks across refreshes, with AAL3's shorter limits.
	f.clk.Add(time.Minute)
	next, err := f.m.Refresh(ctx, up.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if next.Claims.AAL() != mfa.AAL3 || !next.RefreshExpires.Equal(f.clk.Now().Add(15*time.Minute)) {
		t.Errorf("after refresh: %+v, idle until %v", next.Claims, next.RefreshExpires)
	}
	// The pre-step-up refresh token is retired: presenting it is reuse.
	if _, err := f.m.Refresh(ctx, tok.RefreshToken); !errors.Is(err, session.ErrReused) {
		t.Errorf("old token after step-up: err = %v, want ErrReused", err)
	}
	if got := f.events(); !slices.Contains(got, session.EventSteppedUp) {
		t.Errorf("events = %v", got)
	}
}

func TestStepUpAAL3EndsWithinTwelveHours(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	f.clk.Add(time.Minute)
	tok, err := f.m.StepUp(ctx, tok.RefreshToken, f.result(user, mfa.AAL3, "hwk"))
	if err != nil {
		t.Fatal(err)
	}
	for range 60 {
		f.clk.Add(14 * time.Minute)
		if tok, err = f.m.Refresh(ctx, tok.RefreshToken); err != nil {
			break
		}
	}
	if !errors.Is(err, session.ErrExpired) {
		t.Fatalf("AAL3 session after 12 h: err = %v, want ErrExpired", err)
	}
	if el := f.clk.Now().Sub(t0.Add(time.Minute)); el > 12*time.Hour+14*time.Minute || el < 12*time.Hour {
		t.Errorf("ended after %v, want 12 h after the step-up", el)
	}
}

func TestStepUpRefused(t *testing.T) {
	tests := []struct {
		name string
		res  func(f *fixture) *mfa.Result
		want error
	}{
		{"another user", func(f *fixture) *mfa.Result { return f.result("bob", mfa.AAL3) }, session.ErrWrongUser},
		{"lower level", func(f *fixture) *mfa.Result { return f.result(user, mfa.AAL1) }, session.ErrInsufficientAAL},
		{"nil result", func(f *fixture) *mfa.Result { return nil }, session.ErrInvalidResult},
		{"stale result", func(f *fixture) *mfa.Result {
			r := f.result(user, mfa.AAL3)
			r.Time = r.Time.Add(-6 * time.Minute)
			return r
		}, session.ErrInvalidResult},
		{"no level", func(f *fixture) *mfa.Result { return f.result(user, 0) }, session.ErrInvalidResult},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.start(t, user, mfa.AAL2)
			if _, err := f.m.StepUp(ctx, tok.RefreshToken, tt.res(f)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// A refused step-up leaves the session and its token intact.
			if _, err := f.m.Refresh(ctx, tok.RefreshToken); err != nil {
				t.Errorf("refresh after refused step-up: %v", err)
			}
		})
	}
}

func TestStartRefused(t *testing.T) {
	tests := []struct {
		name string
		uid  string
		res  func(f *fixture) *mfa.Result
	}{
		{"nil", user, func(f *fixture) *mfa.Result { return nil }},
		{"another user", user, func(f *fixture) *mfa.Result { return f.result("bob", mfa.AAL2) }},
		{"empty user", "", func(f *fixture) *mfa.Result { return f.result("", mfa.AAL2) }},
		{"level 0", user, func(f *fixture) *mfa.Result { return f.result(user, 0) }},
		{"level 4", user, func(f *fixture) *mfa.Result { return f.result(user, 4) }},
		{"no time", user, func(f *fixture) *mfa.Result { r := f.result(user, mfa.AAL2); r.Time = time.Time{}; return r }},
		{"future", user, func(f *fixture) *mfa.Result {
			r := f.result(user, mfa.AAL2)
			r.Time = r.Time.Add(time.Minute)
			return r
		}},
		{"stale", user, func(f *fixture) *mfa.Result {
			r := f.result(user, mfa.AAL2)
			r.Time = r.Time.Add(-time.Hour)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.m.Start(ctx, tt.uid, tt.res(f)); !errors.Is(err, session.ErrInvalidResult) {
				t.Fatalf("err = %v, want ErrInvalidResult", err)
			}
			if list, _ := f.store.ListSessions(ctx, user); len(list) != 0 {
				t.Errorf("a refused Start stored a session")
			}
		})
	}
}

func TestBadRefreshTokens(t *testing.T) {
	f := newFixture(t)
	alice := f.start(t, user, mfa.AAL2)
	bob := f.start(t, "bob", mfa.AAL2)
	revoked := f.start(t, user, mfa.AAL2)
	if err := f.m.Revoke(ctx, user, revoked.Claims.SessionID); err != nil {
		t.Fatal(err)
	}
	secretOf := func(tok string) string { return tok[strings.IndexByte(tok, '.')+1:] }
	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", session.ErrMalformed},
		{"no dot", strings.Replace(alice.RefreshToken, ".", "", 1), session.ErrMalformed},
		{"truncated", alice.RefreshToken[:len(alice.RefreshToken)-1], session.ErrMalformed},
		{"oversized", alice.RefreshToken + strings.Repeat("A", session.MaxTokenLen), session.ErrMalformed},
		{"non-base64", strings.Repeat("!", 22) + "." + strings.Repeat("*", 43), session.ErrMalformed},
		{"access token", alice.AccessToken, session.ErrMalformed},
		{"unknown session", strings.Repeat("A", 22) + "." + secretOf(alice.RefreshToken), session.ErrRevoked},
		{"bob's secret under alice's session", alice.Claims.SessionID + "." + secretOf(bob.RefreshToken), session.ErrInvalidToken},
		{"revoked family", revoked.RefreshToken, session.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.Refresh(ctx, tt.token)
			if !errors.Is(err, tt.want) || !errors.Is(err, session.ErrInvalidToken) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// None of this touched alice's or bob's live sessions.
	for _, tok := range []*session.Tokens{alice, bob} {
		if _, err := f.m.Refresh(ctx, tok.RefreshToken); err != nil {
			t.Errorf("%s: %v", tok.Claims.Subject, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	a1 := f.start(t, user, mfa.AAL2)
	f.clk.Add(time.Second)
	a2 := f.start(t, user, mfa.AAL2)
	f.clk.Add(time.Second)
	a3 := f.start(t, user, mfa.AAL3)
	b := f.start(t, "bob", mfa.AAL2)

	list, err := f.m.Sessions(ctx, user)
	if err != nil || len(list) != 3 || list[0].ID != a1.Claims.SessionID || list[2].AAL != mfa.AAL3 {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
	if err := f.m.Revoke(ctx, "bob", a1.Claims.SessionID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("revoking another user's session: err = %v", err)
	}
	if err := f.m.Revoke(ctx, user, "nope"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("unknown session: err = %v", err)
	}
	if err := f.m.Revoke(ctx, user, a1.Claims.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Refresh(ctx, a1.RefreshToken); !errors.Is(err, session.ErrRevoked) {
		t.Errorf("revoked: err = %v", err)
	}
	n, err := f.m.RevokeOthers(ctx, user, a3.Claims.SessionID)
	if err != nil || n != 1 {
		t.Fatalf("RevokeOthers = %d, %v", n, err)
	}
	if _, err := f.m.Refresh(ctx, a2.RefreshToken); !errors.Is(err, session.ErrRevoked) {
		t.Errorf("other session: err = %v", err)
	}
	_, err = f.m.Refresh(ctx, a3.RefreshToken)
	if err != nil {
		t.Fatalf("kept session: %v", err)
	}
	n, err = f.m.RevokeUser(ctx, user)
	if err != nil || n != 1 {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	if list, _ := f.m.Sessions(ctx, user); len(list) != 0 {
		t.Errorf("sessions after RevokeUser: %+v", list)
	}
	if _, err := f.m.Refresh(ctx, b.RefreshToken); err != nil {
		t.Errorf("bob's session must survive: %v", err)
	}
}

func TestRevokeToken(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	next, err := f.m.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// A retired token revokes nothing (and is not reuse: no rotation).
	if err := f.m.RevokeToken(ctx, tok.RefreshToken); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("retired token: err = %v", err)
	}
	if err := f.m.RevokeToken(ctx, next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Refresh(ctx, next.RefreshToken); !errors.Is(err, session.ErrRevoked) {
		t.Errorf("after RevokeToken: err = %v", err)
	}
}

func TestSessionsSkipsExpired(t *testing.T) {
	f := newFixture(t)
	f.start(t, user, mfa.AAL3)
	f.clk.Add(16 * time.Minute) // AAL3 idle is 15 minutes
	f.start(t, user, mfa.AAL2)
	list, err := f.m.Sessions(ctx, user)
	if err != nil || len(list) != 1 || list[0].AAL != mfa.AAL2 {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
}

// TestHookFailureRevokes: a hook error refuses Start (fail closed) and the
// session it created is revoked, not left behind.
func TestHookFailureRevokes(t *testing.T) {
	boom := errors.New("boom")
	for _, typ := range []session.EventType{session.EventStarted, session.EventRefreshed, session.EventSteppedUp} {
		t.Run(string(typ), func(t *testing.T) {
			f := newFixture(t, func(c *session.Config) {
				c.Hooks = append(c.Hooks, func(_ context.Context, e session.Event) error {
					if e.Type == typ {
						return boom
					}
					return nil
				})
			})
			res := f.result(user, mfa.AAL2)
			tok, err := f.m.Start(ctx, user, res)
			switch typ {
			case session.EventRefreshed:
				tok, err = f.m.Refresh(ctx, tok.RefreshToken)
			case session.EventSteppedUp:
				tok, err = f.m.StepUp(ctx, tok.RefreshToken, f.result(user, mfa.AAL3))
			}
			if !errors.Is(err, session.ErrHook) || !errors.Is(err, boom) || tok != nil {
				t.Fatalf("err = %v, tokens %v: want ErrHook and no tokens", err, tok)
			}
			list, _ := f.store.ListSessions(ctx, user)
			if len(list) != 0 {
				t.Errorf("session left live: %+v", list)
			}
		})
	}
}

// failingStore fails every call, to show store errors refuse.
type failingStore struct{ session.Store }

var errDown = errors.New("store down")

func (failingStore) GetSession(context.Context, string) (store.Session, error) {
	return store.Session{}, errDown
}
func (failingStore) CreateSession(context.Context, store.Session) error { return errDown }

func TestStoreFailureRefuses(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	g := newFixture(t, func(c *session.Config) { c.Store = failingStore{f.store} })
	if _, err := g.m.Start(ctx, user, g.result(user, mfa.AAL2)); !errors.Is(err, session.ErrStore) || !errors.Is(err, errDown) {
		t.Errorf("Start: err = %v", err)
	}
	if _, err := g.m.Refresh(ctx, tok.RefreshToken); !errors.Is(err, session.ErrStore) || errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("Refresh: err = %v, want ErrStore and not an invalid token", err)
	}
}
