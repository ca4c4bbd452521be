package main

// The pages: what each template is given, and how it is rendered.

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds a request body: the largest form holds a few short fields.
const maxBody = 16 << 10

// securityHeaders sets a strict policy on every response and bounds bodies.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// One script of our own (static/webauthn.js, which also fetches
		// WebAuthn options); the QR code is a data: image.
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		// Every form here is small.
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h.ServeHTTP(w, r)
	})
}

// ---- pages ----

// base is what every page shows around its content.
type base struct {
	Title  string
	User   string // the signed-in (or signing-in) username
	Notice string
	Error  string
}

type (
	errorPage   struct{ base }
	landingPage struct{ base }
	formPage    struct {
		base
		Username string
		Passkey  bool // offer passkey sign-in
	}
	setupPage struct {
		base
		AddKey bool // offer a security key or passkey
		AddSMS bool // offer SMS codes
	}
	// codeForm is the pair of forms asking for a TOTP or a backup code,
	// at sign-in and at step-up.
	codeForm struct {
		Post     string // where the forms go
		Action   string // step-up: what to do once verified
		FactorID string // step-up: the factor the action is about
		HasTOTP  bool
		HasCodes bool
		HasKey   bool // a security key or passkey (webauthn.go)
		HasPush  bool // a paired device (push.go); sign-in only
		// EmailID is the user's email factor offered at this sign-in;
		// EmailChallenge the code sent to it, to EmailTo (masked).
		EmailID, EmailChallenge, EmailTo string
		SMSID, SMSChallenge, SMSTo       string // the same for SMS
	}
	codePage struct {
		base
		Form codeForm
	}
	stepUpPage struct {
		base
		What    string // "remove Authenticator app"
		KeyOnly bool   // an AAL3 session: only a security key will do
		Admin   bool   // for the admin area: only a key, used within MaxAge
		MaxAge  time.Duration
		Form    codeForm
	}
	enrollPage struct {
		base
		FactorID string
		QR       template.URL // data:image/png;base64,...
		Secret   string       // grouped by four for typing
		Expires  time.Time
		Retry    bool // a failed confirmation: no QR, the code form again
	}
	codesPage struct {
		base
		Codes []string
	}
	accountPage struct {
		base
		Factors  []factorRow
		HasTOTP  bool
		HasCodes bool
		AddKey   bool // offer a security key or passkey
		AddSMS   bool // offer SMS codes
		AuthTime time.Time
		FreshFor time.Duration
		Fresh    bool
		// The session, and its access token for trying the JSON API.
		ACR, AMR      string
		AccessToken   string
		AccessExpires time.Time
		APIURL        string
	}
	factorRow struct {
		ID, Kind, Name string
		Active         bool
		LastUsed       time.Time
		Remaining      int // backup codes left; -1 for other kinds
	}
)

var pageNames = []string{"error", "landing", "signup", "signin", "setup", "code", "stepup", "enroll", "codes", "account", "pair", "pushwait", "device", "email"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"short": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.UTC().Format("Jan 2, 15:04 UTC")
		},
		"minutes": func(d time.Duration) string {
			return strconv.Itoa(int(d/time.Minute)) + " minutes"
		},
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page, or a plain 500 if the template fails.
func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		a.log.Error("template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages show secrets (a TOTP seed, backup codes) once: keep them out
	// of every cache.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// internal answers an unexpected error: logged here, never shown.
func (a *app) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "path", r.URL.Path, "err", err)
	a.render(w, http.StatusInternalServerError, "error", errorPage{base: base{
		Title: "Something went wrong", Error: "Something went wrong on our side. Try again.",
	}})
}
