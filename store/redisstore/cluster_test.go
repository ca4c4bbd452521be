package redisstore_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store/redisstore"
	"github.com/mfakit/mfa/store/storetest"
)

// envCluster names a Redis Cluster the tests use: its node addresses,
// comma-separated, e.g. 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
// (.ci/redis-cluster starts one).
const envCluster = "MFA_TEST_REDIS_CLUSTER"

// newCluster connects to the test cluster; the test is skipped when
// MFA_TEST_REDIS_CLUSTER is unset and fails when it is set but the
// cluster does not answer.
func newCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	addrs := os.Getenv(envCluster)
	if addrs == "" {
		const msg = envCluster + " is not set; set it to a Redis Cluster's node addresses (e.g. 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103) to run the Redis Cluster tests"
		if os.Getenv("MFA_TEST_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + " (MFA_TEST_REQUIRE_SERVERS is set)")
		}
		t.Skip(msg)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() }); err != nil {
		t.Fatalf("%s is set but the cluster is unreachable: %v", envCluster, err)
	}
	return c
}

// clusterPrefix returns a key prefix unique to this test and deletes every
// key under it from every master when the test ends.
func clusterPrefix(t testing.TB, c *redis.ClusterClient) string {
	t.Helper()
	p := prefix(t) // no plain clients to clean
	t.Cleanup(func() {
		err := c.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			// One DEL per key: a node refuses a DEL naming two slots.
			keys, err := n.Keys(ctx, p+"*").Result()
			if err != nil {
				return err
			}
			_, err = n.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, k := range keys {
					pipe.Del(ctx, k)
				}
				return nil
			})
			return err
		})
		if err != nil {
			t.Error(err)
		}
	})
	return p
}

// TestStoreCluster runs the conformance suite on a real Redis Cluster of
// three masters, where a script naming keys of two hash slots fails with
// CROSSSLOT and a key of another node's slot with MOVED.
func TestStoreCluster(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	var (
		mu     sync.Mutex
		spread = map[string]int{}
	)
	storetest.Run(t, func(t *testing.T) any {
		p := clusterPrefix(t, c)
		t.Cleanup(func() { // runs before the prefix's cleanup
			_ = c.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
				keys, err := n.Keys(ctx, p+"*").Result()
				if err != nil {
					return err
				}
				mu.Lock() // ForEachMaster visits the masters concurrently
				spread[n.Options().Addr] += len(keys)
				mu.Unlock()
				return nil
			})
		})
		s, err := redisstore.New(c, redisstore.Options{Prefix: p})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	t.Logf("keys per master: %v", spread)
	if len(spread) < 3 {
		t.Errorf("keys reached %d masters (%v), want all 3: the test did not shard", len(spread), spread)
	}
}
