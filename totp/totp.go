package totp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/pquerna/otp"
	ptotp "github.com/pquerna/otp/totp"
)

// AMR is the RFC 8176 authentication method reference of a TOTP match.
const AMR = "otp"

// Algorithm is the HMAC hash of the codes. Authenticator apps support SHA1
// everywhere; SHA256 and SHA512 only in some apps.
type Algorithm int

const (
	SHA1   Algorithm = iota // the zero value and the default
	SHA256                  // RFC 6238 HMAC-SHA-256
	SHA512                  // RFC 6238 HMAC-SHA-512
)

// String returns the name used in otpauth URIs: "SHA1", "SHA256", "SHA512".
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

func (a Algorithm) otp() otp.Algorithm {
	switch a {
	case SHA256:
		return otp.AlgorithmSHA256
	case SHA512:
		return otp.AlgorithmSHA512
	}
	return otp.AlgorithmSHA1
}

// Limits on Config.
const (
	// MaxPeriod is the longest Config.Period accepted.
	MaxPeriod = 120 * time.Second
	// MaxSkew is the largest Config.Skew accepted.
	MaxSkew = 2
	// NoSkew as Config.Skew accepts the current step only.
	NoSkew = -1
	// MinSecretSize is the smallest Config.SecretSize accepted: 112 bits.
	MinSecretSize = 14
	// MaxSecretSize is the largest Config.SecretSize accepted.
	MaxSecretSize = 64
)

// Config configures a Factor. The zero value, with an Issuer, is the
// setting every authenticator app supports: SHA1, 6 digits, 30 seconds,
// ±1 step, 160-bit seeds.
type Config struct {
	// Issuer names the service in the user's authenticator app. Required;
	// it must not contain ':' (the otpauth label separator).
	Issuer string
	// Algorithm is the HMAC hash. Default SHA1.
	Algorithm Algorithm
	// Digits is the code length, 6 or 8. Default 6.
	Digits int
	// Period is the time step, a whole number of seconds, at most
	// MaxPeriod. Default 30 s.
	Period time.Duration
	// Skew is how many steps either side of the current one are accepted
	// to absorb clock drift, at most MaxSkew; NoSkew accepts the current
	// step only. Default 1 (±1 step).
	Skew int
	// SecretSize is the seed length in bytes, from MinSecretSize to
	// MaxSecretSize. Default 20 (160 bits, as RFC 4226 recommends).
	SecretSize int
}

// Factor is the TOTP factor. It is safe for concurrent use.
type Factor struct {
	issuer     string
	alg        Algorithm
	digits     int
	period     int64 // seconds
	skew       int
	secretSize int
}

var _ factor.Factor = (*Factor)(nil)

// New validates cfg, applies its defaults and returns a Factor. Errors wrap
// mfa.ErrConfig.
func New(cfg Config) (*Factor, error) {
	bad := func(format string, args ...any) (*Factor, error) {
		return nil, fmt.Errorf("%w: totp: "+format, append([]any{factor.ErrConfig}, args...)...)
	}
	if cfg.Issuer == "" {
		return bad("Issuer is required")
	}
	if strings.Contains(cfg.Issuer, ":") {
		return bad("Issuer %q contains ':'", cfg.Issuer)
	}
	switch cfg.Algorithm {
	case SHA1, SHA256, SHA512:
	default:
		return bad("unknown %v", cfg.Algorithm)
	}
	switch cfg.Digits {
	case 0:
		cfg.Digits = 6
	case 6, 8:
	default:
		return bad("Digits is %d, want 6 or 8", cfg.Digits)
	}
	if cfg.Period == 0 {
		cfg.Period = 30 * time.Second
	}
	if cfg.Period < time.Second || cfg.Period > MaxPeriod || cfg.Period%time.Second != 0 {
		return bad("Period is %v, want whole seconds from 1s to %v", cfg.Period, MaxPeriod)
	}
	switch {
	case cfg.Skew == 0:
		cfg.Skew = 1
	case cfg.Skew == NoSkew:
		cfg.Skew = 0
	case cfg.Skew < 0 || cfg.Skew > MaxSkew:
		return bad("Skew is %d, want NoSkew or 1 to %d", cfg.Skew, MaxSkew)
	}
	if cfg.SecretSize == 0 {
		cfg.SecretSize = 20
	}
	if cfg.SecretSize < MinSecretSize || cfg.SecretSize > MaxSecretSize {
		return bad("SecretSize is %d, want %d to %d bytes", cfg.SecretSize, MinSecretSize, MaxSecretSize)
	}
	return &Factor{
		issuer:     cfg.Issuer,
		alg:        cfg.Algorithm,
		digits:     cfg.Digits,
		period:     int64(cfg.Period / time.Second),
		skew:       cfg.Skew,
		secretSize: cfg.SecretSize,
	}, nil
}

