package webauthn_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/webauthn"
)

func TestSignCount(t *testing.T) {
	accept := options{factor: func(c *webauthn.Config) { c.SignCount = webauthn.SignCountAcceptAndFlag }}
	cases := []struct {
		name    string
		opts    []options
		stored  uint32 // the key's count at registration
		present uint32
		err     error
		events  []mfa.EventType
		counter int64 // after the attempt
		clone   bool
	}{
		{"grows", nil, 5, 9, nil, []mfa.EventType{mfa.EventVerifySucceeded}, 9, false},
		{"both zero: the key does not count", nil, 0, 0, nil, []mfa.EventType{mfa.EventVerifySucceeded}, 0, false},
		{"starts counting", nil, 0, 1, nil, []mfa.EventType{mfa.EventVerifySucceeded}, 1, false},
		{"regressed, refused", nil, 5, 4, webauthn.ErrSignCountRegressed,
			[]mfa.EventType{mfa.EventReplayRefused, mfa.EventSignCountRegressed}, 5, false},
		{"repeated, refused", nil, 5, 5, mfa.ErrReplayed,
			[]mfa.EventType{mfa.EventReplayRefused, mfa.EventSignCountRegressed}, 5, false},
		{"stopped counting, refused", nil, 5, 0, mfa.ErrReplayed,
			[]mfa.EventType{mfa.EventReplayRefused, mfa.EventSignCountRegressed}, 5, false},
		{"regressed, accepted and flagged", []options{accept}, 5, 4, nil,
			[]mfa.EventType{mfa.EventVerifySucceeded, mfa.EventSignCountRegressed}, 5, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			a := testkit.NewAuthenticator(origin, 0)
			a.Count = tc.stored
			fid := e.register(t, "alice", a)
			chID, opts := e.challenge(t, "alice", fid, "p")
			resp := a.Get(opts, testkit.WithCount(tc.present))
			e.resetEvents()
			_, err := e.verify("alice", chID, "p", resp)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got := e.eventTypes(); !slices.Equal(got, tc.events) {
				t.Fatalf("events = %v, want %v", got, tc.events)
			}
			cred := e.credential(t, "alice", fid)
			if int64(cred.SignCount) != tc.counter || cred.CloneWarning != tc.clone {
				t.Fatalf("stored count %d, clone warning %v; want %d, %v", cred.SignCount, cred.CloneWarning, tc.counter, tc.clone)
			}
		})
	}
}

// An attested key flagged for a sign-count regression no longer reaches
// AAL3 nor reports "hwk", then or later: it may be a clone.
func TestFlaggedKeyCappedAtAAL2(t *testing.T) {
	e := newEnv(t, trusted, options{factor: func(c *webauthn.Config) { c.SignCount = webauthn.SignCountAcceptAndFlag }})
	a := testkit.NewAuthenticator(origin, testkit.FlagUV).Attested(vendorCA)
	a.Count = 5
	fid := e.register(t, "alice", a)
	for i, count := range []uint32{6, 4, 9} {
		chID, opts := e.challenge(t, "alice", fid, "p")
		res, err := e.verify("alice", chID, "p", a.Get(opts, testkit.WithCount(count)))
		if err != nil {
			t.Fatal(err)
		}
		want, amr := mfa.AAL2, "pop"
		if i == 0 {
			want, amr = mfa.AAL3, "hwk" // before the regression
		}
		if res.AAL != want || res.AMR[0] != amr {
			t.Fatalf("use %d (count %d): AAL %d, amr %v; want %d, %s", i+1, count, res.AAL, res.AMR, want, amr)
		}
	}
}

// TestBackupStateUpdate: a synced passkey's backup state may change; the
// stored record follows it in the same commit as the counter.
func TestBackupStateUpdate(t *testing.T) {
	e := newEnv(t)
	a := testkit.NewAuthenticator(origin, testkit.FlagUV|testkit.FlagBE) // eligible, not yet backed up
	fid := e.register(t, "alice", a)
	if c := e.credential(t, "alice", fid); !c.BackupEligible || c.BackupState {
		t.Fatalf("registered %+v", c)
	}
	data := e.factor(t, "alice", fid).Data
	chID, opts := e.challenge(t, "alice", fid, "p")
	if _, err := e.verify("alice", chID, "p", a.Get(opts)); err != nil {
		t.Fatal(err)
	}
	if got := e.factor(t, "alice", fid).Data; string(got) != string(data) {
		t.Fatalf("unchanged flags rewrote the record")
	}
	a.Flags |= testkit.FlagBS
	chID, opts = e.challenge(t, "alice", fid, "p")
	if _, err := e.verify("alice", chID, "p", a.Get(opts)); err != nil {
		t.Fatal(err)
	}
	if c := e.credential(t, "alice", fid); !c.BackupState {
		t.Fatalf("backup state not recorded: %+v", c)
	}
}
