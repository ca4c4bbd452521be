package storetest

import (
	"strings"
	"testing"

	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/store/memstore"
)

func TestPlan(t *testing.T) {
	m := memstore.New()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"every concern", m, "Factors Counters Challenges Sessions Devices FactorsCounters Concurrency Sweep Recovery Reseal Signals"},
		{"recovery only", struct{ store.Recovery }{m}, "Recovery"},
		{"split", store.Split{Factors: m, Counters: m, Challenges: m}, "Factors Counters Challenges FactorsCounters Concurrency"},
		{"factors only", struct{ store.Factors }{m}, "Factors Concurrency"},
		{"counters only", struct{ store.Counters }{m}, "Counters Concurrency"},
		{"challenges only", struct{ store.Challenges }{m}, "Challenges Concurrency"},
		{"sessions and devices", struct {
			store.Sessions
			store.Devices
		}{m, m}, "Sessions Devices Concurrency"},
		{"devices only", struct{ store.Devices }{m}, "Devices"},
		{"sweeper only", struct{ store.Sweeper }{m}, "Sweep"},
		{"signals only", struct{ store.Signals }{m}, "Signals"},
		{"resealable without factors", struct{ store.Resealable }{m}, ""},
		{"factors and resealable", struct {
			store.Factors
			store.Resealable
		}{m, m}, "Factors Concurrency Reseal"},
		{"nothing", struct{}{}, ""},
	}
	for _, tt := range tests {
		var names []string
		for _, g := range plan(tt.v) {
			names = append(names, g.name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("%s: groups %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestPartial runs the suite on values that keep one concern each, as a
// backend for part of a store.Split would.
func TestPartial(t *testing.T) {
	t.Run("Factors", func(t *testing.T) {
		Run(t, func(*testing.T) any { return struct{ store.Factors }{memstore.New()} })
	})
	t.Run("Counters", func(t *testing.T) {
		Run(t, func(*testing.T) any { return struct{ store.Counters }{memstore.New()} })
	})
	t.Run("Challenges", func(t *testing.T) {
		Run(t, func(*testing.T) any { return struct{ store.Challenges }{memstore.New()} })
	})
	t.Run("Recovery", func(t *testing.T) {
		Run(t, func(*testing.T) any { return struct{ store.Recovery }{memstore.New()} })
	})
	t.Run("Signals", func(t *testing.T) {
		Run(t, func(*testing.T) any { return struct{ store.Signals }{memstore.New()} })
	})
}
