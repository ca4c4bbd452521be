package totp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
	"github.com/mfakit/mfa/totp"
)

// Verify checks a code from the user's app at the server's time and reports
// the step it matched; the Verifier commits that step so the code cannot be
// used again. The seed and code are the RFC 6238 Appendix B SHA-1 vector.
func ExampleFactor_Verify() {
	f, err := totp.New(totp.Config{Issuer: "Example", Digits: 8})
	if err != nil {
		panic(err)
	}
	in := factor.VerifyInput{
		Factor:   store.Factor{Kind: string(mfa.KindTOTP), Counter: 0},
		Secret:   []byte("12345678901234567890"), // opened by the Verifier
		Response: "07081804",
		Now:      time.Unix(1111111109, 0),
	}
	m, err := f.Verify(context.Background(), in)
	fmt.Println(m.Counter, m.AMR, m.AAL, err)

	// The same code again, once the step is committed as the counter.
	in.Factor.Counter = m.Counter
	_, err = f.Verify(context.Background(), in)
	fmt.Println(errors.Is(err, mfa.ErrReplayed))
	// Output:
	// 37037036 [otp] 2 <nil>
	// true
}
