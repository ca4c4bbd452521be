package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestHitScriptBadRule: a rule the hit script cannot read (its text is
// the client's, "Free Base Max Cap") is an error reply, so Hit fails and
// the Verifier denies, and the counter is left as it was, on the general
// path (a counter exists) and on the lean one (none does, Free 1).
func TestHitScriptBadRule(t *testing.T) {
	u := os.Getenv("MFA_TEST_REDIS_URL")
	if u == "" {
		t.Skip("set MFA_TEST_REDIS_URL to run the Redis tests")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	key := "mfa_rule_test_" + hex.EncodeToString(r[:]) + ":{u:x}:c:user"
	defer c.Del(ctx, key)
	for _, tc := range []struct {
		name, rule string
		exists     bool
	}{
		{"general path, not numbers", "x y z w", true},
		{"general path, three numbers", "5 30000 3600000", true},
		{"general path, a negative number", "5 -1 3600000 0", true},
		{"lean path, Free 1 without Max", "1 30000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
			if tc.exists {
				if err := c.HSet(ctx, key, "n", "2").Err(); err != nil {
					t.Fatal(err)
				}
			}
			before, err := c.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			args := append(hitScript.args([]string{key}, 5), "1700000000000", "c", tc.rule, "", "")
			args[0], args[1] = "eval", hitScript.src
			if err := c.Do(ctx, args...).Err(); err == nil {
				t.Fatalf("rule %q: the script answered, want an error", tc.rule)
			}
			after, err := c.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("rule %q: the counter went from %v to %v", tc.rule, before, after)
			}
		})
	}
}
