package backupcodes_test

import (
	"fmt"
	"testing"

	"github.com/mfakit/mfa/backupcodes"
)

// BenchmarkVerify shows the work per attempt does not grow with the set:
// one keyed hash, then constant-time comparisons that cost little next to
// it.
func BenchmarkVerify(b *testing.B) {
	for _, count := range []int{10, 60} {
		s := enroll(b, newFactor(b, backupcodes.Config{Count: count}), newHasher(b, 1), 12)
		for _, tc := range []struct{ name, resp string }{{"right", s.codes[count/2]}, {"wrong", "0000-0000-00000"}} {
			b.Run(fmt.Sprintf("count%d/%s", count, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, _ = s.verify(0, tc.resp)
				}
			})
		}
	}
}