// Kind returns mfa.KindTOTP.
func (f *Factor) Kind() factor.Kind { return factor.KindTOTP }

// Setup is what the user needs to add the seed to an authenticator app. It
// is shown once and must not be stored or logged; String and LogValue
// redact it.
type Setup struct {
	// URI is the otpauth URI
	// (otpauth://totp/Issuer:account?algorithm=...&digits=...&issuer=Issuer&period=...&secret=...).
	URI string
	// Secret is the seed in unpadded base32, for typing in by hand.
	Secret    string
	Issuer    string
	Account   string
	Algorithm Algorithm
	Digits    int
	Period    time.Duration
}

// MaxQRSize is the largest image QRCode draws, in pixels.
const MaxQRSize = 2048

// QRCode returns a size×size PNG of a QR code holding URI. Size must be
// large enough for the code's modules (about 100 pixels) and at most
// MaxQRSize.
func (s Setup) QRCode(size int) ([]byte, error) {
	if size <= 0 || size > MaxQRSize {
		return nil, fmt.Errorf("%w: totp: QR code size %d, want 1 to %d", factor.ErrInvalidInput, size, MaxQRSize)
	}
	key, err := otp.NewKeyFromURL(s.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: totp: %w", factor.ErrInvalidInput, err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("%w: totp: QR code: %w", factor.ErrInvalidInput, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: totp: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// String redacts the setup so that printing it reveals no secret.
func (s Setup) String() string { return "totp.Setup{REDACTED}" }

// LogValue redacts the setup in log/slog output.
func (s Setup) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// Enroll draws a seed of Config.SecretSize bytes from in.Rand and returns
// it as the Secret to seal, the enrolment parameters as Data, and a *Setup
// to show. in.Account must be non-empty and contain no ':'; otherwise the
// error wraps mfa.ErrInvalidInput.
func (f *Factor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	if in.Account == "" || strings.Contains(in.Account, ":") {
		return factor.Enrolled{}, fmt.Errorf("%w: totp: account name must be non-empty and contain no ':'", factor.ErrInvalidInput)
	}
	if in.Rand == nil {
		return factor.Enrolled{}, fmt.Errorf("%w: totp: no random source", factor.ErrInvalidInput)
	}
	key, err := ptotp.Generate(ptotp.GenerateOpts{
		Issuer:      f.issuer,
		AccountName: in.Account,
		Period:      uint(f.period),
		SecretSize:  uint(f.secretSize),
		Digits:      otp.Digits(f.digits),
		Algorithm:   f.alg.otp(),
		Rand:        in.Rand,
	})
	if err != nil {
		return factor.Enrolled{}, fmt.Errorf("mfa: totp: generate: %w", err)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key.Secret())
	if err != nil || len(seed) != f.secretSize {
		return factor.Enrolled{}, errors.New("mfa: totp: generated key does not hold the seed")
	}
	return factor.Enrolled{
		Secret:  seed,
		Data:    params{alg: f.alg, digits: f.digits, period: f.period}.encode(),
		Counter: 0,
		Show: &Setup{
			URI:       f.uri(in.Account, key.Secret()),
			Secret:    key.Secret(),
			Issuer:    f.issuer,
			Account:   in.Account,
			Algorithm: f.alg,
			Digits:    f.digits,
			Period:    time.Duration(f.period) * time.Second,
		},
	}, nil
}

// uri returns the otpauth URI of Google's Key URI format. pquerna/otp
// builds one too, but escapes query values as path segments, so an issuer
// holding '&' or '+' comes back from the app's parser cut short or with a
// space. Here issuer and account are escaped strictly (everything but
// unreserved characters, a space as %20, which apps read reliably, unlike
// '+'), so any percent-decoder gets them back.
func (f *Factor) uri(account, secret string) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return "otpauth://totp/" + esc(f.issuer) + ":" + esc(account) +
		"?secret=" + secret +
		"&issuer=" + esc(f.issuer) +
		"&algorithm=" + f.alg.String() +
		"&digits=" + strconv.Itoa(f.digits) +
		"&period=" + strconv.FormatInt(f.period, 10)
}

// params are the enrolment parameters kept in the factor's Data, so that a
// seed is always checked the way the user's app computes it.
type params struct {
	alg    Algorithm
	digits int
	period int64
}

const paramsVersion = 1

func (p params) encode() []byte {
	return []byte{paramsVersion, byte(p.alg), byte(p.digits), byte(p.period)}
}

// params returns the parameters of a stored factor: those in data, or the
// Factor's own when data is empty (a factor stored without them).
func (f *Factor) params(data []byte) (params, bool) {
	if len(data) == 0 {
		return params{alg: f.alg, digits: f.digits, period: f.period}, true
	}
	if len(data) != 4 || data[0] != paramsVersion {
		return params{}, false
	}
	p := params{alg: Algorithm(data[1]), digits: int(data[2]), period: int64(data[3])}
	switch p.alg {
	case SHA1, SHA256, SHA512:
	default:
		return params{}, false
	}
	if p.digits != 6 && p.digits != 8 || p.period < 1 || p.period > int64(MaxPeriod/time.Second) {
		return params{}, false
	}
	return p, true
}

// Errors are built once so that a failed verification allocates nothing.
var (
	errMalformed6 = fmt.Errorf("%w: totp: want 6 ASCII digits", factor.ErrMalformedResponse)
	errMalformed8 = fmt.Errorf("%w: totp: want 8 ASCII digits", factor.ErrMalformedResponse)
	errWrong      = fmt.Errorf("%w: totp", factor.ErrWrongCode)
	errReplayed   = fmt.Errorf("%w: totp: step at or below the last accepted one", factor.ErrReplayed)
	errNoSecret   = fmt.Errorf("%w: totp: no seed", factor.ErrSealed)
	errCorrupt    = fmt.Errorf("%w: totp: corrupt stored parameters", factor.ErrSealed)
	errClock      = fmt.Errorf("%w: totp: clock before 1970", factor.ErrInvalidInput)
)

// amr is shared by every Match so that Verify allocates nothing; callers
// treat Match.AMR as read-only.
var amr = []string{AMR}

// Verify checks in.Response against the seed in in.Secret at the server
// time in.Now. The response must be exactly Digits ASCII digits, else the
// error wraps mfa.ErrMalformedResponse. A code of a step at or below
// in.Factor.Counter wraps mfa.ErrReplayed; any other mismatch wraps
// mfa.ErrWrongCode. On a match, Match.Counter is the matched step for the
// Verifier to commit. Should two steps of the window share a code, the
// later one is reported, so that code is accepted once only (RFC 6238
// §5.2) even while it is still the current one.
//
// Match.AMR is shared between calls and must not be modified.
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	p, ok := f.params(in.Factor.Data)
	if !ok {
		return factor.Match{}, errCorrupt
	}
	if len(in.Secret) == 0 {
		return factor.Match{}, errNoSecret
	}
	resp, ok := parseDigits(in.Response, p.digits)
	if !ok {
		if p.digits == 8 {
			return factor.Match{}, errMalformed8
		}
		return factor.Match{}, errMalformed6
	}
	now := in.Now.Unix()
	if now < 0 {
		return factor.Match{}, errClock
	}
	step := now / p.period

	// Every step of the window is computed and compared, and the match is
	// selected by mask: no early exit, no branch on a code.
	var codes [2*MaxSkew + 1]uint32
	first := step - int64(f.skew)
	window(p.alg, in.Secret, uint64(first), p.digits, codes[:2*f.skew+1])
	var found int
	var matched int64
	for i, code := range codes[:2*f.skew+1] {
		s := first + int64(i)
		eq := subtle.ConstantTimeEq(int32(code), int32(resp))
		eq &= int(^uint64(s) >> 63) // a step before 1970 never matches
		mask := -int64(eq)
		matched = matched&^mask | s&mask
		found |= eq
	}
	clear(codes[:])

	if found == 0 {
		return factor.Match{}, errWrong
	}
	if matched <= in.Factor.Counter {
		return factor.Match{}, errReplayed
	}
	return factor.Match{Counter: matched, AMR: amr, AAL: factor.AAL2, Remaining: -1}, nil
}

// parseDigits returns the value of s if it is exactly n ASCII digits. The
// length is checked first (it is not secret); the digits are then all read
// whatever they hold.
func parseDigits(s string, n int) (uint32, bool) {
	if len(s) != n {
		return 0, false
	}
	var v uint32
	bad := 0
	for i := 0; i < len(s); i++ {
		d := int(s[i]) - '0'
		bad |= d | (9 - d) // negative unless 0 <= d <= 9
		v = v*10 + uint32(d&0x0f)
	}
	return v, bad >= 0
}

// GoString redacts the setup in %#v output.
func (s Setup) GoString() string { return s.String() }
