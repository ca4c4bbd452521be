package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/session"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
	"github.com/mfakit/mfa/totp"
)

// Places the fake locator knows, by network.
var (
	paris    = geo.Place{Country: "FR", Network: "AS64500", Lat: 48.8566, Lon: 2.3522, Radius: 10, HasPoint: true}
	parisAlt = geo.Place{Country: "FR", Network: "AS64501", Lat: 48.8566, Lon: 2.3522, Radius: 10, HasPoint: true}
	lyon     = geo.Place{Country: "FR", Network: "AS64500", Lat: 45.764, Lon: 4.8357, Radius: 10, HasPoint: true}
	newYork  = geo.Place{Country: "US", Network: "AS64502", Lat: 40.7128, Lon: -74.006, Radius: 10, HasPoint: true}
	berlin   = geo.Place{Country: "DE", Network: "AS64503", Lat: 52.52, Lon: 13.405, Radius: 10, HasPoint: true}
	sydney   = geo.Place{Country: "AU", Network: "AS64504", Lat: -33.8688, Lon: 151.2093, Radius: 10, HasPoint: true}
)

// Addresses of those places (documentation ranges).
const (
	ipParis    = "192.0.2.10"
	ipParisAlt = "192.0.2.200"
	ipLyon     = "192.0.2.70"
	ipNewYork  = "198.51.100.7"
	ipBerlin   = "203.0.113.5"
	ipSydney   = "2001:db8:aa::1"
	ipAttacker = "198.51.100.66"
)

var places = []struct {
	prefix netip.Prefix
	place  geo.Place
}{
	{netip.MustParsePrefix("192.0.2.0/26"), paris},
	{netip.MustParsePrefix("192.0.2.64/26"), lyon},
	{netip.MustParsePrefix("192.0.2.128/25"), parisAlt},
	{netip.MustParsePrefix("198.51.100.0/24"), newYork},
	{netip.MustParsePrefix("203.0.113.0/24"), berlin},
	{netip.MustParsePrefix("2001:db8::/32"), sydney},
}

// locator is a geo.Locator over the table above; it counts its calls
// and fails while fail is set.
type locator struct {
	calls atomic.Int64
	fail  atomic.Bool
}

func (l *locator) Locate(_ context.Context, a netip.Addr) (geo.Place, error) {
	l.calls.Add(1)
	if l.fail.Load() {
		return geo.Place{}, geo.ErrUnavailable
	}
	for _, p := range places {
		if p.prefix.Contains(a) {
			return p.place, nil
		}
	}
	return geo.Place{}, nil
}

// signals wraps a store.Signals, counting Observe calls and failing
// while fail is set.
type signals struct {
	store.Signals
	calls atomic.Int64
	fail  atomic.Bool
}

var errStoreDown = errors.New("store down")

func (s *signals) Observe(ctx context.Context, now time.Time, sights ...store.Sighting) ([][]store.Signal, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return nil, errStoreDown
	}
	return s.Signals.Observe(ctx, now, sights...)
}

// alerts records what an AlertHook received.
type alerts struct {
	mu   sync.Mutex
	list []monitor.Alert
}

func (r *alerts) hook(_ context.Context, a monitor.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, a)
	return nil
}

func (r *alerts) take() []monitor.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.list
	r.list = nil
	return out
}

func kindsOf(as []monitor.Alert) []monitor.AlertKind {
	var out []monitor.AlertKind
	for _, a := range as {
		out = append(out, a.Kind)
	}
	return out
}

// keyFactor stands in for a security key: no challenge, and the
// response "touch" is right.
type keyFactor struct{}

func (keyFactor) Kind() mfa.Kind { return mfa.KindWebAuthn }

func (keyFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Active: true}, nil
}

func (keyFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if in.Response != "touch" {
		return factor.Match{}, mfa.ErrWrongCode
	}
	return factor.Match{AMR: []string{"hwk"}, AAL: mfa.AAL2, Remaining: -1}, nil
}

// codeFactor stands in for a third kind (an emailed code without its
// sender): the response "424242" is right.
type codeFactor struct{}

const kindCode mfa.Kind = "test_code"

func (codeFactor) Kind() mfa.Kind { return kindCode }

func (codeFactor) Enroll(context.Context, factor.EnrollInput) (factor.Enrolled, error) {
	return factor.Enrolled{Active: true}, nil
}

func (codeFactor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if in.Response != "424242" {
		return factor.Match{}, mfa.ErrWrongCode
	}
	return factor.Match{AMR: []string{"otp"}, AAL: mfa.AAL2, Remaining: -1}, nil
}

// node is one instance of an application: a Verifier, a session Manager
// and a Monitor, on a store it may share with other nodes, with a clock
// of its own.
type node struct {
	clk      *testkit.Clock
	sig      *signals
	loc      *locator
	mon      *monitor.Monitor
	v        *mfa.Verifier
	sessions *session.Manager
	alerts   *alerts
}

