package monitor_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/geo"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/recovery"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/store/memstore"
)

// TestHookAlerts: the Verifier's events that matter become typed alerts,
// without store I/O; the others none.
func TestHookAlerts(t *testing.T) {
	n := newNode(t, nil)
	ctx := context.Background()
	cases := []struct {
		ev   mfa.EventType
		kind monitor.AlertKind
		sev  monitor.Severity
	}{
		{mfa.EventRateLimited, monitor.KindRateLimited, monitor.SeverityWarning},
		{mfa.EventLocked, monitor.KindLocked, monitor.SeverityCritical},
		{mfa.EventReplayRefused, monitor.KindReplay, monitor.SeverityWarning},
		{mfa.EventSignCountRegressed, monitor.KindCloneSuspected, monitor.SeverityCritical},
		{mfa.EventEnrollConfirmed, monitor.KindEnrolled, monitor.SeverityInfo},
		{mfa.EventFactorRemoved, monitor.KindMethodChanged, monitor.SeverityWarning},
		{mfa.EventCodesRegenerated, monitor.KindMethodChanged, monitor.SeverityWarning},
		{mfa.EventVerifySucceeded, "", 0},
		{mfa.EventVerifyFailed, "", 0},
		{mfa.EventChallengeIssued, "", 0},
		{mfa.EventBackupCodeUsed, "", 0},
	}
	for _, c := range cases {
		err := n.mon.Hook()(ctx, mfa.Event{Type: c.ev, Time: testkit.T0, UserID: "alice", FactorID: "f1", Kind: mfa.KindTOTP, IP: "::ffff:" + ipBerlin, Reason: "mfa: x"})
		if err != nil {
			t.Fatal(err)
		}
		got := n.alerts.take()
		if c.kind == "" {
			if len(got) != 0 {
				t.Fatalf("%s: %v", c.ev, kindsOf(got))
			}
			continue
		}
		if len(got) != 1 || got[0].Kind != c.kind || got[0].Severity != c.sev || got[0].IP != ipBerlin || got[0].Place.Country != "DE" ||
			got[0].Evidence.Event != string(c.ev) || got[0].Evidence.FactorID != "f1" || got[0].UserID != "alice" {
			t.Fatalf("%s: %+v", c.ev, got)
		}
	}
	if n.sig.calls.Load() != 0 {
		t.Fatalf("%d store calls", n.sig.calls.Load())
	}
	// Through the Verifier: confirming an enrolment, removing a factor.
	u := n.enroll(t, "bob")
	if err := n.v.RemoveFactor(ctx, mfa.ChangeRequest{UserID: u.id, FactorID: u.code, AuthTime: n.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := n.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindMethodChanged || got[0].Evidence.FactorID != u.code {
		t.Fatalf("remove: %+v", got)
	}
	en, err := n.v.BeginEnrollment(ctx, mfa.EnrollRequest{UserID: u.id, Kind: kindCode, AuthTime: n.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.alerts.take(); len(got) != 1 || got[0].Kind != monitor.KindEnrolled || got[0].Evidence.FactorID != en.FactorID {
		t.Fatalf("enrol: %+v", got)
	}
}

// TestRecoveryHook: every recovery event is an alert for review.
func TestRecoveryHook(t *testing.T) {
	n := newNode(t, nil)
	for _, c := range []struct {
		ev  recovery.EventType
		sev monitor.Severity
	}{
		{recovery.EventOpened, monitor.SeverityWarning},
		{recovery.EventApproved, monitor.SeverityWarning},
		{recovery.EventRedeemed, monitor.SeverityWarning},
		{recovery.EventCompleted, monitor.SeverityWarning},
		{recovery.EventRefused, monitor.SeverityWarning},
		{recovery.EventUnlocked, monitor.SeverityWarning},
		{recovery.EventCodesRegenerated, monitor.SeverityWarning},
		{recovery.EventDenied, monitor.SeverityInfo},
		{recovery.EventCancelled, monitor.SeverityInfo},
	} {
		err := n.mon.RecoveryHook()(context.Background(), recovery.Event{Type: c.ev, CaseID: "case1", UserID: "alice", Actor: "op7", IP: "garbage"})
		if err != nil {
			t.Fatal(err)
		}
		got := n.alerts.take()
		if len(got) != 1 || got[0].Kind != monitor.KindRecovery || got[0].Severity != c.sev || got[0].Evidence.Event != string(c.ev) ||
			got[0].Evidence.CaseID != "case1" || got[0].Evidence.Actor != "op7" || got[0].IP != "" {
			t.Fatalf("%s: %+v", c.ev, got)
		}
	}
	if n.sig.calls.Load() != 0 {
		t.Fatalf("%d store calls", n.sig.calls.Load())
	}
}

// TestAlertsCarryNoSecret: every alert of the scenarios, in every
// adapter's form, holds no code, seed or token.
func TestAlertsCarryNoSecret(t *testing.T) {
	var all []monitor.Alert
	rec := func(_ context.Context, a monitor.Alert) error { all = append(all, a); return nil }
	n := newNode(t, nil, func(c *monitor.Config) { c.Alerts = append(c.Alerts, rec) })
	u := n.enroll(t, "alice")
	secrets := []string{u.secret, "424242", "touch"}
	tok := n.signIn(t, u, mfa.KindTOTP, ipParis)
	secrets = append(secrets, tok.RefreshToken, tok.AccessToken, testkit.TOTPCode(t, u.secret, n.clk.Now()))
	n.clk.Add(20 * time.Minute)
	for _, k := range []mfa.Kind{mfa.KindTOTP, kindCode, mfa.KindWebAuthn} {
		secrets = append(secrets, testkit.TOTPCode(t, u.secret, n.clk.Now()))
		n.verify(t, u, k, ipNewYork, true)
	}
	n.signIn(t, u, mfa.KindWebAuthn, ipNewYork)
	if len(all) < 5 {
		t.Fatalf("only %v", kindsOf(all))
	}
	var text bytes.Buffer
	log := monitor.SlogAlerts(slog.New(slog.NewJSONHandler(&text, nil)))
	var sent []sentcode.Message
	notify, err := monitor.NotifyAdmin(sentcode.SenderFunc(func(_ context.Context, m sentcode.Message) error {
		sent = append(sent, m)
		return nil
	}), "admin@example.com", monitor.KindImpossibleTravel, monitor.KindMethodSwitching, monitor.KindNewCountry)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		fmt.Fprintf(&text, "%+v\n", a)
		log(context.Background(), a)
		notify(context.Background(), a)
		b, _ := json.Marshal(a)
		text.Write(b)
	}
	for _, m := range sent {
		fmt.Fprintf(&text, "%+v\n", m)
	}
	for _, s := range secrets {
		if strings.Contains(text.String(), s) {
			t.Fatalf("a secret (%d bytes) is in an alert", len(s))
		}
	}
	if len(sent) < 3 {
		t.Fatalf("%d mails", len(sent))
	}
}

// TestNotifyAdmin: a fixed template; no input in a header or on a line
// of its own.
func TestNotifyAdmin(t *testing.T) {
	var got []sentcode.Message
	sender := sentcode.SenderFunc(func(_ context.Context, m sentcode.Message) error {
		got = append(got, m)
		return nil
	})
	notify, err := monitor.NotifyAdmin(sender, "Admin@Example.COM")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	evil := "mallory\r\nBcc: victim@example.com\r\n\r\nclick here"
	a := monitor.Alert{Kind: monitor.KindMethodChanged, Severity: monitor.SeverityWarning, Time: testkit.T0, UserID: evil,
		IP: ipBerlin, Place: geo.Place{Country: "DE", Network: "AS1\nX-Injected: 1"}, Evidence: monitor.Evidence{Event: "factor.removed", FactorID: "f\n1"}}
	if err := notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d mails", len(got))
	}
	m := got[0]
	if m.To != "Admin@example.com" || m.Code != "" || m.Purpose != monitor.PurposeAlert || m.Kind != "email" ||
		m.Subject != "Security alert: factor removed or codes regenerated" || m.HTML != "" {
		t.Fatalf("message %+v", m)
	}
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(line, "Bcc") || strings.HasPrefix(line, "X-Injected") || strings.HasPrefix(line, "click") || strings.ContainsRune(line, '\r') {
			t.Fatalf("input on a line of its own: %q", m.Text)
		}
	}
	if !strings.Contains(m.Text, `User: "mallory\r\nBcc: victim@example.com\r\n\r\nclick here"`) || !strings.Contains(m.Text, "Time: 2026-03-04T05:06:00Z") {
		t.Fatalf("text %q", m.Text)
	}
	// Default kinds: enrolment, method change, recovery, critical.
	got = nil
	for _, a := range []monitor.Alert{
		{Kind: monitor.KindEnrolled}, {Kind: monitor.KindRecovery}, {Kind: monitor.KindLocked, Severity: monitor.SeverityCritical},
		{Kind: monitor.KindNewCountry, Severity: monitor.SeverityWarning}, {Kind: monitor.KindRateLimited, Severity: monitor.SeverityWarning},
	} {
		notify(ctx, a)
	}
	if len(got) != 3 {
		t.Fatalf("%d mails by default", len(got))
	}
	// Bad configuration.
	for _, to := range []string{"", "not an address", "a@b.example\r\nBcc: c@d.example", "Name <a@b.example>"} {
		if _, err := monitor.NotifyAdmin(sender, to); !errors.Is(err, mfa.ErrConfig) {
			t.Fatalf("%q: %v", to, err)
		}
	}
	if _, err := monitor.NotifyAdmin(nil, "a@b.example"); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("nil sender: %v", err)
	}
	// A sender's error is the hook's.
	errSend := errors.New("smtp down")
	notify, _ = monitor.NotifyAdmin(sentcode.SenderFunc(func(context.Context, sentcode.Message) error { return errSend }), "a@b.example")
	if err := notify(ctx, monitor.Alert{Kind: monitor.KindEnrolled}); !errors.Is(err, errSend) {
		t.Fatalf("send error: %v", err)
	}
}

