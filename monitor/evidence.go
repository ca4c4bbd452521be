package monitor

import (
	"math"
	"strconv"
	"strings"
	"time"
)

type field struct{ name, value string }

// evidenceFields lists the evidence that applies, in a fixed order, as
// text: what the log, mail and webhook adapters show.
func evidenceFields(e Evidence) []field {
	var fs []field
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, field{name, value})
		}
	}
	add("event", e.Event)
	if e.Denied {
		add("denied", "true")
	}
	add("factor_id", e.FactorID)
	add("factor_kind", string(e.FactorKind))
	if e.Users > 0 {
		add("users", strconv.Itoa(e.Users))
	}
	if len(e.Kinds) > 0 {
		ks := make([]string, len(e.Kinds))
		for i, k := range e.Kinds {
			ks[i] = string(k)
		}
		add("kinds", strings.Join(ks, ","))
	}
	if e.Window > 0 {
		add("window", e.Window.String())
	}
	add("session_id", e.SessionID)
	add("other_session_id", e.OtherSessionID)
	add("prev_ip", e.PrevIP)
	add("prev_country", e.PrevPlace.Country)
	add("prev_network", e.PrevPlace.Network)
	if !e.PrevTime.IsZero() {
		add("prev_time", e.PrevTime.UTC().Format(time.RFC3339))
	}
	if e.DistanceKm > 0 {
		add("distance_km", strconv.FormatFloat(e.DistanceKm, 'f', 0, 64))
	}
	if e.SpeedKmh > 0 {
		if math.IsInf(e.SpeedKmh, 1) {
			add("speed_kmh", "inf")
		} else {
			add("speed_kmh", strconv.FormatFloat(e.SpeedKmh, 'f', 0, 64))
		}
	}
	add("case_id", e.CaseID)
	add("actor", e.Actor)
	add("reason", e.Reason)
	return fs
}
