package main

// Push approval with number matching (package push). A second browser or
// profile opened at /device is the user's device: it pairs from the link
// or QR code the account page offers, keeps a non-extractable WebCrypto
// key in IndexedDB and polls for requests (static/push.js). Every step is
// a request against the store, so any instance serves any of them:
//
//   - Pair (account page): POST /push/pair shows the link and QR code; the
//     device POSTs its registration to /push/device/pair.
//   - Sign in (code page): POST /signin/push sends a push and shows the
//     number; the page polls POST /signin/push/status, which completes the
//     sign-in once the device's answer arrived.
//   - The device: POST /push/device/poll (a signed poll) and
//     POST /push/device/answer (a signed answer).

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/push/webpush"
	"github.com/mfakit/mfa/session"
)

// newPush configures the push factor over the app's store, delivering
// by Web Push to devices that subscribed (see vapid).
func newPush(st push.Store, hashKey []byte, now func() time.Time, log *slog.Logger) (*push.Factor, string, error) {
	pub, priv, err := vapid(hashKey)
	if err != nil {
		return nil, "", err
	}
	wp, err := webpush.New(webpush.Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subscriber: "mailto:mfa-example@localhost"})
	if err != nil {
		return nil, "", err
	}
	pf, err := push.New(push.Config{Store: st, HashKey: hashKey, App: "mfa example", Now: now, Notifier: bestEffort{wp, log}})
	return pf, pub, err
}

// vapid derives the app's Web Push (VAPID) key pair from its hash key, so
// it survives restarts without another entry in the keys file: a device's
// subscription is bound to the public key. A real deployment keeps a
// VAPID key of its own in its secret manager.
func vapid(hashKey []byte) (pub, priv string, err error) {
	seed, err := hkdf.Key(sha256.New, hashKey, nil, "mfa example VAPID key", 32)
	if err != nil {
		return "", "", err
	}
	k, err := ecdh.P256().NewPrivateKey(seed)
	if err != nil {
		return "", "", err
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(seed), nil
}

// bestEffort delivers by Web Push but never fails a push for it: the
// device page polls as well, so a failed delivery costs only the
// notification. (Package push itself fails a push whose Notifier fails.)
type bestEffort struct {
	n   push.Notifier
	log *slog.Logger
}

func (b bestEffort) Notify(ctx context.Context, d push.Device, r push.Request) error {
	if err := b.n.Notify(ctx, d, r); err != nil {
		b.log.Warn("web push delivery failed; the device still polls", "device", d.FactorID, "err", err)
	}
	return nil
}

func (a *app) pushRoutes(mux *http.ServeMux) {
	mux.Handle("POST /push/pair", a.enrolment(a.pushPair))
	mux.HandleFunc("GET /device", a.devicePage)
	mux.HandleFunc("GET /sw.js", a.serviceWorker)
	mux.HandleFunc("POST /push/device/pair", a.devicePair)
	mux.HandleFunc("POST /push/device/poll", a.devicePoll)
	mux.HandleFunc("POST /push/device/answer", a.deviceAnswer)
	mux.HandleFunc("POST /signin/push", a.pushSend)
	mux.HandleFunc("POST /signin/push/status", a.pushStatus)
}

type (
	pairPage struct {
		base
		Link    string
		QR      template.URL
		Expires time.Time
	}
	devicePage struct {
		base
		VAPIDKey string // the applicationServerKey to subscribe with
	}
	pushWaitPage struct {
		base
		Number      int
		ChallengeID string
		RequestID   string
		Expires     int64 // Unix seconds, for the page's poll
	}
)

func (a *app) pushPair(w http.ResponseWriter, r *http.Request, u user, c *session.AccessClaims) {
	a.beginPair(w, r, u, authTimeOf(c))
}

// beginPair begins pairing and shows the single-use link as a QR code.
// Adding a device to a user who has a factor needs a recent second
// factor, as any factor does.
func (a *app) beginPair(w http.ResponseWriter, r *http.Request, u user, authTime time.Time) {
	en, err := a.verifier.BeginEnrollment(r.Context(), mfa.EnrollRequest{UserID: u.ID, Kind: push.Kind, AuthTime: authTime})
	if errors.Is(err, mfa.ErrStepUpRequired) {
		a.askStepUp(w, r, u, "pair", "")
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	p, err := mfa.ShowAs[*push.Pairing](en.Show)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	link := p.Link(a.url + "/device")
	code, err := qr.Encode(link, qr.M, qr.Auto)
	if err == nil {
		code, err = barcode.Scale(code, 240, 240)
	}
	var buf bytes.Buffer
	if err == nil {
		err = png.Encode(&buf, code)
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "pair", pairPage{
		base: base{Title: "Pair a device", User: u.Name}, Link: link, Expires: p.Expires,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())),
	})
}

