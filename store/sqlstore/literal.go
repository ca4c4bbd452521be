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
	n := len("CALL ()") + len(name)
	for _, a := range args {
		switch a := a.(type) {
		case string:
			n += 2*len(a) + 4
		case []byte:
			n += 2*len(a) + 4
		case jsonText:
			n += 2*len(a) + 24
		default:
			n += 21
		}
	}
	b := make([]byte, 0, n)
	b = append(b, "CALL "...)
	b = append(b, name...)
	b = append(b, '(')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendLiteral(b, a); err != nil {
			return "", err
		}
	}
	b = append(b, ')')
	return string(b), nil
}

func appendLiteral(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		b = append(b, "NULL"...)
	case bool:
		if v {
			b = append(b, "TRUE"...)
		} else {
			b = append(b, "FALSE"...)
		}
	case int:
		b = strconv.AppendInt(b, int64(v), 10)
	case int64:
		b = strconv.AppendInt(b, v, 10)
	case string:
		b = appendHex(b, []byte(v))
	case []byte:
		if v == nil {
			return append(b, "NULL"...), nil
		}
		b = appendHex(b, v)
	case jsonText:
		// JSON must reach the server as text, not a binary string.
		b = append(b, "CONVERT("...)
		b = appendHex(b, []byte(v))
		b = append(b, " USING utf8mb4)"...)
	default:
		return b, fmt.Errorf("mfa: sqlstore: cannot write a %T into a query", v)
	}
	return b, nil
}

func appendHex(b, p []byte) []byte {
	b = append(b, "X'"...)
	b = hex.AppendEncode(b, p)
	return append(b, '\'')
}

// jsonText is a JSON document passed to a routine.
type jsonText string

// Counter lists reach the routines as JSON arrays whose keys are hex, so a
// key of any bytes survives the trip; durations are nanoseconds.

// hitJSON encodes the counters of a Hit, sorted by key, as
// [[hex key, free, base, max, cap, ttl], ...]; ks are their canonical
// keys. Every value is hex digits or an integer, so it is written without
// a JSON encoder.
func hitJSON(cs []store.Counter, ks []string) jsonText {
	order := make([]int, len(cs))
	n := 2
	for i := range order {
		order[i] = i
		n += 2*len(ks[i]) + 6*21
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(ks[a], ks[b]) })
	b := make([]byte, 0, n)
	b = append(b, '[')
	for j, i := range order {
		if j > 0 {
			b = append(b, ',')
		}
		r := cs[i].Rule
		b = append(b, '[', '"')
		b = hex.AppendEncode(b, []byte(ks[i]))
		b = append(b, '"')
		for _, v := range [...]int64{int64(r.Free), int64(r.Base), int64(r.Max), int64(r.Cap), int64(r.TTL)} {
			b = append(b, ',')
			b = strconv.AppendInt(b, v, 10)
		}
		b = append(b, ']')
	}
	b = append(b, ']')
	return jsonText(b)
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
	if len(cs) == 0 {
		return "[]"
	}
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
