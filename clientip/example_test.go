package clientip_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"

	"github.com/mfakit/mfa/clientip"
)

// Behind a load balancer in 10.0.0.0/8 that appends to X-Forwarded-For,
// the client is the rightmost address the balancer did not write about
// itself; a client talking to the service directly cannot choose its
// address.
func Example() {
	src, err := clientip.New(clientip.Config{
		Header:         "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}

	viaProxy := httptest.NewRequest("GET", "/", nil)
	viaProxy.RemoteAddr = "10.0.0.5:41000"
	viaProxy.Header.Set("X-Forwarded-For", "203.0.113.1, 198.51.100.7") // the client wrote the first
	fmt.Println(src.Addr(viaProxy))

	direct := httptest.NewRequest("GET", "/", nil)
	direct.RemoteAddr = "[::ffff:192.0.2.44]:41000"
	direct.Header.Set("X-Forwarded-For", "198.51.100.7") // spoofed: ignored
	fmt.Println(src.Addr(direct))
	// Output:
	// 198.51.100.7 <nil>
	// 192.0.2.44 <nil>
}