// TestWebhook: JSON POST, HMAC signature, status and timeout errors, no
// redirects followed.
func TestWebhook(t *testing.T) {
	key := bytes.Repeat([]byte{5}, 32)
	var mu sync.Mutex
	var bodies [][]byte
	var headers []http.Header
	status := http.StatusNoContent
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, headers = append(bodies, b), append(headers, r.Header.Clone())
		st := status
		mu.Unlock()
		if r.URL.Path == "/slow" {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(st)
	}))
	defer srv.Close()
	defer close(block)
	hook, err := monitor.Webhook(srv.URL+"/alerts", srv.Client(), monitor.WebhookSigningKey(key),
		monitor.WebhookClock(func() time.Time { return testkit.T0 }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := monitor.Alert{Kind: monitor.KindImpossibleTravel, Severity: monitor.SeverityCritical, Time: testkit.T0, UserID: "alice", IP: ipNewYork,
		Place: newYork, Evidence: monitor.Evidence{PrevIP: ipParis, PrevPlace: paris, DistanceKm: 5817.4, SpeedKmh: 11634.8, Denied: true}}
	if err := hook(ctx, a); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Kind     string            `json:"kind"`
		Severity string            `json:"severity"`
		Time     time.Time         `json:"time"`
		UserID   string            `json:"user_id"`
		IP       string            `json:"ip"`
		Place    map[string]any    `json:"place"`
		Evidence map[string]string `json:"evidence"`
	}
	if err := json.Unmarshal(bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "impossible_travel" || got.Severity != "critical" || !got.Time.Equal(testkit.T0) || got.UserID != "alice" || got.IP != ipNewYork ||
		got.Place["country"] != "US" || got.Evidence["prev_ip"] != ipParis || got.Evidence["speed_kmh"] != "11635" || got.Evidence["denied"] != "true" {
		t.Fatalf("body %s", bodies[0])
	}
	h := headers[0]
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("Mfa-Timestamp") + "."))
	mac.Write(bodies[0])
	if h.Get("Mfa-Timestamp") != strconv.FormatInt(testkit.T0.Unix(), 10) {
		t.Fatalf("timestamp %q, want the injected clock's", h.Get("Mfa-Timestamp"))
	}
	if h.Get("Content-Type") != "application/json" || h.Get("Mfa-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("headers %v", h)
	}
	// Unsigned without a key.
	plain, _ := monitor.Webhook(srv.URL+"/alerts", nil)
	if err := plain(ctx, a); err != nil || headers[1].Get("Mfa-Signature") != "" {
		t.Fatalf("unsigned: %v, %v", err, headers[1])
	}
	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	if err := hook(ctx, a); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500: %v", err)
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	redirect, _ := monitor.Webhook(srv.URL+"/redirect", nil)
	if err := redirect(ctx, a); err == nil || !strings.Contains(err.Error(), "307") {
		t.Fatalf("redirect: %v", err)
	}
	slow, _ := monitor.Webhook(srv.URL+"/slow", nil, monitor.WebhookTimeout(50*time.Millisecond))
	if err := slow(ctx, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	for _, c := range []struct {
		url  string
		opts []monitor.WebhookOption
	}{
		{"", nil}, {"ftp://example.com/x", nil}, {"https://", nil}, {"https://user:pw@example.com/", nil}, {"::", nil},
		{"https://example.com/", []monitor.WebhookOption{monitor.WebhookSigningKey(make([]byte, 16))}},
		{"https://example.com/", []monitor.WebhookOption{monitor.WebhookTimeout(-time.Second)}},
		{"https://example.com/", []monitor.WebhookOption{monitor.WebhookClock(nil)}},
	} {
		if _, err := monitor.Webhook(c.url, nil, c.opts...); !errors.Is(err, mfa.ErrConfig) {
			t.Fatalf("%q: %v", c.url, err)
		}
	}
}

