package redisstore

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mfakit/mfa/store"
)

// TestCounterKeyBody checks that counterKey, which writes the escaped
// CounterKey.String straight into the key, writes exactly that: with every
// field of CounterKey set (found by reflection, so a field added to
// CounterKey and its String is caught here), with fields empty, and with
// the characters that are escaped and lengths of several digits.
func TestCounterKeyBody(t *testing.T) {
	s := &Store{prefix: "p:"}
	want := func(k store.CounterKey) string {
		tag, id := "u:", k.UserID
		if k.UserID == "" && k.IP != "" {
			tag, id = "ip:", k.IP
		}
		return s.prefix + "{" + tag + esc(id) + "}:c:" + esc(k.String())
	}
	values := []string{"", "a", "x:y", "{u:1}", "50%", strings.Repeat("z", 123), "é|1:2"}
	var keys []store.CounterKey
	rt := reflect.TypeFor[store.CounterKey]()
	for i := range rt.NumField() {
		for _, v := range values {
			var k store.CounterKey
			kv := reflect.ValueOf(&k).Elem()
			for j := range rt.NumField() { // every field set ...
				kv.Field(j).SetString("f" + rt.Field(j).Name)
			}
			kv.Field(i).SetString(v) // ... and this one to each value
			keys = append(keys, k)
			var only store.CounterKey
			reflect.ValueOf(&only).Elem().Field(i).SetString(v)
			keys = append(keys, only)
		}
	}
	keys = append(keys, store.CounterKey{Scope: store.ScopeIP, IP: "10.0.0.1}"},
		store.CounterKey{Scope: store.ScopeIssue, Window: "2026-01-02"})
	for _, k := range keys {
		if got, w := s.counterKey(k), want(k); got != w {
			t.Errorf("counterKey(%+v) = %q, want %q", k, got, w)
		}
	}
	for _, v := range values {
		if got, w := s.factorKey(v, v+"}"), s.prefix+"{u:"+esc(v)+"}:f:"+esc(v+"}"); got != w {
			t.Errorf("factorKey(%q) = %q, want %q", v, got, w)
		}
	}
}
