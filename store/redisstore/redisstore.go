package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfakit/mfa/store"
)

// Options configures a [Store]. The zero value is valid.
type Options struct {
	// Prefix starts every key the store writes, so one Redis can hold
	// several applications (or test runs) apart. It must not contain '{'
	// or '}', which would take over the hash tags. Default "mfa:".
	Prefix string
}

// Store keeps every concern of package store, and is a [store.Sweeper],
// on Redis. Create one with
// [New]; it is safe for concurrent use and keeps no state of its own
// besides the client (only idle pipelines and the texts of the rules it
// was handed, kept to save allocations), so any number of Stores on any
// number of hosts sharing one Redis behave as one.
type Store struct {
	c       redis.UniversalClient
	prefix  string
	sharded bool

	// Reused by every call, they change nothing that is stored or decided:
	pipes sync.Pool                 // idle pipelines on c (process)
	rules atomic.Pointer[[]ruleArg] // the hit script's rule arguments (ruleArg)
}

var (
	_ store.Factors    = (*Store)(nil)
	_ store.Counters   = (*Store)(nil)
	_ store.Challenges = (*Store)(nil)
	_ store.Sessions   = (*Store)(nil)
	_ store.Devices    = (*Store)(nil)
	_ store.Signals    = (*Store)(nil)
)

// New returns a Store on client. The client is not closed by the Store.
//
// A *redis.ClusterClient or *redis.Ring is treated as sharded: operations
// whose keys live in several hash slots run as several scripts, in the
// order described in the package documentation. Any other client (a
// *redis.Client, a failover client) runs every operation as one script.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("mfa: redisstore: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = "mfa:"
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("mfa: redisstore: prefix %q contains '{' or '}'", opts.Prefix)
	}
	s := &Store{c: client, prefix: opts.Prefix}
	switch client.(type) {
	case *redis.ClusterClient, *redis.Ring:
		s.sharded = true
	}
	return s, nil
}

// grace is added to every Redis expiry: a record is reclaimed by Redis this
// long after the instant at which the caller's clock says it expired. The
// store itself decides expiry from the times passed in, never from Redis's
// TTL, so the margin only absorbs clock differences between instances.
const grace = 10 * time.Minute

// Keys. Every component a caller chooses is escaped (see esc), so no ID can
// close a hash tag early or forge another record's key. Everything of one
// user (factors, their index, the user's and factors' counters, the
// session and device indexes) shares the tag {u:<user>}; IP counters share
// {ip:<ip>}; a lookup, challenge, session or device has its own tag.

func (s *Store) tagged(tag, id, rest string) string { return s.key(tag, id, rest, "") }

// key is prefix{<tag><escaped id>}<rest><escaped tail>, built in one
// pass in a buffer on the stack and copied once into the string: keys are
// made on every verification's path.
func (s *Store) key(tag, id, rest, tail string) string {
	var buf [keyBuf]byte
	b := s.appendHead(buf[:0], tag, id)
	b = append(b, '}')
	b = append(b, rest...)
	b = appendEsc(b, tail)
	return string(b)
}

// appendHead appends the start of a key to b: prefix{<tag><escaped id>,
// the hash tag still open.
func (s *Store) appendHead(b []byte, tag, id string) []byte {
	b = append(b, s.prefix...)
	b = append(b, '{')
	b = append(b, tag...)
	return appendEsc(b, id)
}

// keyBuf is the room on the stack for a key; a longer one moves to the
// heap as it grows.
const keyBuf = 192

func (s *Store) factorKey(userID, id string) string { return s.key("u:", userID, ":f:", id) }

func (s *Store) factorIndex(userID string) string  { return s.tagged("u:", userID, ":fs") }
func (s *Store) sessionIndex(userID string) string { return s.tagged("u:", userID, ":ss") }
func (s *Store) deviceIndex(userID string) string  { return s.tagged("u:", userID, ":ds") }

func (s *Store) lookupKey(kind, lookup string) string {
	return s.prefix + "{l:" + esc(kind) + ":" + esc(lookup) + "}"
}

// counterKey is the escaped [store.CounterKey.String] under its tag,
// written straight into one buffer: it is on every verification's path.
// The scope is opaque: ScopeIP counters are tagged by their IP, and those
// of every other scope, known or not, by their user (empty when the key
// names none), so a new scope needs no change here; its body is the whole
// escaped CounterKey.String, which keeps scopes apart (TestCounterKeyBody
// checks that the body is exactly that, field by field).
func (s *Store) counterKey(k store.CounterKey) string {
	tag, id := "u:", k.UserID
	if k.UserID == "" && k.IP != "" {
		// ScopeIP, and any other scope keyed by address alone (issuance
		// per IP): placed with the address, not all in one slot.
		tag, id = "ip:", k.IP
	}
	// The fields of CounterKey.String, each "|<length>:<text>"; the
	// Window only when set. Escaped, ':' is "%3A".
	fields := [...]string{k.UserID, k.FactorID, k.IP, k.Window}
	n := len(fields)
	if k.Window == "" {
		n--
	}
	var buf [keyBuf]byte
	b := s.appendHead(buf[:0], tag, id)
	b = append(b, "}:c:"...)
	b = appendEsc(b, string(k.Scope))
	for _, f := range fields[:n] {
		b = append(b, '|')
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, "%3A"...)
		b = appendEsc(b, f)
	}
	return string(b)
}