func (a *app) devicePage(w http.ResponseWriter, _ *http.Request) {
	a.render(w, http.StatusOK, "device", devicePage{base: base{Title: "This device"}, VAPIDKey: a.vapidKey})
}

// serviceWorker serves static/sw.js from the root, so its scope covers
// /device: it shows a notification when a Web Push arrives.
func (a *app) serviceWorker(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, a.static, "sw.js")
}

// deviceJSON answers a device or the sign-in page's script.
func deviceJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type deviceReply struct {
	Error    string `json:"error,omitempty"`
	DeviceID string `json:"device_id,omitempty"`
	Name     string `json:"name,omitempty"`
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, push.MaxBodyLen+1))
}

// devicePair registers a device with the pairing code it was given.
func (a *app) devicePair(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		deviceJSON(w, http.StatusBadRequest, deviceReply{Error: "unreadable request"})
		return
	}
	reg, code, err := push.ParseRegistration(body)
	if err != nil {
		deviceJSON(w, http.StatusBadRequest, deviceReply{Error: "not a pairing request"})
		return
	}
	name := reg.Name
	if name == "" {
		name = "Browser"
	}
	res, err := a.verifier.ConfirmEnrollment(r.Context(), mfa.ConfirmRequest{
		UserID: code.UserID, ChallengeID: code.ChallengeID, Response: string(body), Name: "Device: " + name, IP: a.clientIP(r),
	})
	if err != nil {
		msg, status, known := a.message(err, push.Kind)
		if !known {
			a.log.Error("pairing", "err", err)
			msg, status = "Pairing failed.", http.StatusInternalServerError
		} else if errors.Is(err, mfa.ErrExpired) || errors.Is(err, mfa.ErrWrongCode) {
			msg = "This pairing link expired or was used already. Ask for a new one on your account page."
		}
		deviceJSON(w, status, deviceReply{Error: msg})
		return
	}
	// The device has no session of the user's; the account page that
	// asked for the link stays signed in.
	deviceJSON(w, http.StatusOK, deviceReply{DeviceID: res.FactorID, Name: name})
}

// devicePoll hands a device the request waiting for it, if any.
func (a *app) devicePoll(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		deviceJSON(w, http.StatusBadRequest, deviceReply{Error: "unreadable request"})
		return
	}
	req, err := a.push.Poll(r.Context(), body)
	switch {
	case errors.Is(err, push.ErrNoRequest):
		w.WriteHeader(http.StatusNoContent)
	case err != nil:
		deviceJSON(w, http.StatusForbidden, deviceReply{Error: "poll refused"})
	default:
		deviceJSON(w, http.StatusOK, req)
	}
}

// deviceAnswer records a device's signed answer.
func (a *app) deviceAnswer(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		deviceJSON(w, http.StatusBadRequest, deviceReply{Error: "unreadable request"})
		return
	}
	switch err := a.push.Answer(r.Context(), body); {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, mfa.ErrExpired):
		deviceJSON(w, http.StatusGone, deviceReply{Error: "This request expired or was answered already."})
	case errors.Is(err, mfa.ErrMalformedResponse), errors.Is(err, mfa.ErrWrongCode), errors.Is(err, mfa.ErrNotFound), errors.Is(err, mfa.ErrChallengeMismatch):
		deviceJSON(w, http.StatusForbidden, deviceReply{Error: "This answer was refused."})
	default:
		a.log.Error("push answer", "err", err)
		deviceJSON(w, http.StatusInternalServerError, deviceReply{Error: "Something went wrong."})
	}
}

