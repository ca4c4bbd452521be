package session_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/session"
)

func TestAccessTokenClaims(t *testing.T) {
	f := newFixture(t)
	tok := f.start(t, user, mfa.AAL2)
	c, err := f.m.VerifyAccess(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Header["typ"] != "at+jwt" || p.Header["kid"] != "k1" || p.Header["alg"] != "EdDSA" {
		t.Errorf("header = %v", p.Header)
	}
	mc := p.Claims.(jwt.MapClaims)
	for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "sid", "auth_time", "amr", "acr"} {
		if _, ok := mc[name]; !ok {
			t.Errorf("claim %q missing", name)
		}
	}
	if c.Subject != user || c.ACR != session.ACRAAL2 || c.AAL() != mfa.AAL2 || c.ClientID != audience {
		t.Errorf("claims = %+v", c)
	}
	if want := []string{"otp", "mfa"}; strings.Join(c.AMR, ",") != strings.Join(want, ",") {
		t.Errorf("amr = %v, want %v", c.AMR, want)
	}
	if !c.ExpiresAt.Equal(t0.Add(5*time.Minute)) || !c.AuthTime.Equal(t0) {
		t.Errorf("exp %v auth_time %v", c.ExpiresAt, c.AuthTime)
	}
	if tok.Claims.SessionID != c.SessionID || tok.TokenType != "Bearer" || tok.ExpiresIn != 300 {
		t.Errorf("tokens = %+v", tok)
	}
}

