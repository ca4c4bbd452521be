package session

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/store"
)

// Store is the persistence a [Manager] needs: sessions (refresh-token
// families) and remembered devices. The values of store/memstore,
// store/sqlstore and store/redisstore satisfy it; it need not be the
// backend that holds the factors.
type Store interface {
	store.Sessions
	store.Devices
}

// Lifetime bounds a session at one assurance level.
type Lifetime struct {
	// Idle ends the session when it has not been refreshed for this long.
	Idle time.Duration
	// Absolute ends the session this long after the authentication that
	// reached the level, however active it is.
	Absolute time.Duration
}

// Lifetimes holds one [Lifetime] per assurance level. A zero field takes
// its default. The defaults are NIST SP 800-63B rev 4 (§2.2.3, §3.2.3):
//
//	AAL1: 30 days absolute, 7 days idle (rev 4 asks for re-authentication
//	      at least every 30 days and sets no idle limit; 7 days is ours)
//	AAL2: 24 hours absolute, 1 hour idle
//	AAL3: 12 hours absolute, 15 minutes idle
//
// Values above the AAL2 and AAL3 defaults are refused: a session must not
// claim a level longer than NIST lets it. Shorter ones (the rev 3 numbers,
// 12 h / 30 min for AAL2) are fine.
type Lifetimes struct {
	AAL1, AAL2, AAL3 Lifetime
}

// DefaultLifetimes are the rev 4 numbers documented on [Lifetimes].
var DefaultLifetimes = Lifetimes{
	AAL1: Lifetime{Idle: 7 * 24 * time.Hour, Absolute: 30 * 24 * time.Hour},
	AAL2: Lifetime{Idle: time.Hour, Absolute: 24 * time.Hour},
	AAL3: Lifetime{Idle: 15 * time.Minute, Absolute: 12 * time.Hour},
}

// Config configures a [Manager]. Issuer, Audience, Store, Hasher and Keys
// are required; every other field is safe when zero.
type Config struct {
	// Issuer is the "iss" of every token and the only one accepted, e.g.
	// "https://app.example.com". Required.
	Issuer string
	// Audience is the "aud" of every access token and the audience an
	// access token must name to be accepted, e.g. "https://api.example.com".
	// Pending tokens name another, so the API never takes one. Required.
	Audience string
	// ClientID is the RFC 9068 "client_id" claim of access tokens.
	// Default: Audience.
	ClientID string
	// Store keeps sessions and remembered devices. Required.
	Store Store
	// Hasher keys the hashes under which refresh and device tokens are
	// stored; use the Verifier's (mfa.Verifier.Hasher) or mfa.NewHasher
	// over the same key. Required.
	Hasher *mfa.Hasher
	// Keys sign and verify tokens (see [KeySet]). Required.
	Keys *KeySet
	// PendingTTL is the lifetime of an MFA-pending token, and the oldest
	// mfa.Result that Start and StepUp accept. Default 5 minutes; at most
	// 15 minutes.
	PendingTTL time.Duration
	// AccessTTL is the lifetime of an access token; an access token never
	// outlives its session's idle or absolute limit either. Default 5
	// minutes; at most 1 hour.
	AccessTTL time.Duration
	// Lifetimes are the idle and absolute limits per assurance level.
	// Default [DefaultLifetimes].
	Lifetimes Lifetimes
	// DeviceTTL is how long a remembered device is trusted when Remember
	// is given no TTL. Default 30 days; Remember refuses more than 365 days.
	DeviceTTL time.Duration
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// Default 5 seconds; at most 10 seconds.
	Leeway time.Duration
	// Realm is the realm of WWW-Authenticate challenges. Default: Issuer.
	Realm string
	// InsecureCookies drops the Secure attribute and the "__Host-" name
	// prefix from cookies, for a browser on plain-HTTP localhost during
	// development. Default false: cookies are Secure.
	InsecureCookies bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Rand is the source of session IDs, token secrets and jti values.
	// Default crypto/rand.Reader.
	Rand io.Reader
	// Hooks receive every event, synchronously. A hook error refuses the
	// operation (fail closed). Default none.
	Hooks []Hook
}

// Manager issues, verifies, refreshes and revokes sessions. It keeps no
// state between calls beyond its configuration; any number of Managers
// sharing a store and keys behave as one. It is safe for concurrent use.
type Manager struct {
	issuer, audience, clientID, realm string

	store      Store
	hasher     *mfa.Hasher
	keys       *KeySet
	pendingTTL time.Duration
	accessTTL  time.Duration
	deviceTTL  time.Duration
	life       [4]Lifetime // indexed by mfa.AAL
	now        func() time.Time
	rand       io.Reader
	hooks      []Hook
	secure     bool

	// Built once: parsing a token allocates no parser.
	parser        *jwt.Parser // access tokens: aud is Audience
	pendingParser *jwt.Parser // pending tokens: aud is pendingAudience
	accessKF      jwt.Keyfunc
	pendingKF     jwt.Keyfunc
}

