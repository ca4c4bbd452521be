package mongostore_test

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mfakit/mfa/store/mongostore"
)

// TestNewRefusesBadConfig needs no server: New checks everything before
// it touches one.
func TestNewRefusesBadConfig(t *testing.T) {
	db := (&mongo.Client{}).Database("x")
	for _, tc := range []struct {
		name string
		cfg  mongostore.Config
		want string
	}{
		{"no database", mongostore.Config{}, "Config.Database is nil"},
		{"prefix with a dot", mongostore.Config{Database: db, Prefix: "a.b"}, "collection prefix"},
		{"prefix too long", mongostore.Config{Database: db, Prefix: strings.Repeat("a", 33)}, "collection prefix"},
		{"prefix starting with a digit", mongostore.Config{Database: db, Prefix: "1a"}, "collection prefix"},
		{"negative batch", mongostore.Config{Database: db, SweepBatch: -1}, "SweepBatch"},
		{"negative grace", mongostore.Config{Database: db, Grace: -time.Second}, "Grace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := mongostore.New(tc.cfg)
			if err == nil || s != nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mfa: ") {
				t.Fatalf("New: %v, %v; want an error about %s", s, err, tc.want)
			}
		})
	}
	if _, err := mongostore.New(mongostore.Config{Database: db, Prefix: "app_1"}); err != nil {
		t.Fatalf("a valid configuration: %v", err)
	}
}
