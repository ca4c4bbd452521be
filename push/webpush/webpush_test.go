package webpush_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/push/webpush"
)

var b64 = base64.RawURLEncoding

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decrypt is the user agent's side of RFC 8291 (with RFC 8188 aes128gcm),
// written from the RFCs, independently of the library under test.
func decrypt(uaPriv *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("bad header")
	}
	asPub, ct := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, errors.New("more than one record")
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := uaPriv.ECDH(as)
	if err != nil {
		return nil, err
	}
	keyInfo := append(append([]byte("WebPush: info\x00"), uaPriv.PublicKey().Bytes()...), asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	pt, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	// The last record ends in a 0x02 delimiter, then zero padding.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 || pt[i] != 2 {
		return nil, errors.New("bad padding delimiter")
	}
	return pt[:i], nil
}

// TestRFC8291Vector checks the decryption above against RFC 8291 section
// 5, so what it accepts below is RFC 8291 exactly.
func TestRFC8291Vector(t *testing.T) {
	ua, err := ecdh.P256().NewPrivateKey(mustB64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b64.EncodeToString(ua.PublicKey().Bytes()); got != "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4" {
		t.Fatalf("user agent public key %s", got)
	}
	body := mustB64(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	pt, err := decrypt(ua, mustB64(t, "BTBZMqHH6r4Tts7J_aSIgg"), body)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "When I grow up, I want to be a watermelon" {
		t.Fatalf("plaintext %q", pt)
	}
	// One changed ciphertext byte must not decrypt.
	body[len(body)-1] ^= 1
	if _, err := decrypt(ua, mustB64(t, "BTBZMqHH6r4Tts7J_aSIgg"), body); err == nil {
		t.Fatal("a changed message decrypted")
	}
}

// service is a push service for tests: it keeps each message it is sent
// with its headers, and answers status.
type service struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	status int
}

func newService(t *testing.T) *service {
	s := &service{status: http.StatusCreated}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got, s.bodies = append(s.got, r), append(s.bodies, b)
		st := s.status
		s.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// browser is a subscribed user agent: its key pair and auth secret.
type browser struct {
	priv *ecdh.PrivateKey
	auth []byte
}

func newBrowser(t *testing.T) *browser {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return &browser{priv: priv, auth: auth}
}

func (b *browser) subscription(endpoint string) json.RawMessage {
	s, _ := json.Marshal(map[string]any{"endpoint": endpoint, "keys": map[string]string{
		"p256dh": b64.EncodeToString(b.priv.PublicKey().Bytes()), "auth": b64.EncodeToString(b.auth)}})
	return s
}

func newNotifier(t *testing.T, s *service, now time.Time) (*webpush.Notifier, string) {
	t.Helper()
	pub, priv, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.srv.URL)
	n, err := webpush.New(webpush.Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subscriber: "mailto:ops@example.com",
		Hosts: []string{u.Hostname()}, Client: s.srv.Client(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return n, pub
}

// TestDelivery acts as the push service: the message arrives encrypted
// for the subscription (it decrypts with the browser's keys to the
// request), with a VAPID JWT signed by the server's key for the service's
// origin, a TTL no longer than the request lives, urgency high and a
// topic.
func TestDelivery(t *testing.T) {
	s := newService(t)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	n, vapidPub := newNotifier(t, s, now)
	b := newBrowser(t)
	req := push.Request{RequestID: "r1", App: "Example", Time: now, Expires: now.Add(2 * time.Minute), IP: "192.0.2.1", Choices: []int{12, 34, 56}}
	err := n.Notify(context.Background(), push.Device{UserID: "u", FactorID: "f", Subscription: b.subscription(s.srv.URL + "/sub/abc")}, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 1 {
		t.Fatalf("%d messages", len(s.got))
	}
	r := s.got[0]
	if r.Method != http.MethodPost || r.URL.Path != "/sub/abc" || r.Header.Get("Content-Encoding") != "aes128gcm" ||
		r.Header.Get("TTL") != "120" || r.Header.Get("Urgency") != "high" || r.Header.Get("Topic") == "" {
		t.Fatalf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	pt, err := decrypt(b.priv, b.auth, s.bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	var got push.Request
	if err := json.Unmarshal(pt, &got); err != nil || got.RequestID != "r1" || len(got.Choices) != 3 || got.IP != "192.0.2.1" {
		t.Fatalf("decrypted %s (%v)", pt, err)
	}
	if strings.Contains(string(s.bodies[0]), "192.0.2.1") {
		t.Fatal("the push service can read the request")
	}
	checkVAPID(t, r.Header.Get("Authorization"), vapidPub, s.srv.URL)
}

// checkVAPID checks an RFC 8292 Authorization header: "vapid t=JWT, k=key",
// the JWT ES256 under k, for the push service's origin, with a contact.
func checkVAPID(t *testing.T, h, vapidPub, origin string) {
	t.Helper()
	tok, k, ok := strings.Cut(strings.TrimPrefix(h, "vapid t="), ", k=")
	if !ok || !strings.HasPrefix(h, "vapid ") || k != vapidPub {
		t.Fatalf("Authorization %q", h)
	}
	point := mustB64(t, k)
	if len(point) != 65 || point[0] != 4 {
		t.Fatalf("k is not an uncompressed P-256 point")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(origin), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("VAPID JWT: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if time.Until(exp.Time) > 24*time.Hour || claims["sub"] != "mailto:ops@example.com" {
		t.Fatalf("claims %v", claims)
	}
}

func TestRefused(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	n, _ := newNotifier(t, s, now)
	b := newBrowser(t)
	req := push.Request{RequestID: "r", Time: now, Expires: now.Add(time.Minute)}
	bad := map[string]json.RawMessage{
		"not JSON":       json.RawMessage(`"x"`),
		"no keys":        json.RawMessage(`{"endpoint":"` + s.srv.URL + `"}`),
		"http":           b.subscription(strings.Replace(s.srv.URL, "https:", "http:", 1)),
		"other host":     b.subscription("https://169.254.169.254/latest"),
		"user info":      b.subscription(strings.Replace(s.srv.URL, "https://", "https://a:b@", 1)),
		"host as suffix": b.subscription("https://evil" + strings.TrimPrefix(s.srv.URL, "https://")),
	}
	for name, sub := range bad {
		if err := n.Notify(ctx, push.Device{Subscription: sub}, req); !errors.Is(err, webpush.ErrSubscription) {
			t.Errorf("%s: %v, want ErrSubscription", name, err)
		}
	}
	if len(s.got) != 0 {
		t.Fatalf("%d requests sent for bad subscriptions", len(s.got))
	}
	for _, tc := range []struct {
		status int
		gone   bool
	}{{http.StatusGone, true}, {http.StatusNotFound, true}, {http.StatusTooManyRequests, false}, {http.StatusInternalServerError, false}} {
		s.status = tc.status
		err := n.Notify(ctx, push.Device{Subscription: b.subscription(s.srv.URL)}, req)
		if err == nil || errors.Is(err, webpush.ErrGone) != tc.gone {
			t.Errorf("status %d: %v", tc.status, err)
		}
	}
	if err := n.Notify(ctx, push.Device{Subscription: b.subscription(s.srv.URL)}, push.Request{Expires: now}); !errors.Is(err, mfa.ErrExpired) {
		t.Errorf("expired request: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]webpush.Config{
		"no keys":       {Subscriber: "mailto:a@b"},
		"no subscriber": {VAPIDPublicKey: "a", VAPIDPrivateKey: "b"},
		"bad contact":   {VAPIDPublicKey: "a", VAPIDPrivateKey: "b", Subscriber: "a@b"},
	} {
		if _, err := webpush.New(cfg); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
