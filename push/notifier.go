package push

import (
	"context"
	"encoding/json"
	"time"
)

// Request is what a device is sent, or fetches with a [Poll], to show the
// user: the sign-in's context and the numbers to choose from. It holds no
// secret, but one of Choices is the number the sign-in screen shows.
type Request struct {
	RequestID string    `json:"request_id"`
	App       string    `json:"app,omitempty"`
	Time      time.Time `json:"time"`
	Expires   time.Time `json:"expires"`
	IP        string    `json:"ip,omitempty"`
	Place     string    `json:"place,omitempty"`
	Browser   string    `json:"browser,omitempty"`
	// Choices holds Config.Choices distinct numbers from 10 to 99 in
	// random order, one of them the sign-in screen's.
	Choices []int `json:"choices"`
}

// Device is a paired device as a [Notifier] sees it.
type Device struct {
	UserID   string
	FactorID string
	DeviceID string
	// Subscription is how to reach it, as the device registered it (a Web
	// Push subscription's JSON); never empty when Notify is called.
	Subscription json.RawMessage
}

// Notifier delivers a request to a device. Notify is called, during the
// Verifier's Challenge, for each of the user's devices that registered a
// Subscription; an error cancels the push and fails the challenge with
// ErrNotify (a device whose subscription has lapsed can be unpaired and
// paired again, or poll). It must not log the request's choices.
type Notifier interface {
	Notify(ctx context.Context, d Device, r Request) error
}

// SignIn is the context of the sign-in a push is for, shown on the device
// so the user can tell whether it is theirs.
type SignIn struct {
	IP      string // the client's address
	Place   string // an approximate place, if the application knows one
	Browser string // a short description from the User-Agent
}

type signInKey struct{}

// WithSignIn returns ctx carrying s, for the Verifier's Challenge to hand
// to the push factor (the challenge request has no room for it). Fields
// longer than 256 bytes or holding control characters are dropped.
func WithSignIn(ctx context.Context, s SignIn) context.Context {
	return context.WithValue(ctx, signInKey{}, s)
}

func signInFrom(ctx context.Context) SignIn {
	s, _ := ctx.Value(signInKey{}).(SignIn)
	clean := func(v string) string {
		if !field(v) {
			return ""
		}
		return v
	}
	return SignIn{IP: clean(s.IP), Place: clean(s.Place), Browser: clean(s.Browser)}
}
