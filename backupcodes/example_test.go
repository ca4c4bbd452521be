package backupcodes_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// A new set is shown once; each code then works exactly once. The Verifier
// normally does the storing and commits Match.Counter; here it is done by
// hand.
func Example() {
	key := make([]byte, mfa.MinHashKeyLen) // in production: from a secret store, not the database
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	hasher, err := mfa.NewHasher(key)
	if err != nil {
		panic(err)
	}
	f, err := backupcodes.New(backupcodes.Config{Count: 4, LowWatermark: 2})
	if err != nil {
		panic(err)
	}

	e, err := f.Enroll(context.Background(), factor.EnrollInput{Rand: rand.Reader, Hasher: hasher})
	if err != nil {
		panic(err)
	}
	set, _ := mfa.ShowAs[*backupcodes.Codes](e.Show)
	codes := set.List
	shape := strings.Map(func(r rune) rune {
		if r == '-' {
			return r
		}
		return 'x'
	}, codes[0])
	fmt.Println(len(codes), "codes shaped", shape)
	stored := store.Factor{Data: e.Data, Counter: e.Counter}

	for _, typed := range []string{codes[1], codes[2], "  " + codes[2] + " "} {
		m, err := f.Verify(context.Background(), factor.VerifyInput{Factor: stored, Response: typed, Hasher: hasher})
		if errors.Is(err, mfa.ErrReplayed) {
			fmt.Println("already used")
			continue
		}
		if err != nil {
			panic(err)
		}
		stored.Counter = m.Counter // the Verifier's compare-and-set
		fmt.Printf("used %04b, %d left, notes %v\n", m.Counter, m.Remaining, m.Notes)
	}
	// Output:
	// 4 codes shaped xxxx-xxxx-xxxxx
	// used 0010, 3 left, notes [backup_codes.used]
	// used 0110, 2 left, notes [backup_codes.used backup_codes.low]
	// already used
}
