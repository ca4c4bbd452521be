package main

// The admin area, /admin/: recent alerts from every instance (the
// monitor's alert log) and a link to the recovery review (/admin).
//
// Its route policy (package policy), decided on every request by the
// session middleware:
//
//   - the role "admin", which this app gives the -admin user alone;
//   - a security key or passkey (policy.PhishingResistant) used at the
//     latest verification, within the last 5 minutes: an older one, or a
//     code, is sent to the step-up page, which takes only a key;
//   - with -geoip, a client address in one of the -admin-countries; an
//     address the database cannot place (private, unlisted) is refused.
//     With -geoip and no -admin-countries the area is closed to everyone:
//     a place database is there to restrict, and "every country" is not
//     a choice to make by omission. Without -geoip there is no country
//     restriction (the places are unknown), and -admin-countries is
//     refused at start.
//
// A role or place refusal is a plain 403 page: no step-up can change it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/monitor"
	"github.com/mfakit/mfa/policy"
	"github.com/mfakit/mfa/session"
)

func init() {
	pageNames = append(pageNames, "admin-area")
	stepUpActions["admin"] = "open the admin area"
}

// adminMaxAge is how recent the admin's security key must be.
const adminMaxAge = 5 * time.Minute

// roleAdmin is the role the admin area needs.
const roleAdmin = "admin"

type (
	adminAreaPage struct {
		base
		Alerts     []alertRow
		MonitorOff bool   // the store keeps no signal lists
		Countries  string // where the area may be used from; "" for anywhere
		KeyUsed    time.Time
		MaxAge     time.Duration
	}
	alertRow struct {
		Kind, Severity, User, IP, Country, Network string
		Time                                       time.Time
		Evidence                                   []string
	}
)

// wirePolicy builds the admin area's policy from cfg.ops (see the file
// comment for the choices it makes).
func (a *app) wirePolicy(cfg appConfig) error {
	rule := policy.Rule{
		Pattern: "/admin/",
		Roles:   []string{roleAdmin},
		Methods: policy.PhishingResistant,
		MaxAge:  adminMaxAge,
	}
	loc, countries := cfg.ops.locator, cfg.ops.adminCountries
	switch {
	case loc == nil && len(countries) > 0:
		return errors.New("-admin-countries needs -geoip: without a place database no address has a country")
	case loc != nil && len(countries) == 0:
		a.adminNote = "The admin area is closed: a place database is set (-geoip) but -admin-countries names no country to use it from."
		cfg.log.Warn("admin area closed: -geoip is set and -admin-countries names no country")
	case loc != nil:
		rule.Countries, a.adminCountries = countries, countries
	default:
		cfg.log.Info("admin area: no country restriction (no -geoip)")
	}
	var err error
	a.adminPolicy, err = policy.New(policy.Config{
		Rules:    []policy.Rule{rule},
		Roles:    a.roles,
		Locator:  loc,
		ClientIP: a.ip,
		Now:      func() time.Time { return a.now() },
	})
	return err
}

// roles are the user's roles: "admin" for the -admin user, none for
// anyone else.
func (a *app) roles(r *http.Request, c *session.AccessClaims) ([]string, error) {
	u, err := a.users.byID(r.Context(), c.Subject)
	switch {
	case errors.Is(err, errNoUser):
		return nil, nil
	case err != nil:
		return nil, err
	case a.admin != "" && u.Name == a.admin:
		return []string{roleAdmin}, nil
	}
	return nil, nil
}

func (a *app) adminRoutes(mux *http.ServeMux) {
	area := a.signedIn(a.adminArea, session.Policy(a.adminPolicy), session.OnDenied(a.adminDenied))
	mux.Handle("GET /admin/{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.adminNote != "" {
			a.render(w, http.StatusForbidden, "error", errorPage{base: base{Title: "Admin area closed", Error: a.adminNote}})
			return
		}
		area.ServeHTTP(w, r)
	}))
	mux.Handle("GET /step-up/admin", a.signedIn(a.adminStepUp))
}

