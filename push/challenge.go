package push

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// Prompt is what the Verifier's Challenge shows for a push (its
// IssuedChallenge.Show): the number for the sign-in screen, and the
// request ID the signing-in browser polls [Factor.Answered] with.
type Prompt struct {
	RequestID string
	Number    int
	Expires   time.Time
}

// challengeState is the Verifier's challenge Data for a push.
type challengeState struct {
	RequestID string    `json:"r"`
	Number    []byte    `json:"n"` // keyed hash of the number
	Devices   []string  `json:"d"` // factor IDs pushed to
	Expires   time.Time `json:"e"`
}

// requestState is the request record an answer takes.
type requestState struct {
	Number  []byte   `json:"n"`
	Devices []string `json:"d"`
	IP      string   `json:"ip,omitempty"`
}

// Domains of the keyed hashes that name push's records and hide numbers.
// The record IDs are keyed, so no client can name one as the challenge ID
// of a verification (and so take it).
const (
	domRequest = "mfa/push/request/v1"
	domAnswer  = "mfa/push/answer/v1"
	domPending = "mfa/push/pending/v1"
	domInbox   = "mfa/push/inbox/v1"
	domNumber  = "mfa/push/number/v1"
	// recordBinding is the Binding of push's own records.
	recordBinding = "mfa/push"
)

func (f *Factor) id(domain string, parts ...string) string {
	bs := make([][]byte, len(parts))
	for i, p := range parts {
		bs[i] = []byte(p)
	}
	sum := f.hasher.Sum(domain, bs...)
	return "push." + b64.EncodeToString(sum[:24])
}

func (f *Factor) numberHash(requestID string, n int) []byte {
	sum := f.hasher.Sum(domNumber, []byte(requestID), []byte(strconv.Itoa(n)))
	return sum[:]
}

// Counter keys of the fatigue caps.
const (
	scopeSent  store.Scope = "push_sent"
	scopeFraud store.Scope = "push_fraud"
)

func (f *Factor) fraudCounter(userID string) store.Counter {
	// PauseAfter failures within PauseFor set a delay of PauseFor.
	return store.Counter{
		Key:  store.CounterKey{Scope: scopeFraud, UserID: userID},
		Rule: store.Rule{Free: f.cfg.PauseAfter, Base: f.cfg.PauseFor, Max: f.cfg.PauseFor, TTL: f.cfg.PauseFor},
	}
}

// Challenge sends a push: it checks the user's pushes are not paused or
// over the hourly cap, cancels the user's pending push, stores the new
// request for the devices' answers and polls, and notifies devices that
// can be reached. Show is a *[Prompt].
func (f *Factor) Challenge(ctx context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	if in.UserID == "" || in.Rand == nil {
		return factor.Issued{}, fmt.Errorf("%w: push: a challenge needs a user and a random source", factor.ErrInvalidInput)
	}
	devs := in.Existing
	if in.Factor != nil {
		devs = []store.Factor{*in.Factor}
	}
	if len(devs) == 0 {
		return factor.Issued{}, ErrNoDevice
	}
	if err := f.admit(ctx, in.UserID, in.Now); err != nil {
		return factor.Issued{}, err
	}
	var rnd [16]byte
	if _, err := io.ReadFull(in.Rand, rnd[:]); err != nil {
		return factor.Issued{}, fmt.Errorf("push: random source: %w", err)
	}
	rid := b64.EncodeToString(rnd[:])
	choices, err := pick(in.Rand, f.cfg.Choices)
	if err != nil {
		return factor.Issued{}, err
	}
	number := choices[0]
	if err := shuffle(in.Rand, choices); err != nil {
		return factor.Issued{}, err
	}
	si := signInFrom(ctx)
	exp := in.Now.Add(f.cfg.TTL)
	st := requestState{Number: f.numberHash(rid, number), IP: si.IP}
	for _, d := range devs {
		st.Devices = append(st.Devices, d.ID)
	}
	req := Request{RequestID: rid, App: f.cfg.App, Time: in.Now, Expires: exp, IP: si.IP, Place: si.Place, Browser: si.Browser, Choices: choices}
	if err := f.save(ctx, in.UserID, devs, st, req); err != nil {
		return factor.Issued{}, err
	}
	if err := f.notify(ctx, in.UserID, devs, req); err != nil {
		f.cancel(ctx, in.UserID, rid, in.Now)
		return factor.Issued{}, err
	}
	data, err := json.Marshal(challengeState{RequestID: rid, Number: st.Number, Devices: st.Devices, Expires: exp})
	if err != nil {
		return factor.Issued{}, err
	}
	return factor.Issued{Data: data, TTL: f.cfg.TTL, Show: &Prompt{RequestID: rid, Number: number, Expires: exp}}, nil
}

