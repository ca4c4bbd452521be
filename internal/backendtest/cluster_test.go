package backendtest_test

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store/redisstore"
)

// envCluster names a Redis Cluster: its node addresses, comma-separated
// (.ci/redis-cluster starts one on loopback).
const envCluster = "MFA_TEST_REDIS_CLUSTER"

func openRedisCluster(tb testing.TB) opened { return redisClusterStore(tb, false) }

// redisClusterStore opens a store on the cluster under a fresh key
// prefix; with viaWire every node is reached through a counting proxy
// (the client dials the proxy for whichever node it means), and requests
// to two nodes at once count as one round trip.
func redisClusterStore(tb testing.TB, viaWire bool) opened {
	addrs := os.Getenv(envCluster)
	if addrs == "" {
		skipUnset(tb, envCluster, "a Redis Cluster's node addresses (127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103)")
	}
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	tb.Cleanup(func() { admin.Close() })
	ping(tb, envCluster, func(ctx context.Context) error {
		return admin.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return n.Ping(ctx).Err() })
	})
	prefix := randName("mfa_bt_") + ":"
	keys := func(tb testing.TB) []string {
		var (
			mu  sync.Mutex
			out []string
		)
		err := admin.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			ks, err := n.Keys(ctx, prefix+"*").Result()
			mu.Lock()
			out = append(out, ks...)
			mu.Unlock()
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
		return out
	}
	tb.Cleanup(func() {
		for _, k := range keys(tb) { // one DEL per key: keys span slots
			if err := admin.Del(context.Background(), k).Err(); err != nil {
				tb.Errorf("clean up keys: %v", err)
				return
			}
		}
	})
	opt := &redis.ClusterOptions{Addrs: strings.Split(addrs, ",")}
	var w wireCount
	if viaWire {
		var (
			mu      sync.Mutex
			proxies = map[string]*wire{}
			st      = new(stages)
		)
		w = st
		opt.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			p, ok := proxies[addr]
			if !ok {
				p = newWireTo(tb, addr, st)
				proxies[addr] = p
			}
			mu.Unlock()
			var d net.Dialer
			return d.DialContext(ctx, network, p.Addr())
		}
	}
	c := redis.NewClusterClient(opt)
	tb.Cleanup(func() { c.Close() })
	s, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	var cmds atomic.Int64
	c.AddHook(commandCounter{&cmds})
	dump := func(tb testing.TB, _ []string) []blob { return dumpKeys(tb, admin, keys(tb)) }
	return opened{concerns: s, dump: dump, commands: &cmds, wire: w, spec: spec{Backend: "redis-cluster", Addr: addrs, Prefix: prefix}}
}
