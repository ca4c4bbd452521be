package sentcode

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mfakit/mfa/factor"
)

// Channel is what differs between kinds that send codes: how a
// destination is read. Packages email and sms implement it.
type Channel interface {
	// Parse reads a destination as a user typed it. A malformed or
	// unsupported one wraps factor.ErrInvalidInput; the error must not
	// quote it.
	Parse(dest string) (Destination, error)
}

// Destination is a parsed, normalised destination.
type Destination struct {
	// Address is the normalised form codes are sent to and uniqueness is
	// decided on: "jo@xn--bcher-kva.example", "+447700900123".
	Address string
	// Masked is what a user is shown: "j•••@xn--bcher-kva.example",
	// "+44 •••• ••• 123".
	Masked string
	// Region groups destinations for a cap: a phone number's country
	// calling code ("44"); empty for email.
	Region string
}

// Setup is the Show of an enrolment and Sent that of a challenge: where
// the code went (masked) and until when it works.
type Setup = Sent

// Sent says where a code went, masked, and until when it works.
type Sent struct {
	Masked  string
	Expires time.Time
}

// Config is what a kind that sends codes is made of. Packages email and
// sms fill it from their own Config; an application does not use it.
type Config struct {
	Kind    factor.Kind
	Channel Channel
	// Sender delivers codes. Required.
	Sender Sender
	// Template renders messages. Default DefaultTemplate{Issuer}.
	Template Template
	// Issuer names the service in the default template.
	Issuer string
	// Digits per code: 6 to 8. Default 6.
	Digits int
	// TTL is how long a code works: at most 10 minutes. Default 5
	// minutes. The Verifier's Config.ChallengeTTL caps it too.
	TTL time.Duration
	// SendTimeout bounds one Send. Default 10 seconds.
	SendTimeout time.Duration
	// UniqueDestination: a destination may belong to one user only (see
	// the package doc). Default false.
	UniqueDestination bool
	Caps              Caps
	// AMR and AAL are what a match reports; Notes the events it adds.
	AMR   []string
	AAL   factor.AAL
	Notes []factor.EventType
}

// Caps are the per-destination caps on sending, counted by the Verifier
// before a code is sent (see factor.IssueCapper). Per user, per client
// IP and in all, the Verifier's own IssueLimits apply too. A zero field
// takes its default; a negative one turns that cap off.
type Caps struct {
	// Window is the length of the fixed windows PerDestination and
	// PerRegion count in. Default 1 hour.
	Window time.Duration
	// PerDestination is the most codes sent to one destination per
	// Window, whoever asks. Default 5.
	PerDestination int
	// PerRegion is the most codes sent to one region (an SMS country
	// calling code) per Window across all users: SMS pumping sends to
	// premium ranges of one country. Default: no cap (email has no
	// region); package sms sets its own.
	PerRegion int
	// Cooldown is the least time between two codes to one destination (a
	// resend included). Default 30 seconds.
	Cooldown time.Duration
}

// Factor implements factor.Factor, factor.Challenger and
// factor.IssueCapper for a kind that sends codes.
type Factor struct {
	cfg    Config
	domain string // the code hash's domain label, made once
}

