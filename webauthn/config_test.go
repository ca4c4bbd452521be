package webauthn_test

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/webauthn"
)

func TestNewValidatesConfig(t *testing.T) {
	good := []struct {
		name string
		cfg  webauthn.Config
	}{
		{"domain", webauthn.Config{RPID: "example.com", Origins: []string{"https://example.com"}}},
		{"subdomain origins and a port", webauthn.Config{RPID: "example.com", Origins: []string{"https://login.example.com", "https://example.com:8443", "https://example.com/"}}},
		{"subdomain RP ID", webauthn.Config{RPID: "login.example.com", Origins: []string{"https://login.example.com"}}},
		{"under a two-label public suffix", webauthn.Config{RPID: "example.co.uk", Origins: []string{"https://www.example.co.uk"}}},
		{"localhost over http", webauthn.Config{RPID: "localhost", Origins: []string{"http://localhost:8080", "https://localhost"}}},
		{"every option set", webauthn.Config{
			RPID: "example.com", RPDisplayName: "Example", Origins: []string{"https://example.com"},
			UserVerification: webauthn.UserVerificationRequired, ResidentKey: webauthn.ResidentKeyRequired,
			Timeout: 10 * time.Minute, SignCount: webauthn.SignCountAcceptAndFlag, Attestation: webauthn.AttestationDirect,
			AttestationRoots: vendorCA.Pool(), RequireTrustedAttestation: true,
		}},
		{"roots with indirect attestation", webauthn.Config{
			RPID: "example.com", Origins: []string{"https://example.com"},
			Attestation: webauthn.AttestationIndirect, AttestationRoots: vendorCA.Pool(),
		}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := webauthn.New(tc.cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	base := func(edit func(*webauthn.Config)) webauthn.Config {
		c := webauthn.Config{RPID: "example.com", Origins: []string{"https://example.com"}}
		edit(&c)
		return c
	}
	bad := map[string]webauthn.Config{
		"no RP ID":                  base(func(c *webauthn.Config) { c.RPID = "" }),
		"RP ID is a public suffix":  base(func(c *webauthn.Config) { c.RPID, c.Origins = "co.uk", []string{"https://co.uk"} }),
		"RP ID is a private suffix": base(func(c *webauthn.Config) { c.RPID, c.Origins = "github.io", []string{"https://github.io"} }),
		"RP ID is a TLD":            base(func(c *webauthn.Config) { c.RPID, c.Origins = "intranet", []string{"https://intranet"} }),
		"RP ID is an IP":            base(func(c *webauthn.Config) { c.RPID, c.Origins = "192.0.2.1", []string{"https://192.0.2.1"} }),
		"RP ID in upper case":       base(func(c *webauthn.Config) { c.RPID = "Example.com" }),
		"RP ID with a scheme":       base(func(c *webauthn.Config) { c.RPID = "https://example.com" }),
		"RP ID with a port":         base(func(c *webauthn.Config) { c.RPID = "example.com:443" }),
		"RP ID with an underscore":  base(func(c *webauthn.Config) { c.RPID = "ex_ample.com" }),
		"RP ID label with a dash":   base(func(c *webauthn.Config) { c.RPID = "-example.com" }),
		"no origins":                base(func(c *webauthn.Config) { c.Origins = nil }),
		"http origin":               base(func(c *webauthn.Config) { c.Origins = []string{"http://example.com"} }),
		"other scheme":              base(func(c *webauthn.Config) { c.Origins = []string{"ftp://example.com"} }),
		"origin on another domain":  base(func(c *webauthn.Config) { c.Origins = []string{"https://evil.example"} }),
		"origin that only ends so":  base(func(c *webauthn.Config) { c.Origins = []string{"https://notexample.com"} }),
		"origin on a parent":        base(func(c *webauthn.Config) { c.RPID, c.Origins = "login.example.com", []string{"https://example.com"} }),
		"origin with a path":        base(func(c *webauthn.Config) { c.Origins = []string{"https://example.com/login"} }),
		"origin with a query":       base(func(c *webauthn.Config) { c.Origins = []string{"https://example.com?a=b"} }),
		"origin with user info":     base(func(c *webauthn.Config) { c.Origins = []string{"https://u@example.com"} }),
		"origin with port 0":        base(func(c *webauthn.Config) { c.Origins = []string{"https://example.com:0"} }),
		"origin without a host":     base(func(c *webauthn.Config) { c.Origins = []string{"example.com"} }),
		"origin in upper case":      base(func(c *webauthn.Config) { c.Origins = []string{"https://EXAMPLE.com"} }),
		"http on a localhost RP ID's other host": base(func(c *webauthn.Config) {
			c.RPID, c.Origins = "localhost", []string{"http://127.0.0.1:8080"}
		}),
		"unknown user verification": base(func(c *webauthn.Config) { c.UserVerification = 7 }),
		"unknown resident key":      base(func(c *webauthn.Config) { c.ResidentKey = -1 }),
		"unknown sign count policy": base(func(c *webauthn.Config) { c.SignCount = 2 }),
		"unknown attestation":       base(func(c *webauthn.Config) { c.Attestation = 3 }),
		"negative timeout":          base(func(c *webauthn.Config) { c.Timeout = -time.Second }),
		// Roots that no statement can reach: browsers strip it when asked
		// for none.
		"roots with attestation none": base(func(c *webauthn.Config) { c.AttestationRoots = vendorCA.Pool() }),
		"an empty pool of roots": base(func(c *webauthn.Config) {
			c.AttestationRoots, c.Attestation = x509.NewCertPool(), webauthn.AttestationDirect
		}),
		"trusted attestation required without roots": base(func(c *webauthn.Config) {
			c.RequireTrustedAttestation, c.Attestation = true, webauthn.AttestationDirect
		}),
		"timeout above 10 minutes": base(func(c *webauthn.Config) { c.Timeout = 11 * time.Minute }),
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := webauthn.New(cfg); !errors.Is(err, mfa.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// TestConfigShapesOptions checks the defaults and options reach the
// browser: display name, timeout, resident key, attestation, and that an
// origin written with a trailing slash still matches what browsers send.
func TestConfigShapesOptions(t *testing.T) {
	e := newEnv(t, options{factor: func(c *webauthn.Config) {
		c.RPDisplayName = ""
		c.Origins = []string{"https://example.com/"}
		c.Timeout = 2 * time.Minute
		c.ResidentKey = webauthn.ResidentKeyRequired
		c.Attestation = webauthn.AttestationDirect
		c.UserVerification = webauthn.UserVerificationRequired
	}})
	_, cc := e.beginRegistration(t, "alice")
	o := cc.Response
	if o.RelyingParty.Name != rpID || o.Timeout != 120000 || o.AuthenticatorSelection.ResidentKey != "required" ||
		o.AuthenticatorSelection.RequireResidentKey == nil || !*o.AuthenticatorSelection.RequireResidentKey ||
		o.Attestation != "direct" || o.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("options = %+v", o)
	}
	a := testkit.NewAuthenticator(origin, testkit.FlagUV)
	fid := e.register(t, "alice", a)
	ch, err := e.v.Challenge(t.Context(), mfa.ChallengeRequest{UserID: "alice", FactorID: fid})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Expires.Sub(e.clk.Now()) != 2*time.Minute {
		t.Fatalf("challenge lives %s, want the 2 minute timeout", ch.Expires.Sub(e.clk.Now()))
	}
}
