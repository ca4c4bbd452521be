package push_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/push"
	"github.com/mfakit/mfa/store/memstore"
)

func TestConfig(t *testing.T) {
	st := memstore.New()
	tests := []struct {
		name string
		cfg  push.Config
	}{
		{"no store", push.Config{HashKey: hashKey}},
		{"short key", push.Config{Store: st, HashKey: hashKey[:16]}},
		{"long TTL", push.Config{Store: st, HashKey: hashKey, TTL: 3 * time.Minute}},
		{"long pairing", push.Config{Store: st, HashKey: hashKey, PairingTTL: 11 * time.Minute}},
		{"two choices", push.Config{Store: st, HashKey: hashKey, Choices: 2}},
		{"ten choices", push.Config{Store: st, HashKey: hashKey, Choices: 10}},
		{"negative pause", push.Config{Store: st, HashKey: hashKey, PauseFor: -time.Second}},
	}
	for _, tc := range tests {
		if _, err := push.New(tc.cfg); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
	if _, err := push.New(push.Config{Store: st, HashKey: hashKey}); err != nil {
		t.Fatalf("zero config: %v", err)
	}
}