// admit refuses a push while the user's pushes are paused, then counts it
// against the hourly cap.
func (f *Factor) admit(ctx context.Context, userID string, now time.Time) error {
	if f.cfg.PauseAfter > 0 {
		fc := f.fraudCounter(userID)
		s, err := f.cfg.Store.CounterState(ctx, fc.Key)
		if err != nil {
			return fmt.Errorf("%w: %w", factor.ErrStore, err)
		}
		if blocked, _, _ := fc.Rule.Blocked(s, now); blocked {
			return ErrPaused
		}
	}
	if f.cfg.PerHour < 0 {
		return nil
	}
	hour := strconv.FormatInt(now.Unix()/3600, 10)
	c := store.Counter{
		Key:  store.CounterKey{Scope: scopeSent, UserID: userID, Window: hour},
		Rule: store.Rule{Free: f.cfg.PerHour, Base: time.Hour, Max: time.Hour, TTL: time.Hour},
	}
	hit, err := f.cfg.Store.Hit(ctx, store.HitRequest{Now: now, Counters: []store.Counter{c}})
	if err != nil {
		return fmt.Errorf("%w: %w", factor.ErrStore, err)
	}
	if !hit.Admitted {
		return ErrTooMany
	}
	return nil
}

// save cancels the user's pending push and stores the new one: the
// request record an answer takes, each device's inbox and the user's
// pending pointer. Of two concurrent pushes to one user the later pointer
// wins and cancels the other.
func (f *Factor) save(ctx context.Context, userID string, devs []store.Factor, st requestState, req Request) error {
	now, exp := req.Time, req.Expires
	put := func(id string, data []byte) error {
		c := store.Challenge{ID: id, UserID: userID, Kind: string(Kind), Binding: recordBinding, Data: data, Created: now, Expires: exp}
		if err := f.cfg.Store.PutChallenge(ctx, c); err != nil {
			return fmt.Errorf("%w: %w", factor.ErrStore, err)
		}
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := put(f.id(domRequest, req.RequestID), data); err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	for _, d := range devs {
		inbox := f.id(domInbox, userID, d.ID)
		if _, err := f.cfg.Store.TakeChallenge(ctx, inbox, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %w", factor.ErrStore, err)
		}
		if err := put(inbox, body); err != nil {
			return err
		}
	}
	pending := f.id(domPending, userID)
	for tries := 0; ; tries++ {
		old, err := f.cfg.Store.TakeChallenge(ctx, pending, now)
		switch {
		case err == nil:
			f.cancel(ctx, userID, string(old.Data), now)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("%w: %w", factor.ErrStore, err)
		}
		err = put(pending, []byte(req.RequestID))
		if err == nil || !errors.Is(err, store.ErrExists) || tries == 3 {
			return err
		}
	}
}

// cancel takes a request record, so no answer to it is accepted. A failure
// leaves it to expire; the caller has already decided.
func (f *Factor) cancel(ctx context.Context, _ string, requestID string, now time.Time) {
	_, _ = f.cfg.Store.TakeChallenge(ctx, f.id(domRequest, requestID), now)
}

func (f *Factor) notify(ctx context.Context, userID string, devs []store.Factor, req Request) error {
	if f.cfg.Notifier == nil {
		return nil
	}
	for _, d := range devs {
		dev, _, err := decodeDevice(d.Data)
		if err != nil {
			return err
		}
		if len(dev.Subscription) == 0 {
			continue
		}
		if err := f.cfg.Notifier.Notify(ctx, Device{UserID: userID, FactorID: d.ID, DeviceID: d.Lookup, Subscription: dev.Subscription}, req); err != nil {
			return fmt.Errorf("%w: %w", ErrNotify, err)
		}
	}
	return nil
}

// pick returns n distinct numbers from 10 to 99; the first is the one to
// match.
func pick(r io.Reader, n int) ([]int, error) {
	out := make([]int, 0, n)
	for len(out) < n {
		v, err := uniform(r, 90)
		if err != nil {
			return nil, err
		}
		v += 10
		dup := false
		for _, x := range out {
			dup = dup || x == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

// shuffle is a Fisher-Yates shuffle from r.
func shuffle(r io.Reader, s []int) error {
	for i := len(s) - 1; i > 0; i-- {
		j, err := uniform(r, i+1)
		if err != nil {
			return err
		}
		s[i], s[j] = s[j], s[i]
	}
	return nil
}

// uniform returns a uniform value in [0, n) by rejection sampling.
func uniform(r io.Reader, n int) (int, error) {
	limit := (1 << 32) - (1<<32)%uint64(n)
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("push: random source: %w", err)
		}
		if v := uint64(binary.BigEndian.Uint32(b[:])); v < limit {
			return int(v % uint64(n)), nil
		}
	}
}