// adminDenied answers a refused admin request: a browser whose session
// lacks a recent security key goes to the step-up page; a role, place or
// time refusal is a 403 page.
func (a *app) adminDenied(w http.ResponseWriter, r *http.Request, d *session.Denial) {
	switch {
	case isAPIClient(r):
		a.sessions.WriteDenial(w, d)
	case d.Code == session.CodeInsufficientUserAuth && d.Claims != nil:
		redirect(w, r, "/step-up/admin")
	case d.Status == http.StatusForbidden:
		var name string
		if d.Claims != nil {
			if u, err := a.users.byID(r.Context(), d.Claims.Subject); err == nil {
				name = u.Name
			}
		}
		a.log.Info("admin area refused", "user", name, "ip", a.clientIP(r), "err", d.Err)
		a.render(w, http.StatusForbidden, "error", errorPage{base: base{Title: "Not allowed", User: name,
			Error: "The admin area is for administrators, from the countries it is allowed from."}})
	default:
		a.denied(w, r, d)
	}
}

// adminStepUp asks for a security key, then opens the admin area
// (stepUp, action "admin").
func (a *app) adminStepUp(w http.ResponseWriter, r *http.Request) {
	if _, u, ok := a.current(w, r); ok {
		a.askStepUp(w, r, u, "admin", "")
	}
}

func (a *app) adminArea(w http.ResponseWriter, r *http.Request) {
	c, u, ok := a.current(w, r)
	if !ok {
		return
	}
	page := adminAreaPage{
		base:       base{Title: "Admin", User: u.Name},
		MonitorOff: a.alertLog == nil,
		Countries:  strings.Join(a.adminCountries, ", "),
		KeyUsed:    authTimeOf(c),
		MaxAge:     adminMaxAge,
	}
	if a.alertLog != nil {
		alerts, err := a.alertLog.Recent(r.Context())
		if err != nil {
			a.internal(w, r, err)
			return
		}
		page.Alerts = a.alertRows(r.Context(), alerts)
	}
	a.render(w, http.StatusOK, "admin-area", page)
}

// alertRows shows alerts for people: the username beside the ID when
// the user still exists, and the evidence that applies.
func (a *app) alertRows(ctx context.Context, alerts []monitor.Alert) []alertRow {
	names := map[string]string{}
	rows := make([]alertRow, 0, len(alerts))
	for _, al := range alerts {
		user := al.UserID
		if user != "" {
			name, seen := names[user]
			if !seen {
				if u, err := a.users.byID(ctx, user); err == nil {
					name = u.Name
				}
				names[user] = name
			}
			if name != "" {
				user = name + " (" + al.UserID + ")"
			}
		}
		rows = append(rows, alertRow{
			Kind: string(al.Kind), Severity: al.Severity.String(), Time: al.Time, User: user,
			IP: al.IP, Country: al.Place.Country, Network: al.Place.Network,
			Evidence: evidence(al.Evidence),
		})
	}
	return rows
}

// evidence lists what applies of e as "name: value" lines.
func evidence(e monitor.Evidence) []string {
	var out []string
	add := func(name, value string) {
		if value != "" {
			out = append(out, name+": "+value)
		}
	}
	add("event", e.Event)
	if e.Denied {
		add("denied", "yes")
	}
	add("factor", strings.TrimSpace(string(e.FactorKind)+" "+e.FactorID))
	if e.Users > 0 {
		add("users", strconv.Itoa(e.Users))
	}
	if len(e.Kinds) > 0 {
		ks := make([]string, len(e.Kinds))
		for i, k := range e.Kinds {
			ks[i] = string(k)
		}
		add("kinds", strings.Join(ks, ", "))
	}
	if e.Window > 0 {
		add("within", e.Window.String())
	}
	add("session", e.SessionID)
	add("other session", e.OtherSessionID)
	if e.PrevIP != "" || e.PrevPlace.Country != "" {
		add("previously", strings.TrimSpace(e.PrevIP+" "+e.PrevPlace.Country))
	}
	if !e.PrevTime.IsZero() {
		add("previous time", e.PrevTime.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if e.DistanceKm > 0 {
		add("distance", fmt.Sprintf("%.0f km", e.DistanceKm))
	}
	if e.SpeedKmh > 0 {
		add("speed", fmt.Sprintf("%.0f km/h", e.SpeedKmh))
	}
	add("case", e.CaseID)
	add("actor", e.Actor)
	add("reason", e.Reason)
	return out
}

// adminStepUpOnly refuses, before any code is checked, a step-up for the
// admin area with anything but a key: a code would pass and still not
// open it.
func adminStepUpOnly(action string, kind mfa.Kind) bool {
	return action == "admin" && kind != mfa.KindWebAuthn
}
