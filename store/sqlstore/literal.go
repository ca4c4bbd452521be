package sqlstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa/store"
)

// MySQL's hot path (the CALLs of Hit, Advance and RotateRefresh) is sent
// as one text query with its values written into it by the code below,
// rather than as a prepared statement: without interpolateParams in the
// DSN the driver would prepare, execute and close every statement, three
// requests and two round trips instead of one.
//
// Writing values into SQL text is safe here because of what a value can
// become: an integer is written by strconv (digits and a sign); every
// string and byte slice, whatever it holds, becomes a hexadecimal literal
// X'...' of the characters 0-9 and a-f only, which no character set, SQL
// mode (NO_BACKSLASH_ESCAPES or not) or quoting rule can turn into
// anything but the bytes it encodes; nil becomes NULL; a bool TRUE or
// FALSE. Any other type is refused. The text around the values is a
// constant of this package. No quote or backslash from a value ever
// reaches the query.

// mysqlCall returns the text of CALL name(args...), with args written as
// literals.
func mysqlCall(name string, args ...any) (string, error) {
	var b strings.Builder
	b.WriteString("CALL ")
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeLiteral(&b, a); err != nil {
			return "", err
		}
	}
	b.WriteByte(')')
	return b.String(), nil
}

func writeLiteral(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("NULL")
	case bool:
		if v {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		writeHex(b, []byte(v))
	case []byte:
		if v == nil {
			b.WriteString("NULL")
			return nil
		}
		writeHex(b, v)
	case jsonText:
		// JSON must reach the server as text, not a binary string.
		b.WriteString("CONVERT(")
		writeHex(b, []byte(v))
		b.WriteString(" USING utf8mb4)")
	default:
		return fmt.Errorf("mfa: sqlstore: cannot write a %T into a query", v)
	}
	return nil
}

func writeHex(b *strings.Builder, p []byte) {
	b.WriteString("X'")
	b.WriteString(hex.EncodeToString(p))
	b.WriteByte('\'')
}

// jsonText is a JSON document passed to a routine.
type jsonText string

// Counter lists reach the routines as JSON arrays whose keys are hex, so a
// key of any bytes survives the trip; durations are nanoseconds.

// hitJSON encodes the counters of a Hit, sorted by key, as
// [[hex key, free, base, max, cap, ttl], ...].
func hitJSON(cs []store.Counter) jsonText {
	type entry struct {
		key string
		c   store.Counter
	}
	es := make([]entry, len(cs))
	for i, c := range cs {
		es[i] = entry{c.Key.String(), c}
	}
	sortBy(es, func(e entry) string { return e.key })
	rows := make([][]any, len(es))
	for i, e := range es {
		r := e.c.Rule
		rows[i] = []any{hex.EncodeToString([]byte(e.key)), r.Free, int64(r.Base), int64(r.Max), r.Cap, int64(r.TTL)}
	}
	return mustJSON(rows)
}

// resetJSON encodes counter keys as [hex key, ...].
func resetJSON(keys []any) jsonText {
	rows := make([]string, len(keys))
	for i, k := range keys {
		rows[i] = hex.EncodeToString([]byte(k.(string)))
	}
	return mustJSON(rows)
}

// forgiveJSON encodes the counters to forgive, sorted by key and without
// those the success resets anyway, as [[hex key, free], ...].
func forgiveJSON(cs []store.Counter, reset []any) jsonText {
	skip := make(map[string]bool, len(reset))
	for _, k := range reset {
		skip[k.(string)] = true
	}
	type entry struct {
		key  string
		free int
	}
	var es []entry
	for _, c := range cs {
		if k := c.Key.String(); !skip[k] {
			es = append(es, entry{k, c.Rule.Free})
		}
	}
	sortBy(es, func(e entry) string { return e.key })
	rows := make([][]any, len(es))
	for i, e := range es {
		rows[i] = []any{hex.EncodeToString([]byte(e.key)), e.free}
	}
	return mustJSON(rows)
}

func mustJSON(v any) jsonText {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings and integers
	}
	return jsonText(b)
}

// nanos is t in nanoseconds since the Unix epoch, the unit the routines
// compare times in, as the Go code compares time.Time values.
func nanos(t time.Time) int64 { return t.UnixNano() }

// sortBy sorts xs stably by the key of each.
func sortBy[T any](xs []T, key func(T) string) {
	slices.SortStableFunc(xs, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}