// TestSlogAlerts: level by severity; identifiers and evidence as
// attributes.
func TestSlogAlerts(t *testing.T) {
	var buf bytes.Buffer
	log := monitor.SlogAlerts(slog.New(slog.NewTextHandler(&buf, nil)))
	for _, a := range []monitor.Alert{
		{Kind: monitor.KindEnrolled, Severity: monitor.SeverityInfo, UserID: "alice", Evidence: monitor.Evidence{FactorID: "f1"}},
		{Kind: monitor.KindNewCountry, Severity: monitor.SeverityWarning, UserID: "alice", IP: ipBerlin, Place: berlin},
		{Kind: monitor.KindSpraying, Severity: monitor.SeverityCritical, IP: ipAttacker, Evidence: monitor.Evidence{Users: 5, Window: 10 * time.Minute}},
	} {
		if err := log(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=INFO msg="mfa: alert enrolled" alert=enrolled severity=info user_id=alice evidence.factor_id=f1`,
		`level=WARN msg="mfa: alert new_country" alert=new_country severity=warning user_id=alice ip=203.0.113.5 country=DE network=AS64503`,
		`level=ERROR msg="mfa: alert spraying" alert=spraying severity=critical user_id="" ip=198.51.100.66 evidence.users=5 evidence.window=10m0s`,
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasSuffix(lines[i], w) {
			t.Fatalf("line %d: %q\nwant suffix %q", i, lines, w)
		}
	}
}

// TestNewValidatesConfig: a zero Config but Store is valid; bad fields
// wrap mfa.ErrConfig.
func TestNewValidatesConfig(t *testing.T) {
	st := memstore.New()
	if _, err := monitor.New(monitor.Config{Store: st}); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	for name, c := range map[string]monitor.Config{
		"no store":               {},
		"spray users 1":          {Store: st, SprayUsers: 1},
		"switch kinds 1":         {Store: st, SwitchKinds: 1},
		"negative window":        {Store: st, SprayWindow: -time.Second},
		"negative look-back":     {Store: st, Lookback: -time.Second},
		"negative speed":         {Store: st, MaxSpeed: -1},
		"keep above the maximum": {Store: st, KeepAddress: 257},
		"keep below the count":   {Store: st, SprayUsers: 10, KeepAddress: 9},
		"keep below the kinds":   {Store: st, SwitchKinds: 4, KeepAttempts: 3},
		"negative keep":          {Store: st, KeepSignIns: -1},
		"nil alert hook":         {Store: st, Alerts: []monitor.AlertHook{nil}},
	} {
		if _, err := monitor.New(c); !errors.Is(err, mfa.ErrConfig) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