func (s *Store) challengeKey(id string) string { return s.tagged("ch:", id, "") }
func (s *Store) sessionKey(id string) string   { return s.tagged("s:", id, "") }
func (s *Store) retiredKey(id string) string   { return s.tagged("s:", id, ":r") }
func (s *Store) deviceKey(id string) string    { return s.tagged("d:", id, "") }

// tagOf returns the hash tag of a key this store made: the text between
// the first '{' and the next '}'. The prefix and escaped components hold
// neither, so the tag is exact.
func tagOf(key string) string {
	i := strings.IndexByte(key, '{')
	j := strings.IndexByte(key[i+1:], '}')
	return key[i+1 : i+1+j]
}

// esc escapes the characters that structure a key: '{' and '}' (hash
// tags), ':' (the separator) and '%' (the escape itself).
func esc(s string) string {
	for i := 0; i < len(s); i++ {
		if escaped[s[i]] {
			return string(appendEsc(make([]byte, 0, len(s)+8), s))
		}
	}
	return s
}

// escaped marks the bytes esc escapes.
var escaped = [256]bool{'{': true, '}': true, ':': true, '%': true}

// appendEsc appends s escaped to b, copying the runs between the
// characters it escapes whole.
func appendEsc(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; escaped[c] {
			b = append(b, s[start:i]...)
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// Times are kept as integer milliseconds since the Unix epoch, in decimal;
// the zero time is an absent field. An instant at which something expires
// is rounded up and any other instant down, so rounding never shortens a
// lock or a delay.

func msDown(t time.Time) int64 { return t.UnixMilli() }

func msUp(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// durMs is d in milliseconds, rounded up: a rule's delays and TTLs never
// shrink by rounding.
func durMs(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d > time.Duration(ms)*time.Millisecond {
		ms++
	}
	return ms
}

func timeText(t time.Time, up bool) string {
	if t.IsZero() {
		return ""
	}
	if up {
		return strconv.FormatInt(msUp(t), 10)
	}
	return strconv.FormatInt(msDown(t), 10)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("mfa: redisstore: bad time %q", s)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// backstop is how long Redis keeps a record that the caller says expires
// at exp, seen from the caller's now: the remaining lifetime plus grace,
// in milliseconds. It is relative on purpose: an instance whose clock is
// off by minutes still gets its records kept for as long as it expects.
func backstop(now, exp time.Time) int64 {
	d := exp.Sub(now)
	if d < 0 {
		d = 0
	}
	ms := d.Milliseconds() + grace.Milliseconds()
	if ms < 0 { // Sub saturates; keep the sum positive
		ms = int64(^uint64(0) >> 2)
	}
	return ms
}

// fields is an argument list of hash field-value pairs.
type fields []any

// add appends a field, skipping empty values so that an absent field and
// an empty one read back the same (nil bytes, zero time, empty string).
func (f fields) add(name string, v any) fields {
	switch x := v.(type) {
	case string:
		if x == "" {
			return f
		}
	case []byte:
		if len(x) == 0 {
			return f
		}
	}
	return append(f, name, v)
}

// hash is a record read back from Redis.
type hash map[string]string

// pairs turns a flat field-value array from a script into a hash.
func pairs(v []any) hash {
	h := make(hash, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		k, _ := v[i].(string)
		val, _ := v[i+1].(string)
		h[k] = val
	}
	return h
}

func (h hash) bytes(name string) []byte {
	v, ok := h[name]
	if !ok || v == "" {
		return nil
	}
	return []byte(v)
}

func (h hash) time(name string, err *error) time.Time {
	t, e := parseTime(h[name])
	if e != nil && *err == nil {
		*err = e
	}
	return t
}

// status is what the scripts return for a decision: "ok", or one of the
// codes below mapped to the store's sentinels.
func status(op string, v any, err error) error {
	if err != nil {
		return fail(op, err)
	}
	switch v {
	case "ok":
		return nil
	case "nf":
		return fmt.Errorf("mfa: redisstore: %s: %w", op, store.ErrNotFound)
	case "ex":
		return fmt.Errorf("mfa: redisstore: %s: %w", op, store.ErrExists)
	case "cf":
		return fmt.Errorf("mfa: redisstore: %s: %w", op, store.ErrConflict)
	case "ru":
		return fmt.Errorf("mfa: redisstore: %s: %w", op, store.ErrReused)
	}
	return fmt.Errorf("mfa: redisstore: %s: unexpected reply %v", op, v)
}

func fail(op string, err error) error {
	return fmt.Errorf("mfa: redisstore: %s: %w", op, err)
}

// call is one script invocation of a batch.
type call struct {
	keys []string
	args []any
}

// runMany runs one script once per call in a single pipeline (one round
// trip per node) and returns the replies in order. A script Redis no
// longer caches (after a restart or SCRIPT FLUSH) is sent again in full.
func (s *Store) runMany(ctx context.Context, sc *redis.Script, calls []call) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 0 {
		return cmds, nil
	}
	pipe := func(todo []int, eval bool) error {
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range todo {
				if eval {
					cmds[i] = sc.Eval(ctx, p, calls[i].keys, calls[i].args...)
				} else {
					cmds[i] = sc.EvalSha(ctx, p, calls[i].keys, calls[i].args...)
				}
			}
			return nil
		})
		return err
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	_ = pipe(all, false) // errors are read per command below
	var again []int
	for i, c := range cmds {
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_ = pipe(again, true)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return nil, err
		}
	}
	return cmds, nil
}

// readAll fetches many hashes in one pipeline; a missing one is an empty
// map.
func (s *Store) readAll(ctx context.Context, keys []string) ([]map[string]string, error) {
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	if len(keys) == 0 {
		return nil, nil
	}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(keys))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}
