package monitor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
)

// WebhookOption configures [Webhook].
type WebhookOption func(*webhook)

type webhook struct {
	timeout time.Duration
	key     []byte
	now     func() time.Time
}

// WebhookClock sets the clock the signature's timestamp is read from.
// Default time.Now.
func WebhookClock(now func() time.Time) WebhookOption {
	return func(w *webhook) { w.now = now }
}

// WebhookTimeout bounds each POST. Default 5 seconds.
func WebhookTimeout(d time.Duration) WebhookOption {
	return func(w *webhook) { w.timeout = d }
}

// WebhookSigningKey signs each POST with HMAC-SHA256 under key (at least
// 32 bytes): the Mfa-Timestamp header holds the Unix time in seconds and
// Mfa-Signature "sha256=" and the hex MAC of the timestamp, a '.' and
// the body. A receiver recomputes it, compares in constant time and
// refuses old timestamps.
func WebhookSigningKey(key []byte) WebhookOption {
	return func(w *webhook) { w.key = bytes.Clone(key) }
}

// Webhook returns an AlertHook that POSTs each alert as JSON to target
// (an http or https URL; use https) with client (nil: a client that
// follows no redirect). A status other than 2xx, a timeout or a transport
// error is the hook's error. A bad URL, timeout or key wraps
// mfa.ErrConfig.
func Webhook(target string, client *http.Client, opts ...WebhookOption) (AlertHook, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: monitor: Webhook needs an http or https URL without credentials", mfa.ErrConfig)
	}
	w := webhook{timeout: 5 * time.Second, now: time.Now}
	for _, o := range opts {
		o(&w)
	}
	if w.now == nil {
		return nil, fmt.Errorf("%w: monitor: WebhookClock needs a clock", mfa.ErrConfig)
	}
	if w.timeout <= 0 {
		return nil, fmt.Errorf("%w: monitor: WebhookTimeout must be positive", mfa.ErrConfig)
	}
	if w.key != nil && len(w.key) < 32 {
		return nil, fmt.Errorf("%w: monitor: WebhookSigningKey needs at least 32 bytes", mfa.ErrConfig)
	}
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	target = u.String()
	return func(ctx context.Context, a Alert) error {
		body, err := json.Marshal(wireOf(a))
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, w.timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if w.key != nil {
			ts := strconv.FormatInt(w.now().Unix(), 10)
			mac := hmac.New(sha256.New, w.key)
			mac.Write([]byte(ts))
			mac.Write([]byte{'.'})
			mac.Write(body)
			req.Header.Set("Mfa-Timestamp", ts)
			req.Header.Set("Mfa-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("monitor: webhook: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("monitor: webhook answered %d", resp.StatusCode)
		}
		return nil
	}, nil
}

// wireAlert is an Alert as the webhook sends it.
type wireAlert struct {
	Kind     AlertKind         `json:"kind"`
	Severity string            `json:"severity"`
	Time     time.Time         `json:"time"`
	UserID   string            `json:"user_id"`
	IP       string            `json:"ip,omitempty"`
	Place    *wirePlace        `json:"place,omitempty"`
	Evidence map[string]string `json:"evidence,omitempty"`
}

type wirePlace struct {
	Country string   `json:"country,omitempty"`
	Network string   `json:"network,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	Radius  float64  `json:"radius_km,omitempty"`
}

func wireOf(a Alert) wireAlert {
	w := wireAlert{Kind: a.Kind, Severity: a.Severity.String(), Time: a.Time.UTC(), UserID: a.UserID, IP: a.IP}
	if p := placeOf(a.Place); p != nil {
		w.Place = p
	}
	if fs := evidenceFields(a.Evidence); len(fs) > 0 {
		w.Evidence = make(map[string]string, len(fs))
		for _, f := range fs {
			w.Evidence[f.name] = f.value
		}
	}
	return w
}

func placeOf(p geo.Place) *wirePlace {
	if !p.Known() {
		return nil
	}
	w := &wirePlace{Country: p.Country, Network: p.Network}
	if p.HasPoint && !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon) && !math.IsInf(p.Lat, 0) && !math.IsInf(p.Lon, 0) {
		lat, lon := p.Lat, p.Lon
		w.Lat, w.Lon = &lat, &lon
		if p.Radius > 0 && !math.IsInf(p.Radius, 0) {
			w.Radius = p.Radius
		}
	}
	return w
}