var (
	hashKey = bytes.Repeat([]byte{9}, 32)
	sealKey = mfa.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}
	jwtSeed = bytes.Repeat([]byte{7}, 32)
)

// seeds gives each node its own random streams, so two nodes on one
// store never draw the same session or factor ID.
var seeds atomic.Int32

// newNode builds an instance on st (a new memstore when nil).
func newNode(t testing.TB, st *memstore.Store, edit ...func(*monitor.Config)) *node {
	t.Helper()
	if st == nil {
		st = memstore.New()
	}
	seed := byte(seeds.Add(3))
	n := &node{clk: testkit.NewClock(testkit.T0), sig: &signals{Signals: st}, loc: &locator{}, alerts: &alerts{}}
	cfg := monitor.Config{Store: n.sig, Locator: n.loc, Now: n.clk.Now, Rand: testkit.Rand(seed), Alerts: []monitor.AlertHook{n.alerts.hook}}
	for _, e := range edit {
		e(&cfg)
	}
	var err error
	if n.mon, err = monitor.New(cfg); err != nil {
		t.Fatal(err)
	}
	tf, err := totp.New(totp.Config{Issuer: "Example"})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := mfa.NewKeyring(sealKey)
	if err != nil {
		t.Fatal(err)
	}
	n.v, err = mfa.New(mfa.Config{
		Store: st, Factors: []mfa.Factor{tf, keyFactor{}, codeFactor{}}, Sealer: kr, HashKey: hashKey,
		Now: n.clk.Now, Rand: testkit.Rand(seed + 1), Guard: n.mon.Guard(), Hooks: []mfa.Hook{n.mon.Hook()},
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := session.GenerateEd25519Key("k1", bytes.NewReader(jwtSeed))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := session.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	n.sessions, err = session.New(session.Config{
		Issuer: "https://app.example", Audience: "https://api.example", Store: st, Hasher: n.v.Hasher(), Keys: ks,
		Now: n.clk.Now, Rand: testkit.Rand(seed + 2), Hooks: []session.Hook{n.mon.SessionHook()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// user is an enrolled user: a TOTP factor, a key and a code factor.
type user struct {
	id              string
	totp, key, code string // factor IDs
	secret          string
}

// enroll enrols id with the three kinds, from no address, and drops the
// alerts enrolment raised.
func (n *node) enroll(t testing.TB, id string) user {
	t.Helper()
	ctx := context.Background()
	u := user{id: id}
	en, err := n.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: id, Kind: mfa.KindTOTP, Account: id, AuthTime: n.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := mfa.ShowAs[*totp.Setup](en.Show)
	if err != nil {
		t.Fatal(err)
	}
	u.totp, u.secret = en.FactorID, setup.Secret
	if _, err := n.v.ConfirmEnrollment(ctx, mfa.ConfirmRequest{UserID: id, FactorID: en.FactorID, Response: testkit.TOTPCode(t, u.secret, n.clk.Now())}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		kind mfa.Kind
		id   *string
	}{{mfa.KindWebAuthn, &u.key}, {kindCode, &u.code}} {
		en, err := n.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: id, Kind: k.kind, AuthTime: n.clk.Now()})
		if err != nil || !en.Active {
			t.Fatalf("enrol %s: %+v, %v", k.kind, en, err)
		}
		*k.id = en.FactorID
	}
	n.clk.Add(30 * time.Second)
	n.alerts.take()
	return u
}

// verify makes one attempt of kind from ip, right or wrong.
func (n *node) verify(t testing.TB, u user, kind mfa.Kind, ip string, right bool) (*mfa.Result, error) {
	t.Helper()
	req := mfa.VerifyRequest{UserID: u.id, Kind: kind, IP: ip}
	switch kind {
	case mfa.KindTOTP:
		req.FactorID, req.Response = u.totp, testkit.WrongTOTPCode(t, u.secret, n.clk.Now())
		if right {
			req.Response = testkit.TOTPCode(t, u.secret, n.clk.Now())
		}
	case mfa.KindWebAuthn:
		req.FactorID, req.Response = u.key, "scratch"
		if right {
			req.Response = "touch"
		}
	case kindCode:
		req.FactorID, req.Response = u.code, "000000"
		if right {
			req.Response = "424242"
		}
	default:
		t.Fatalf("kind %q", kind)
	}
	return n.v.Verify(context.Background(), req)
}

// signIn verifies with kind from ip and starts a session; it fails the
// test on any error.
func (n *node) signIn(t testing.TB, u user, kind mfa.Kind, ip string) *session.Tokens {
	t.Helper()
	res, err := n.verify(t, u, kind, ip, true)
	if err != nil {
		t.Fatalf("verify %s from %s: %v", kind, ip, err)
	}
	tok, err := n.sessions.Start(context.Background(), u.id, res)
	if err != nil {
		t.Fatalf("start from %s: %v", ip, err)
	}
	return tok
}

// only keeps the alerts of one kind.
func only(as []monitor.Alert, kind monitor.AlertKind) []monitor.Alert {
	var out []monitor.Alert
	for _, a := range as {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}