// pushSend sends a push for the sign-in in progress and shows its number.
func (a *app) pushSend(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok || !pc.OffersKind(push.Kind) {
		redirect(w, r, "/")
		return
	}
	ctx := push.WithSignIn(r.Context(), push.SignIn{IP: a.clientIP(r), Browser: browserName(r.UserAgent())})
	ic, err := a.verifier.Challenge(ctx, mfa.ChallengeRequest{UserID: u.ID, Kind: push.Kind, Binding: pc.Binding(), IP: a.clientIP(r)})
	if err != nil {
		msg := "Could not send a push. Try another way."
		switch {
		case errors.Is(err, push.ErrPaused):
			msg = "Pushes are paused after refused requests. Use another way to sign in, or try again in an hour."
		case errors.Is(err, push.ErrTooMany), errors.Is(err, mfa.ErrRateLimited):
			msg = "Too many pushes. Use another way to sign in, or try again later."
		case !errors.Is(err, mfa.ErrNotFound):
			a.log.Error("push", "err", err)
		}
		a.renderCode(w, r, http.StatusTooManyRequests, pc, u, msg)
		return
	}
	p, err := mfa.ShowAs[*push.Prompt](ic.Show)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	a.render(w, http.StatusOK, "pushwait", pushWaitPage{
		base:   base{Title: "Approve on your device", User: u.Name},
		Number: p.Number, ChallengeID: ic.ID, RequestID: p.RequestID, Expires: p.Expires.Unix(),
	})
}

type pushStatusReply struct {
	Pending  bool   `json:"pending,omitempty"`
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

// pushStatus is the sign-in page's poll: the device's answer, once it
// arrived, is verified and starts the session.
func (a *app) pushStatus(w http.ResponseWriter, r *http.Request) {
	pc, u, ok := a.pendingUser(r)
	if !ok {
		deviceJSON(w, http.StatusOK, pushStatusReply{Redirect: "/"})
		return
	}
	var in struct {
		ChallengeID string `json:"challenge_id"`
		RequestID   string `json:"request_id"`
		Expires     int64  `json:"expires"`
	}
	body, err := readBody(r)
	if err != nil || json.Unmarshal(body, &in) != nil {
		deviceJSON(w, http.StatusBadRequest, pushStatusReply{Error: "That request was not valid."})
		return
	}
	ans, err := a.push.Answered(r.Context(), u.ID, in.RequestID)
	if errors.Is(err, push.ErrPending) {
		// The page's expiry only decides when it stops asking.
		if a.now().Unix() >= in.Expires {
			deviceJSON(w, http.StatusOK, pushStatusReply{Error: "The push expired without an answer."})
			return
		}
		deviceJSON(w, http.StatusOK, pushStatusReply{Pending: true})
		return
	}
	if err != nil {
		deviceJSON(w, http.StatusBadRequest, pushStatusReply{Error: "That request was not valid."})
		return
	}
	res, err := a.verifier.Verify(r.Context(), mfa.VerifyRequest{
		UserID: u.ID, FactorID: ans.FactorID, Kind: push.Kind, Response: ans.Response,
		ChallengeID: in.ChallengeID, Binding: pc.Binding(), IP: a.clientIP(r),
	})
	if err != nil {
		deviceJSON(w, http.StatusOK, pushStatusReply{Error: pushMessage(err)})
		return
	}
	t, err := a.sessions.Start(r.Context(), u.ID, res)
	if err != nil {
		a.log.Error("session", "err", err)
		deviceJSON(w, http.StatusInternalServerError, pushStatusReply{Error: "Something went wrong."})
		return
	}
	a.sessions.SetCookies(w, t)
	a.sessions.ClearPendingCookie(w)
	deviceJSON(w, http.StatusOK, pushStatusReply{Redirect: "/"})
}

// pushMessage says why a push did not sign in.
func pushMessage(err error) string {
	switch {
	case errors.Is(err, push.ErrDenied):
		return "The sign-in was denied on your device."
	case errors.Is(err, push.ErrWrongNumber):
		return "The number chosen on your device did not match: the sign-in was refused."
	case errors.Is(err, mfa.ErrExpired):
		return "The push expired without an answer."
	case errors.Is(err, mfa.ErrRateLimited), errors.Is(err, mfa.ErrLocked):
		return "Too many failed attempts. Try again later."
	}
	return "The push could not be verified."
}

// browserName is a short description of a User-Agent, for the device to
// show; never trusted for anything.
func browserName(ua string) string {
	for _, b := range []string{"Edg/", "Firefox/", "Chrome/", "Safari/"} {
		if i := strings.Index(ua, b); i >= 0 {
			name := strings.TrimSuffix(b, "/")
			if v := ua[i+len(b):]; len(v) > 0 {
				if j := strings.IndexAny(v, ". "); j > 0 {
					if _, err := strconv.Atoi(v[:j]); err == nil {
						name += " " + v[:j]
					}
				}
			}
			return name
		}
	}
	return "a browser"
}
