package awskms_test

import (
	"context"
	"fmt"

	"github.com/mfakit/mfa/sealer/awskms"
)

// Data keys travel as text, for an environment variable or a secret;
// New unwraps them once with KMS (here a stand-in for kms.NewFromConfig).
func Example() {
	ctx := context.Background()
	keys, err := awskms.ParseDataKeys("k2:d3JhcHBlZC1rMg==, k1:d3JhcHBlZC1rMQ==")
	if err != nil {
		fmt.Println(err)
		return
	}
	kmsClient := &fakeKMS{}
	sealer, err := awskms.New(ctx, awskms.Config{Client: kmsClient, Keys: keys})
	if err != nil {
		fmt.Println(err)
		return
	}
	ct, _ := sealer.Seal(ctx, []byte("seed"), []byte("alice/f1"))
	pt, stale, err := sealer.Open(ctx, ct, []byte("alice/f1"))
	fmt.Println(string(pt), stale, err, "KMS calls:", kmsClient.decrypt)
	// Output: seed false <nil> KMS calls: 2
}