// New validates cfg and returns a Factor. Errors wrap factor.ErrConfig.
func New(cfg Config) (*Factor, error) {
	if cfg.Kind == "" || cfg.Channel == nil {
		return nil, fmt.Errorf("%w: sentcode: Kind and Channel are required", factor.ErrConfig)
	}
	if cfg.Sender == nil {
		return nil, fmt.Errorf("%w: %s: Sender is required", factor.ErrConfig, cfg.Kind)
	}
	if cfg.Template == nil {
		cfg.Template = DefaultTemplate{Issuer: cfg.Issuer}
	}
	if cfg.Digits == 0 {
		cfg.Digits = 6
	}
	if cfg.Digits < 6 || cfg.Digits > 8 {
		return nil, fmt.Errorf("%w: %s: Digits must be 6 to 8", factor.ErrConfig, cfg.Kind)
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.TTL < 0 || cfg.TTL > 10*time.Minute {
		return nil, fmt.Errorf("%w: %s: TTL must be at most 10 minutes", factor.ErrConfig, cfg.Kind)
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = 10 * time.Second
	}
	if cfg.SendTimeout < 0 {
		return nil, fmt.Errorf("%w: %s: negative SendTimeout", factor.ErrConfig, cfg.Kind)
	}
	c := &cfg.Caps
	c.Window = orDefault(c.Window, time.Hour)
	c.Cooldown = orDefault(c.Cooldown, 30*time.Second)
	if c.PerDestination == 0 {
		c.PerDestination = 5
	}
	if c.Window < time.Second || (c.Cooldown > 0 && c.Cooldown < time.Second) {
		return nil, fmt.Errorf("%w: %s: Caps.Window and Caps.Cooldown must be a second or more", factor.ErrConfig, cfg.Kind)
	}
	cfg.AMR, cfg.Notes = slices.Clip(slices.Clone(cfg.AMR)), slices.Clip(slices.Clone(cfg.Notes))
	return &Factor{cfg: cfg, domain: codeDomain + string(cfg.Kind)}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Kind implements factor.Factor.
func (f *Factor) Kind() factor.Kind { return f.cfg.Kind }

// secret is what is sealed: the parsed destination.
type secret struct {
	Address string `json:"a"`
	Masked  string `json:"m"`
	Region  string `json:"r,omitempty"`
}

func (f *Factor) open(b []byte) (secret, error) {
	var s secret
	if err := json.Unmarshal(b, &s); err != nil || s.Address == "" {
		return s, fmt.Errorf("%w: %s: stored destination malformed", factor.ErrSealed, f.cfg.Kind)
	}
	return s, nil
}

var lookupEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// destHash is the keyed hash of a normalised destination, under a domain
// per kind and use: a lookup, or a cap's key.
func (f *Factor) destHash(h *factor.Hasher, use, address string) string {
	sum := h.Sum("mfa/sentcode/v1/"+string(f.cfg.Kind)+"/"+use, []byte(address))
	return lookupEncoding.EncodeToString(sum[:20])
}

// Enroll implements factor.Factor: it parses the destination and returns
// it to be sealed. No code is sent here: the Verifier issues the
// enrolment challenge (Enrolled.ConfirmByChallenge) once it has counted
// it against the caps.
func (f *Factor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	d, err := f.cfg.Channel.Parse(in.Destination)
	if err != nil {
		return factor.Enrolled{}, err
	}
	b, err := json.Marshal(secret(d))
	if err != nil {
		return factor.Enrolled{}, fmt.Errorf("%w: %w", factor.ErrInvalidInput, err)
	}
	en := factor.Enrolled{Secret: b, ConfirmByChallenge: true, Show: &Setup{Masked: d.Masked}}
	if f.cfg.UniqueDestination {
		en.Lookup = f.destHash(in.Hasher, "lookup", d.Address)
	}
	return en, nil
}

// IssueCaps implements factor.IssueCapper: per destination, the cool-down
// and, when the destination has a region, per region.
func (f *Factor) IssueCaps(_ context.Context, in factor.ChallengeInput) ([]factor.IssueCap, error) {
	if in.Factor == nil {
		return nil, nil
	}
	s, err := f.open(in.Secret)
	if err != nil {
		return nil, err
	}
	c := f.cfg.Caps
	dest := "dest/" + f.destHash(in.Hasher, "cap", s.Address)
	caps := []factor.IssueCap{
		{Key: dest, Max: c.PerDestination, Window: c.Window},
	}
	if c.Cooldown > 0 {
		caps = append(caps, factor.IssueCap{Key: "cool/" + dest, Max: 1, Window: c.Cooldown})
	}
	if s.Region != "" {
		caps = append(caps, factor.IssueCap{Key: "region/" + s.Region, Max: c.PerRegion, Window: c.Window})
	}
	return caps, nil
}

// Challenge implements factor.Challenger: a new code, sent to the
// factor's destination; only its keyed hash is returned to be stored.
// A Sender error (or timeout) is returned and nothing is stored.
func (f *Factor) Challenge(ctx context.Context, in factor.ChallengeInput) (factor.Issued, error) {
	if in.Factor == nil {
		return factor.Issued{}, fmt.Errorf("%w: %s: a challenge names one factor", factor.ErrInvalidInput, f.cfg.Kind)
	}
	s, err := f.open(in.Secret)
	if err != nil {
		return factor.Issued{}, err
	}
	code, err := newCode(in.Rand, f.cfg.Digits)
	if err != nil {
		return factor.Issued{}, err
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(in.Rand, salt); err != nil {
		return factor.Issued{}, fmt.Errorf("mfa: sentcode: random: %w", err)
	}
	m := Message{
		Kind: string(f.cfg.Kind), To: s.Address, Code: code, Purpose: PurposeSignIn, Resend: in.Resend,
		Expires: in.Now.Add(f.cfg.TTL), Valid: f.cfg.TTL, Locale: Locale(ctx),
	}
	if in.Enrolling {
		m.Purpose = PurposeEnroll
	}
	if err := f.cfg.Template.Render(&m); err != nil {
		return factor.Issued{}, fmt.Errorf("%s: template: %w", f.cfg.Kind, err)
	}
	sctx, cancel := context.WithTimeout(ctx, f.cfg.SendTimeout)
	defer cancel()
	if err := f.cfg.Sender.Send(sctx, m); err != nil {
		// The cause is the Sender's and may quote the destination: it is
		// returned for the application's logs, never put in an event.
		return factor.Issued{}, &SendError{Kind: f.cfg.Kind, Err: err}
	}
	return factor.Issued{
		Data: encodeData(in.Hasher, f.domain, in.Factor.UserID, in.Factor.ID, salt, code),
		TTL:  f.cfg.TTL,
		Show: &Sent{Masked: s.Masked, Expires: m.Expires},
	}, nil
}

// ChallengeOnly implements factor.ChallengeOnly: Verify needs the
// challenge alone, so the destination stays sealed while a code is checked.
func (*Factor) ChallengeOnly() {}

// Verify implements factor.Factor: the response against the taken
// challenge's code, in constant time. The Match's AMR and Notes are the
// Factor's own copies, clipped so an append cannot reach them: read them,
// do not write them (the Verifier copies AMR into its Result).
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	if in.Challenge == nil {
		return factor.Match{}, fmt.Errorf("%w: a code answers a challenge", factor.ErrExpired)
	}
	if err := checkCode(in.Hasher, f.domain, in.Factor.UserID, in.Factor.ID, in.Challenge.Data, in.Response); err != nil {
		return factor.Match{}, err
	}
	return factor.Match{
		Counter: in.Factor.Counter, AMR: f.cfg.AMR, AAL: f.cfg.AAL,
		Remaining: -1, Notes: f.cfg.Notes,
	}, nil
}

// ErrSendFailed is what a Sender's failure wraps: the code was not sent
// and nothing was stored. The Verifier wraps it in mfa.ErrInternal.
var ErrSendFailed = errors.New("mfa: code could not be sent")

// SendError is a Sender's failure; errors.Is matches ErrSendFailed, and
// the Sender's own error, which is for logs (it may name the
// destination), is its Err.
type SendError struct {
	Kind factor.Kind
	Err  error
}

func (e *SendError) Error() string {
	return "mfa: " + string(e.Kind) + ": send failed: " + e.Err.Error()
}

func (e *SendError) Unwrap() []error { return []error{ErrSendFailed, e.Err} }
