package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/internal/testkit"
	"github.com/mfakit/mfa/sealer/awskms"
)

// fakeKMS unwraps "wrapped-<id>" under the context naming id to 32 bytes
// of id's first byte; down makes every call fail.
type fakeKMS struct {
	awskms.Client
	down    bool
	decrypt int
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.decrypt++
	id := in.EncryptionContext["mfa:data-key"]
	if f.down {
		return nil, errors.New("dial tcp: connection refused")
	}
	if string(in.CiphertextBlob) != "wrapped-"+id {
		return nil, errors.New("InvalidCiphertextException")
	}
	return &kms.DecryptOutput{Plaintext: bytes.Repeat([]byte{id[0]}, 32)}, nil
}

func fakeKey(id string) awskms.DataKey {
	return awskms.DataKey{ID: id, Wrapped: []byte("wrapped-" + id)}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ctx := context.Background()
	f := &fakeKMS{}
	for _, tc := range []struct {
		name string
		cfg  awskms.Config
		want error
	}{
		{"no client", awskms.Config{Keys: []awskms.DataKey{fakeKey("a")}}, mfa.ErrConfig},
		{"no keys", awskms.Config{Client: f}, mfa.ErrConfig},
		{"empty ID", awskms.Config{Client: f, Keys: []awskms.DataKey{{Wrapped: []byte("x")}}}, mfa.ErrConfig},
		{"long ID", awskms.Config{Client: f, Keys: []awskms.DataKey{{ID: strings.Repeat("a", 256), Wrapped: []byte("x")}}}, mfa.ErrConfig},
		{"empty wrapped", awskms.Config{Client: f, Keys: []awskms.DataKey{{ID: "a"}}}, mfa.ErrConfig},
		{"duplicate ID", awskms.Config{Client: f, Keys: []awskms.DataKey{fakeKey("a"), fakeKey("a")}}, mfa.ErrConfig},
		{"negative TTL", awskms.Config{Client: f, Keys: []awskms.DataKey{fakeKey("a")}, TTL: -1}, mfa.ErrConfig},
		{"TTL over a day", awskms.Config{Client: f, Keys: []awskms.DataKey{fakeKey("a")}, TTL: 25 * time.Hour}, mfa.ErrConfig},
		{"wrong ID", awskms.Config{Client: f, Keys: []awskms.DataKey{{ID: "b", Wrapped: []byte("wrapped-a")}}}, awskms.ErrUnwrap},
		{"KMS down", awskms.Config{Client: &fakeKMS{down: true}, Keys: []awskms.DataKey{fakeKey("a")}}, awskms.ErrUnwrap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := awskms.New(ctx, tc.cfg); !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("New = %v, %v; want nil, %v", s, err, tc.want)
			}
		})
	}
	if _, err := awskms.NewDataKey(ctx, f, "alias/x", "a:b"); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("NewDataKey with ':' in the ID = %v, want ErrConfig", err)
	}
}

// A real KMS client whose endpoint does not answer fails New at once with
// an error naming the data key: a function fails its init, closed.
func TestNewKMSUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := awskms.New(ctx, awskms.Config{Client: client(closedPort(t)), Keys: []awskms.DataKey{fakeKey("k1")}})
	if !errors.Is(err, awskms.ErrUnwrap) || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("New = %v, want ErrUnwrap naming k1", err)
	}
}

// Keys are unwrapped once per TTL: no call within it, one per data key
// after it; if KMS is down then, Seal and Open fail closed until it is
// back.
func TestTTL(t *testing.T) {
	ctx := context.Background()
	f := &fakeKMS{}
	clk := testkit.NewClock(testkit.T0)
	s, err := awskms.New(ctx, awskms.Config{Client: f, Keys: []awskms.DataKey{fakeKey("b"), fakeKey("a")}, TTL: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal(ctx, []byte("seed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(59 * time.Minute)
	if _, _, err := s.Open(ctx, ct, nil); err != nil || f.decrypt != 2 {
		t.Fatalf("Open within TTL: %v, %d Decrypt calls, want 2 (at New)", err, f.decrypt)
	}
	clk.Add(time.Minute)
	f.down = true
	if _, _, err := s.Open(ctx, ct, nil); !errors.Is(err, mfa.ErrSealed) {
		t.Fatalf("Open after TTL with KMS down = %v, want ErrSealed", err)
	}
	if _, err := s.Seal(ctx, []byte("x"), nil); !errors.Is(err, mfa.ErrSealed) {
		t.Fatalf("Seal after TTL with KMS down = %v, want ErrSealed", err)
	}
	f.down, f.decrypt = false, 0
	if pt, stale, err := s.Open(ctx, ct, nil); err != nil || stale || string(pt) != "seed" || f.decrypt != 2 {
		t.Fatalf("Open once KMS is back = %q, %v, %v, %d calls", pt, stale, err, f.decrypt)
	}
}

func TestParseDataKeys(t *testing.T) {
	a, b := fakeKey("a"), fakeKey("b")
	got, err := awskms.ParseDataKeys(a.String() + ",\n " + b.String())
	if err != nil || len(got) != 2 || got[0].ID != "a" || !bytes.Equal(got[1].Wrapped, b.Wrapped) {
		t.Fatalf("ParseDataKeys = %+v, %v", got, err)
	}
	for _, bad := range []string{"", " , ", "a", ":AAAA", "a:", "a:***", "a:" + strings.Repeat("A", 8000), strings.Repeat("a", 256) + ":AAAA"} {
		if _, err := awskms.ParseDataKeys(bad); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("ParseDataKeys(%.20q) = %v, want ErrConfig", bad, err)
		}
	}
}

func FuzzParseDataKeys(f *testing.F) {
	f.Add(fakeKey("a").String() + "," + fakeKey("b").String())
	f.Add("a:AAAA b:")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := awskms.ParseDataKeys(text)
		if err != nil {
			return
		}
		for _, k := range keys {
			again, err := awskms.ParseDataKeys(k.String())
			if err != nil || len(again) != 1 || again[0].ID != k.ID || !bytes.Equal(again[0].Wrapped, k.Wrapped) {
				t.Fatalf("%q does not round-trip: %v", k.String(), err)
			}
		}
	})
}
