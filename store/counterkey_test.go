package store_test

import (
	"strings"
	"testing"

	"github.com/mfakit/mfa/store"
)

func TestCounterKeyString(t *testing.T) {
	tests := []struct {
		key  store.CounterKey
		want string
	}{
		{store.CounterKey{Scope: store.ScopeUser, UserID: "alice"}, "user|5:alice|0:|0:"},
		{store.CounterKey{Scope: store.ScopeFactor, UserID: "alice", FactorID: "f1"}, "factor|5:alice|2:f1|0:"},
		{store.CounterKey{Scope: store.ScopeIP, IP: "2001:db8::1"}, "ip|0:|0:|11:2001:db8::1"},
		{store.CounterKey{Scope: store.ScopeUser, UserID: "a|1:b"}, "user|5:a|1:b|0:|0:"},
		{store.CounterKey{Scope: store.ScopeUser, UserID: "ü"}, "user|2:ü|0:|0:"}, // length in bytes
	}
	for _, tt := range tests {
		if got := tt.key.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestCounterKeyStringDistinct(t *testing.T) {
	// Pairs a plain join with separators would merge.
	pairs := [][2]store.CounterKey{
		// A separator moved from one field to the next.
		{{Scope: store.ScopeFactor, UserID: "a|b", FactorID: "c"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b|c"}},
		{{Scope: store.ScopeFactor, UserID: "a:b", FactorID: "c"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b:c"}},
		{{Scope: store.ScopeFactor, UserID: "a|:b", FactorID: "c"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b|:c"}},
		{{Scope: store.ScopeFactor, UserID: "a|1:b", FactorID: "c"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b|1:c"}},
		{{Scope: store.ScopeIP, FactorID: "a|b", IP: "c"}, {Scope: store.ScopeIP, FactorID: "a", IP: "b|c"}},
		{{Scope: store.ScopeFactor, UserID: "a|b"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b"}},
		{{Scope: store.ScopeFactor, UserID: "a", FactorID: "|b"}, {Scope: store.ScopeFactor, UserID: "a|", FactorID: "b"}},
		{{Scope: store.ScopeFactor, UserID: "a|1:b"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "b"}},
		{{Scope: store.ScopeFactor, UserID: "a", FactorID: "1:b|0:"}, {Scope: store.ScopeFactor, UserID: "a", FactorID: "1:b", IP: ""}},
		{{Scope: store.ScopeUser, UserID: "x"}, {Scope: store.ScopeFactor, UserID: "x"}},
		{{Scope: store.ScopeIP, IP: "1.2.3.4"}, {Scope: store.ScopeIP, UserID: "1.2.3.4"}},
		{{Scope: store.ScopeUser, UserID: "1:a|0:"}, {Scope: store.ScopeUser, UserID: "1:a", FactorID: ""}},
		{{Scope: store.ScopeUser, UserID: "a|0:|0:"}, {Scope: store.ScopeUser, UserID: "a"}},
	}
	for _, p := range pairs {
		if p[0] == p[1] {
			t.Fatalf("test bug: %#v listed twice", p[0])
		}
		if a, b := p[0].String(), p[1].String(); a == b {
			t.Errorf("%#v and %#v both give %q", p[0], p[1], a)
		}
	}
}

// FuzzCounterKeyString checks that two different keys never give the same
// string. Scopes are the module's constants or any text without '|': the
// scope is written unescaped, so a scope holding '|' could forge another
// key (see TestCounterKeyScopes).
func FuzzCounterKeyString(f *testing.F) {
	f.Add(uint8(0), "a|1:b", "", "", uint8(0), "a", "b", "")
	f.Add(uint8(1), "a|:b", "c", "", uint8(1), "a", "b|:c", "")
	f.Add(uint8(1), "a", "|b", "", uint8(1), "a|", "b", "")
	f.Add(uint8(2), "", "", "1.2.3.4", uint8(2), "1.2.3.4", "", "")
	f.Add(uint8(3), "x", "y", "z", uint8(0), "x", "y", "z")
	f.Fuzz(func(t *testing.T, s1 uint8, u1, f1, i1 string, s2 uint8, u2, f2, i2 string) {
		a := store.CounterKey{Scope: scope(s1, u1), UserID: u1, FactorID: f1, IP: i1}
		b := store.CounterKey{Scope: scope(s2, u2), UserID: u2, FactorID: f2, IP: i2}
		if a != b && a.String() == b.String() {
			t.Fatalf("%#v and %#v both give %q", a, b, a.String())
		}
		if a == b && a.String() != b.String() {
			t.Fatalf("%#v gives two strings", a)
		}
	})
}

// scope picks one of the module's scopes, or a free-form one without '|'.
func scope(pick uint8, text string) store.Scope {
	switch pick % 4 {
	case 0:
		return store.ScopeUser
	case 1:
		return store.ScopeFactor
	case 2:
		return store.ScopeIP
	}
	return store.Scope(strings.ReplaceAll(text, "|", ""))
}

// TestCounterKeyScopes guards the precondition of the escaping: the scope
// is written as is, not length-prefixed, so String is injective only while
// no scope holds the '|' separator. (Scope "s" with UserID "x|0:|0:" and
// scope "s|7:x|0:" with no fields give the same string.)
func TestCounterKeyScopes(t *testing.T) {
	for _, s := range []store.Scope{store.ScopeUser, store.ScopeFactor, store.ScopeIP} {
		if s == "" || strings.Contains(string(s), "|") {
			t.Errorf("scope constant %q is empty or holds the separator", s)
		}
	}
}
