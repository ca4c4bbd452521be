package geo_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"testing"

	"github.com/mfakit/mfa/geo"
)

func TestDistance(t *testing.T) {
	paris := geo.Place{Country: "FR", Lat: 48.8566, Lon: 2.3522, HasPoint: true}
	newYork := geo.Place{Country: "US", Lat: 40.7128, Lon: -74.0060, HasPoint: true}
	sydney := geo.Place{Country: "AU", Lat: -33.8688, Lon: 151.2093, HasPoint: true}
	wide := newYork
	wide.Radius = 1000
	tests := []struct {
		name   string
		a, b   geo.Place
		want   float64 // km
		within float64
	}{
		{"same point", paris, paris, 0, 0},
		{"Paris to New York", paris, newYork, 5837, 10},
		{"symmetric", newYork, paris, 5837, 10},
		{"Paris to Sydney", paris, sydney, 16960, 20},
		{"antipodes", geo.Place{HasPoint: true}, geo.Place{Lon: 180, HasPoint: true}, math.Pi * 6371.0088, 0.01},
		{"accuracy radius subtracted", paris, wide, 4837, 10},
		{"never below zero", geo.Place{Lat: 1, HasPoint: true, Radius: 500}, geo.Place{Lat: 2, HasPoint: true, Radius: 500}, 0, 0},
		{"no point", paris, geo.Place{Country: "US"}, 0, 0},
		{"zero place", geo.Place{}, geo.Place{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := geo.Distance(tt.a, tt.b); math.Abs(got-tt.want) > tt.within {
				t.Errorf("Distance = %.1f km, want %.1f ± %.1f", got, tt.want, tt.within)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	for _, tt := range []struct {
		p    geo.Place
		want bool
	}{
		{geo.Place{}, false},
		{geo.Place{Radius: 10}, false},
		{geo.Place{Country: "FR"}, true},
		{geo.Place{Network: "AS64496"}, true},
		{geo.Place{HasPoint: true}, true},
	} {
		if got := tt.p.Known(); got != tt.want {
			t.Errorf("%+v.Known() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func ExampleDistance() {
	locate := geo.LocatorFunc(func(_ context.Context, addr netip.Addr) (geo.Place, error) {
		switch addr {
		case netip.MustParseAddr("192.0.2.1"):
			return geo.Place{Country: "FR", Lat: 48.8566, Lon: 2.3522, HasPoint: true}, nil
		case netip.MustParseAddr("198.51.100.1"):
			return geo.Place{Country: "US", Lat: 40.7128, Lon: -74.0060, HasPoint: true}, nil
		}
		return geo.Place{}, nil // unknown: not an error
	})
	ctx := context.Background()
	a, _ := locate.Locate(ctx, netip.MustParseAddr("192.0.2.1"))
	b, _ := locate.Locate(ctx, netip.MustParseAddr("198.51.100.1"))
	c, _ := locate.Locate(ctx, netip.MustParseAddr("10.0.0.1"))
	fmt.Printf("%s to %s: %.0f km\n", a.Country, b.Country, geo.Distance(a, b))
	fmt.Println("10.0.0.1 known:", c.Known())
	// Output:
	// FR to US: 5837 km
	// 10.0.0.1 known: false
}
