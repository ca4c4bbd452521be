package webpush

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	wp "github.com/SherClockHolmes/webpush-go"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/push"
)

// ErrGone: the push service says the subscription no longer exists (404
// or 410). The device must subscribe and pair again, or poll.
var ErrGone = errors.New("mfa: web push subscription gone")

// ErrSubscription: a device's subscription is not one this Notifier may
// send to (not JSON, keys missing, not https, a host not allowed).
var ErrSubscription = fmt.Errorf("%w: web push subscription", factor.ErrInvalidInput)

// DefaultHosts are the push services of the major browsers, the default of
// Config.Hosts: a host equal to one of them or ending in "." and one.
var DefaultHosts = []string{
	"fcm.googleapis.com",                // Chrome, Edge, Opera
	"updates.push.services.mozilla.com", // Firefox
	"notify.windows.com",                // Edge (WNS)
	"push.apple.com",                    // Safari
}

// Config configures a [Notifier]. VAPIDPublicKey, VAPIDPrivateKey and
// Subscriber are required; the other fields are safe when zero.
type Config struct {
	// VAPIDPublicKey and VAPIDPrivateKey are the application server's P-256
	// key pair (RFC 8292), unpadded base64url, as [GenerateKeys] returns
	// them. The public key is the applicationServerKey the device
	// subscribes with. Keep the private key with your other secrets.
	VAPIDPublicKey, VAPIDPrivateKey string
	// Subscriber is the contact the push service may reach you at, a
	// "mailto:" or "https:" URL. Required.
	Subscriber string
	// Hosts are the push service hosts an endpoint may name: a host
	// matches an entry it equals or ends in "." + entry. Endpoints come
	// from devices, so this keeps the server from being made to POST
	// anywhere else. Default DefaultHosts.
	Hosts []string
	// Client sends the requests. Default an http.Client with a 10 second
	// timeout.
	Client *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Notifier delivers push requests by Web Push: RFC 8030 delivery, RFC 8291
// message encryption (aes128gcm) and RFC 8292 VAPID, through
// github.com/SherClockHolmes/webpush-go. It is a [push.Notifier].
type Notifier struct {
	cfg Config
}

// New validates cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.VAPIDPublicKey == "" || cfg.VAPIDPrivateKey == "" {
		return nil, fmt.Errorf("%w: webpush: VAPID keys are required", factor.ErrConfig)
	}
	if !strings.HasPrefix(cfg.Subscriber, "mailto:") && !strings.HasPrefix(cfg.Subscriber, "https:") {
		return nil, fmt.Errorf("%w: webpush: Subscriber must be a mailto: or https: URL", factor.ErrConfig)
	}
	if cfg.Hosts == nil {
		cfg.Hosts = DefaultHosts
	}
	cfg.Hosts = slices.Clone(cfg.Hosts)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg}, nil
}

// GenerateKeys returns a new VAPID key pair, unpadded base64url.
func GenerateKeys() (publicKey, privateKey string, err error) {
	privateKey, publicKey, err = wp.GenerateVAPIDKeys()
	return publicKey, privateKey, err
}

// topic collapses pending messages at the push service: a newer push
// replaces one not yet delivered, as a newer push cancels the older.
const topic = "mfa-push"

// Notify encrypts r (as JSON) for the device's subscription and POSTs it
// to the subscription's endpoint, to be kept no longer than the request
// lives, with urgency high.
func (n *Notifier) Notify(ctx context.Context, d push.Device, r push.Request) error {
	sub, err := n.subscription(d.Subscription)
	if err != nil {
		return err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ttl := int(r.Expires.Sub(n.cfg.Now()) / time.Second)
	if ttl <= 0 {
		return fmt.Errorf("%w: webpush: request already expired", factor.ErrExpired)
	}
	resp, err := wp.SendNotificationWithContext(ctx, body, sub, &wp.Options{
		// The library adds "mailto:" to anything not https:.
		HTTPClient: n.cfg.Client, Subscriber: strings.TrimPrefix(n.cfg.Subscriber, "mailto:"), Topic: topic, TTL: ttl,
		Urgency: wp.UrgencyHigh, VAPIDPublicKey: n.cfg.VAPIDPublicKey, VAPIDPrivateKey: n.cfg.VAPIDPrivateKey,
	})
	if err != nil {
		return fmt.Errorf("webpush: send: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return ErrGone
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("webpush: push service answered %d", resp.StatusCode)
	}
	return nil
}

// subscription reads and checks a device's subscription.
func (n *Notifier) subscription(raw json.RawMessage) (*wp.Subscription, error) {
	var s wp.Subscription
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: not JSON", ErrSubscription)
	}
	if s.Keys.Auth == "" || s.Keys.P256dh == "" {
		return nil, fmt.Errorf("%w: keys missing", ErrSubscription)
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Scheme != "https" || u.User != nil || !n.allowed(u.Hostname()) {
		return nil, fmt.Errorf("%w: endpoint is not an https URL of an allowed push service", ErrSubscription)
	}
	return &s, nil
}

func (n *Notifier) allowed(host string) bool {
	host = strings.ToLower(host)
	for _, h := range n.cfg.Hosts {
		h = strings.ToLower(h)
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}
