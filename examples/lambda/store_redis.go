//go:build redis

package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store/redisstore"
)

// openStore opens the Redis store named by MFA_STORE_URL without
// connecting: go-redis dials on first use. One small pool per execution
// environment, reused by every invocation it serves.
func openStore(getenv func(string) string) (appStore, error) {
	spec, prefix := getenv("MFA_STORE_URL"), getenv("MFA_STORE_PREFIX")
	if !strings.HasPrefix(spec, "redis://") && !strings.HasPrefix(spec, "rediss://") {
		return nil, errors.New("MFA_STORE_URL: want a redis:// URL (this build, -tags redis)")
	}
	opts, err := redis.ParseURL(spec)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err // without the URL, which may hold a password
	}
	if err != nil {
		return nil, fmt.Errorf("MFA_STORE_URL: %w", err)
	}
	opts.PoolSize = 2
	return redisstore.New(redis.NewClient(opts), redisstore.Options{Prefix: prefix})
}
