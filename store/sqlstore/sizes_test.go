package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfakit/mfa/store"
)

// TestStatusSize: a status longer than the narrowest column that holds it
// (MySQL's VARBINARY(64)) is refused by the Go code on every dialect, the
// same way as every other over-long value, rather than stored on one
// dialect, refused by a strict MySQL and truncated by a non-strict one.
func TestStatusSize(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := newStore(t, b)
			ctx := context.Background()
			f := store.Factor{UserID: "u", ID: "f", Kind: "totp", Status: store.Status(strings.Repeat("s", 64)),
				Created: time.Unix(1700000000, 0).UTC()}
			if err := s.CreateFactor(ctx, f); err != nil {
				t.Fatalf("CreateFactor with a 64-byte status: %v", err)
			}
			long := store.Status(strings.Repeat("s", 65))
			f.Status = long
			if err := s.UpdateFactor(ctx, f); err == nil || !strings.Contains(err.Error(), "status is 65 bytes") {
				t.Errorf("UpdateFactor with a 65-byte status: error = %v, want the size refusal", err)
			}
			f.ID = "g"
			if err := s.CreateFactor(ctx, f); err == nil || !strings.Contains(err.Error(), "status is 65 bytes") {
				t.Errorf("CreateFactor with a 65-byte status: error = %v, want the size refusal", err)
			}
		})
	}
}