const (
	maxPendingTTL = 15 * time.Minute
	maxAccessTTL  = time.Hour
	maxDeviceTTL  = 365 * 24 * time.Hour
	maxLeeway     = 10 * time.Second
)

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Issuer == "":
		return nil, fmt.Errorf("%w: Issuer is required", ErrConfig)
	case cfg.Audience == "":
		return nil, fmt.Errorf("%w: Audience is required", ErrConfig)
	case cfg.Audience == pendingAudience:
		return nil, fmt.Errorf("%w: Audience %q is reserved for pending tokens", ErrConfig, pendingAudience)
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	case cfg.Hasher == nil:
		return nil, fmt.Errorf("%w: Hasher is required", ErrConfig)
	case cfg.Keys == nil:
		return nil, fmt.Errorf("%w: Keys is required (see GenerateEd25519Key and NewKeySet)", ErrConfig)
	}
	m := &Manager{
		issuer:     cfg.Issuer,
		audience:   cfg.Audience,
		clientID:   orString(cfg.ClientID, cfg.Audience),
		realm:      orString(cfg.Realm, cfg.Issuer),
		store:      cfg.Store,
		hasher:     cfg.Hasher,
		keys:       cfg.Keys,
		pendingTTL: orDuration(cfg.PendingTTL, 5*time.Minute),
		accessTTL:  orDuration(cfg.AccessTTL, 5*time.Minute),
		deviceTTL:  orDuration(cfg.DeviceTTL, 30*24*time.Hour),
		now:        cfg.Now,
		rand:       cfg.Rand,
		hooks:      append([]Hook(nil), cfg.Hooks...),
		secure:     !cfg.InsecureCookies,
	}
	leeway := orDuration(cfg.Leeway, 5*time.Second)
	switch {
	case m.pendingTTL < 0 || m.pendingTTL > maxPendingTTL:
		return nil, fmt.Errorf("%w: PendingTTL must be at most %s", ErrConfig, maxPendingTTL)
	case m.accessTTL < 0 || m.accessTTL > maxAccessTTL:
		return nil, fmt.Errorf("%w: AccessTTL must be at most %s", ErrConfig, maxAccessTTL)
	case m.deviceTTL < 0 || m.deviceTTL > maxDeviceTTL:
		return nil, fmt.Errorf("%w: DeviceTTL must be at most %s", ErrConfig, maxDeviceTTL)
	case leeway < 0 || leeway > maxLeeway:
		return nil, fmt.Errorf("%w: Leeway must be at most %s", ErrConfig, maxLeeway)
	}
	if !quotable(m.realm) {
		return nil, fmt.Errorf("%w: Realm (default Issuer) must be printable ASCII without quotes or backslashes", ErrConfig)
	}
	life := [...]struct {
		got  *Lifetime
		def  Lifetime
		name string
		max  bool
	}{
		{&cfg.Lifetimes.AAL1, DefaultLifetimes.AAL1, "AAL1", false},
		{&cfg.Lifetimes.AAL2, DefaultLifetimes.AAL2, "AAL2", true},
		{&cfg.Lifetimes.AAL3, DefaultLifetimes.AAL3, "AAL3", true},
	}
	for i, l := range life {
		v := Lifetime{Idle: orDuration(l.got.Idle, l.def.Idle), Absolute: orDuration(l.got.Absolute, l.def.Absolute)}
		if v.Idle < 0 || v.Absolute < 0 || v.Idle > v.Absolute {
			return nil, fmt.Errorf("%w: Lifetimes.%s: negative, or Idle above Absolute", ErrConfig, l.name)
		}
		if l.max && (v.Idle > l.def.Idle || v.Absolute > l.def.Absolute) {
			return nil, fmt.Errorf("%w: Lifetimes.%s above NIST SP 800-63B rev 4 (%s idle, %s absolute)", ErrConfig, l.name, l.def.Idle, l.def.Absolute)
		}
		if v.Absolute > maxDeviceTTL {
			return nil, fmt.Errorf("%w: Lifetimes.%s.Absolute above %s", ErrConfig, l.name, maxDeviceTTL)
		}
		m.life[i+1] = v
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(m.keys.algs),
		jwt.WithIssuer(m.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(m.now),
		jwt.WithStrictDecoding(),
	}
	m.parser = jwt.NewParser(append(opts, jwt.WithAudience(m.audience))...)
	m.pendingParser = jwt.NewParser(append(opts, jwt.WithAudience(pendingAudience))...)
	m.accessKF = m.keyfunc(typAccess, typAccessLong)
	m.pendingKF = m.keyfunc(typPending, typPendingLong)
	return m, nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// quotable reports whether s can stand inside a quoted-string of an HTTP
// auth-param without escaping (RFC 6750 §3 limits error_description and
// realm to these characters).
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// JWKSDocument returns the JSON Web Key Set of the public verification
// keys, as the [Manager.JWKS] handler serves it.
func (m *Manager) JWKSDocument() []byte { return m.keys.JWKS() }