func TestPendingToken(t *testing.T) {
	f := newFixture(t)
	factors := []mfa.FactorInfo{
		{ID: "f1", Kind: mfa.KindTOTP, Active: true},
		{ID: "f2", Kind: mfa.KindWebAuthn, Active: false},
		{ID: "f3", Kind: mfa.KindBackupCodes, Active: true},
	}
	tok, pc, err := f.m.IssuePending(context.Background(), user, factors)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.m.VerifyPending(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != user || got.Binding() == "" || got.Binding() != pc.ID || len(got.Factors) != 2 {
		t.Errorf("claims = %+v", got)
	}
	if !got.Offers("f1") || got.Offers("f2") || !got.OffersKind(mfa.KindBackupCodes) || got.OffersKind(mfa.KindWebAuthn) {
		t.Errorf("offers wrong: %+v", got.Factors)
	}
	// No active factor: a token offering none, for a first enrolment.
	none, _, err := f.m.IssuePending(context.Background(), user, factors[1:2])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.m.VerifyPending(none); err != nil || len(got.Factors) != 0 || got.Subject != user {
		t.Errorf("no active factor: %+v, %v", got, err)
	}
	if _, err := f.m.VerifyAccess(none); !errors.Is(err, session.ErrWrongType) {
		t.Errorf("a factor-less pending token as access: err = %v", err)
	}
	if _, _, err = f.m.IssuePending(context.Background(), "", factors); !errors.Is(err, session.ErrInvalidResult) {
		t.Errorf("no user: err = %v", err)
	}
	f.clk.Add(5*time.Minute + 6*time.Second)
	if _, err := f.m.VerifyPending(tok); !errors.Is(err, session.ErrExpired) {
		t.Errorf("after 5 min: err = %v, want ErrExpired", err)
	}
}

// TestBadTokens: every malformed, forged or misplaced token is refused
// with its own reason, and every reason is an ErrInvalidToken.
func TestBadTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.start(t, user, mfa.AAL2).AccessToken
	pending, _, err := f.m.IssuePending(ctx, user, []mfa.FactorInfo{{ID: "f1", Kind: mfa.KindTOTP, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]any{"typ": "at+jwt", "kid": "k1"}
	withClaims := func(mod func(c *session.AccessClaims)) string {
		c := f.accessClaims()
		mod(c)
		return f.forge(t, hdr, c)
	}
	withHeader := func(h map[string]any) string { return f.forge(t, h, f.accessClaims()) }

	noneTok := jwt.NewWithClaims(jwt.SigningMethodNone, f.accessClaims())
	noneTok.Header["kid"], noneTok.Header["typ"] = "k1", "at+jwt"
	none, err := noneTok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// The classic confusion: HS256 with the public key bytes as secret.
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.accessClaims())
	hsTok.Header["kid"], hsTok.Header["typ"] = "k1", "at+jwt"
	hsConfused, err := hsTok.SignedString([]byte(f.priv.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	esTok := jwt.NewWithClaims(jwt.SigningMethodES256, f.accessClaims())
	esTok.Header["kid"], esTok.Header["typ"] = "k1", "at+jwt"
	es, err := esTok.SignedString(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"sub":"alice"`), []byte(`"sub":"mallo"`), 1)) + "." + parts[2]
	hdrBytes, _ := base64.RawURLEncoding.DecodeString(parts[0])
	retyped := base64.RawURLEncoding.EncodeToString(bytes.Replace(hdrBytes, []byte(`"kid"`), []byte(`"x":1,"kid"`), 1)) + "." + parts[1] + "." + parts[2]

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", session.ErrMalformed},
		{"alg none", none, session.ErrAlgorithm},
		{"HS256 with the public key as secret", hsConfused, session.ErrAlgorithm},
		{"ES256 not allowed in an Ed25519 set", es, session.ErrAlgorithm},
		{"unknown kid", withHeader(map[string]any{"typ": "at+jwt", "kid": "k9"}), session.ErrUnknownKey},
		{"no kid", withHeader(map[string]any{"typ": "at+jwt"}), session.ErrUnknownKey},
		{"crit header", withHeader(map[string]any{"typ": "at+jwt", "kid": "k1", "crit": []string{"x"}}), session.ErrMalformed},
		{"no typ", withHeader(map[string]any{"typ": nil, "kid": "k1"}), session.ErrWrongType},
		{"JWT typ", withHeader(map[string]any{"typ": "JWT", "kid": "k1"}), session.ErrWrongType},
		{"pending as access", pending, session.ErrWrongType},
		{"wrong iss", withClaims(func(c *session.AccessClaims) { c.Issuer = "https://evil.example" }), session.ErrWrongIssuer},
		{"wrong aud", withClaims(func(c *session.AccessClaims) { c.Audience = jwt.ClaimStrings{"https://other.example"} }), session.ErrWrongAudience},
		{"no aud", withClaims(func(c *session.AccessClaims) { c.Audience = nil }), session.ErrMalformed},
		{"expired", withClaims(func(c *session.AccessClaims) { c.ExpiresAt = jwt.NewNumericDate(t0.Add(-6 * time.Second)) }), session.ErrExpired},
		{"no exp", withClaims(func(c *session.AccessClaims) { c.ExpiresAt = nil }), session.ErrMalformed},
		{"nbf in the future", withClaims(func(c *session.AccessClaims) { c.NotBefore = jwt.NewNumericDate(t0.Add(time.Minute)) }), session.ErrNotYetValid},
		{"iat in the future", withClaims(func(c *session.AccessClaims) { c.IssuedAt = jwt.NewNumericDate(t0.Add(time.Minute)) }), session.ErrNotYetValid},
		{"no sid", withClaims(func(c *session.AccessClaims) { c.SessionID = "" }), session.ErrMalformed},
		{"no sub", withClaims(func(c *session.AccessClaims) { c.Subject = "" }), session.ErrMalformed},
		{"no auth_time", withClaims(func(c *session.AccessClaims) { c.AuthTime = nil }), session.ErrMalformed},
		{"unknown acr", withClaims(func(c *session.AccessClaims) { c.ACR = "urn:mfakit:aal9" }), session.ErrMalformed},
		{"tampered claim", tampered, session.ErrSignature},
		{"tampered header", retyped, session.ErrSignature},
		{"bad signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64)), session.ErrSignature},
		{"truncated signature", good[:len(good)-10], session.ErrSignature},
		{"two segments", parts[0] + "." + parts[1], session.ErrMalformed},
		{"four segments", good + ".x", session.ErrMalformed},
		{"non-base64", "!!!.???.***", session.ErrMalformed},
		{"padded base64", parts[0] + "==." + parts[1] + "." + parts[2], session.ErrMalformed},
		{"oversized", good + strings.Repeat("A", session.MaxTokenLen), session.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.VerifyAccess(tt.token)
			if !errors.Is(err, tt.want) || !errors.Is(err, session.ErrInvalidToken) {
				t.Fatalf("err = %v, want %v and ErrInvalidToken", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "mfa: session: ") {
				t.Errorf("error %q lacks the prefix", err)
			}
		})
	}
	// The reverse swap: an access token is never a pending token.
	if _, err := f.m.VerifyPending(good); !errors.Is(err, session.ErrWrongType) {
		t.Errorf("access as pending: err = %v", err)
	}
	// Sanity: the forger makes tokens that pass when nothing is wrong.
	if _, err := f.m.VerifyAccess(withClaims(func(*session.AccessClaims) {})); err != nil {
		t.Errorf("control token refused: %v", err)
	}
}

// TestAlgorithmPerKey: in a set holding an HS256 key and an Ed25519 key,
// each kid accepts only its own algorithm.
func TestAlgorithmPerKey(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, 32)
	hs, err := session.NewHS256Key("h1", secret)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := session.GenerateEd25519Key("e1", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *session.Config) {
		ks, err := session.NewKeySet(hs, ed)
		if err != nil {
			t.Fatal(err)
		}
		c.Keys = ks
	})
	tok := f.start(t, user, mfa.AAL2)
	if _, err := f.m.VerifyAccess(tok.AccessToken); err != nil {
		t.Fatalf("HS256 token refused: %v", err)
	}
	c := f.accessClaims()
	sign := func(kid string, key []byte) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tk.Header["kid"], tk.Header["typ"] = kid, "at+jwt"
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pub := []byte(ed.Public().(ed25519.PublicKey))
	if _, err := f.m.VerifyAccess(sign("e1", pub)); !errors.Is(err, session.ErrAlgorithm) {
		t.Errorf("HS256 under the Ed25519 kid: err = %v, want ErrAlgorithm", err)
	}
	if _, err := f.m.VerifyAccess(sign("h1", pub)); !errors.Is(err, session.ErrSignature) {
		t.Errorf("HS256 with the wrong secret: err = %v, want ErrSignature", err)
	}
	if _, err := f.m.VerifyAccess(sign("h1", secret)); err != nil {
		t.Errorf("HS256 with the right secret: %v", err)
	}
	if doc := string(f.m.JWKSDocument()); strings.Contains(doc, `"kid":"h1"`) || strings.Contains(doc, `"oct"`) || !strings.Contains(doc, `"kid":"e1"`) {
		t.Errorf("JWKS must publish e1 and never the HS256 key: %s", doc)
	}
}

func TestKeyConstructors(t *testing.T) {
	ed, _ := session.GenerateEd25519Key("e1", nil)
	pubOnly, err := session.NewPublicKey("p1", ed.Public())
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name string
		fn   func() error
	}{
		{"empty kid", func() error { _, err := session.GenerateEd25519Key("", nil); return err }},
		{"kid with quote", func() error { _, err := session.GenerateEd25519Key(`a"b`, nil); return err }},
		{"long kid", func() error { _, err := session.GenerateEd25519Key(strings.Repeat("k", 65), nil); return err }},
		{"short HS256 secret", func() error { _, err := session.NewHS256Key("h", make([]byte, 31)); return err }},
		{"short Ed25519 key", func() error { _, err := session.NewEd25519Key("e", make([]byte, 10)); return err }},
		{"P-384 for ES256", func() error { _, err := session.NewES256Key("e", p384); return err }},
		{"P-384 public", func() error { _, err := session.NewPublicKey("e", &p384.PublicKey); return err }},
		{"RSA-ish public", func() error { _, err := session.NewPublicKey("e", "nope"); return err }},
		{"nil signing key", func() error { _, err := session.NewKeySet(nil); return err }},
		{"public key cannot sign", func() error { _, err := session.NewKeySet(pubOnly); return err }},
		{"duplicate kid", func() error { _, err := session.NewKeySet(ed, ed); return err }},
		{"PEM garbage", func() error { _, err := session.ParseKeyPEM("x", []byte("nope")); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, session.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	// PEM round trips, private and public.
	for _, k := range []*session.Key{ed, pubOnly, mustES256(t)} {
		p, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		back, err := session.ParseKeyPEM(k.ID(), p)
		if err != nil {
			t.Fatal(err)
		}
		if back.Algorithm() != k.Algorithm() || back.CanSign() != k.CanSign() {
			t.Errorf("%s: round trip changed the key", k.ID())
		}
	}
}

func mustES256(t testing.TB) *session.Key {
	k, err := session.GenerateES256Key("es1")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestConfig(t *testing.T) {
	good := newFixture(t)
	_ = good
	tests := []struct {
		name string
		mod  func(*session.Config)
	}{
		{"no issuer", func(c *session.Config) { c.Issuer = "" }},
		{"no audience", func(c *session.Config) { c.Audience = "" }},
		{"no store", func(c *session.Config) { c.Store = nil }},
		{"no hasher", func(c *session.Config) { c.Hasher = nil }},
		{"no keys", func(c *session.Config) { c.Keys = nil }},
		{"pending too long", func(c *session.Config) { c.PendingTTL = time.Hour }},
		{"access too long", func(c *session.Config) { c.AccessTTL = 2 * time.Hour }},
		{"negative access", func(c *session.Config) { c.AccessTTL = -time.Second }},
		{"leeway too long", func(c *session.Config) { c.Leeway = time.Minute }},
		{"AAL2 beyond NIST", func(c *session.Config) { c.Lifetimes.AAL2.Absolute = 48 * time.Hour }},
		{"AAL3 idle beyond NIST", func(c *session.Config) { c.Lifetimes.AAL3.Idle = time.Hour }},
		{"idle above absolute", func(c *session.Config) { c.Lifetimes.AAL1 = session.Lifetime{Idle: 2 * time.Hour, Absolute: time.Hour} }},
		{"realm with quote", func(c *session.Config) { c.Realm = `a"b` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg session.Config
			newFixture(t, func(c *session.Config) { cfg = *c })
			tt.mod(&cfg)
			if _, err := session.New(cfg); !errors.Is(err, session.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	// Stricter rev 3 numbers are accepted.
	newFixture(t, func(c *session.Config) {
		c.Lifetimes.AAL2 = session.Lifetime{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	})
}
