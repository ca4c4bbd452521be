package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// evalScript is a script on a verification's path (Hit, Advance). Unlike
// redis.Script, whose replies come back as []any of boxed values, its
// command is built by the caller in one argument slice and its reply read
// into a typed command (a string or a slice of strings), which saves the
// client most of its allocations per call.
type evalScript struct {
	src string
	sha any // the SHA1 of src in hex, boxed once: it is in every call
}

func newEvalScript(src string) *evalScript {
	h := sha1.Sum([]byte(src))
	return &evalScript{src: src, sha: hex.EncodeToString(h[:])}
}

// args starts the arguments of an EVALSHA of the script over keys, with
// room for n values of ARGV to be appended.
func (sc *evalScript) args(keys []string, n int) []any {
	a := make([]any, 3+len(keys), 3+len(keys)+n)
	a[0], a[1], a[2] = "evalsha", sc.sha, len(keys)
	for i, k := range keys {
		a[3+i] = k
	}
	return a
}

// noScript reports whether cmd, an EVALSHA of sc, failed because Redis no
// longer caches the script (after a restart or SCRIPT FLUSH). If so it
// turns the command's arguments into an EVAL of the source, so that a new
// command on the same arguments sends the script in full.
func (sc *evalScript) noScript(cmd redis.Cmder) bool {
	err := cmd.Err()
	if err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return false
	}
	a := cmd.Args()
	a[0], a[1] = "eval", sc.src
	return true
}

// runScript runs one command of sc made by mk from args (as
// redis.NewStringCmd makes one), falling back to EVAL when Redis has lost
// the script.
func runScript[C redis.Cmder](ctx context.Context, c redis.UniversalClient, sc *evalScript,
	mk func(context.Context, ...any) C, args []any) C {
	cmd := mk(ctx, args...)
	_ = c.Process(ctx, cmd) // the error is the command's
	if sc.noScript(cmd) {
		cmd = mk(ctx, args...)
		_ = c.Process(ctx, cmd)
	}
	return cmd
}

// process runs cmds: one alone, several in one pipeline (one round trip to
// each node involved, in parallel). Each command keeps its own error.
//
// The pipeline is taken from the Store's idle ones and put back empty:
// a new one costs go-redis four allocations (the pipeline, its two bound
// methods and the function Pipelined runs), and Hit pipelines on every
// verification.
func (s *Store) process(ctx context.Context, cmds []redis.Cmder) {
	if len(cmds) == 1 {
		_ = s.c.Process(ctx, cmds[0])
		return
	}
	p, _ := s.pipes.Get().(redis.Pipeliner)
	if p == nil {
		p = s.c.Pipeline()
	}
	for _, c := range cmds {
		_ = p.Process(ctx, c)
	}
	_, _ = p.Exec(ctx)
	p.Discard() // Exec leaves it empty already; nothing is kept if not
	s.pipes.Put(p)
}
