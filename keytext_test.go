package mfa_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mfakit/mfa"
)

func TestParseKeys(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	text := mfa.FormatKey("k2", k2) + ",\n  " + mfa.FormatKey("k1", k1)
	keys, err := mfa.ParseKeys(text)
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || !bytes.Equal(keys[1].Secret, k1) {
		t.Fatalf("ParseKeys = %+v, %v", keys, err)
	}
	if _, err := mfa.NewKeyring(keys[0], keys[1:]...); err != nil {
		t.Fatal(err)
	}
	hk, err := mfa.ParseHashKeys(mfa.FormatKey("h2", k2) + " " + mfa.FormatKey("", k1))
	if err != nil || len(hk) != 2 || hk[1].ID != "" {
		t.Fatalf("ParseHashKeys = %+v, %v", hk, err)
	}
	for _, bad := range []string{"", " ,\n", "k1", "k1:", "k1:!!!", ":" + mfa.FormatKey("", k1)[1:], strings.Repeat("a", 256) + ":AAAA", "k:" + strings.Repeat("A", 2000)} {
		if _, err := mfa.ParseKeys(bad); !errors.Is(err, mfa.ErrConfig) {
			t.Errorf("ParseKeys(%.20q) = %v, want ErrConfig", bad, err)
		}
	}
	if _, err := mfa.ParseHashKeys("k1:!!!"); !errors.Is(err, mfa.ErrConfig) {
		t.Errorf("ParseHashKeys of bad base64 = %v", err)
	}
}

func FuzzParseKeys(f *testing.F) {
	f.Add(mfa.FormatKey("k1", bytes.Repeat([]byte{1}, 32)) + "," + mfa.FormatKey("", []byte{2}))
	f.Add("a:AAAA b")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := mfa.ParseHashKeys(text)
		if err != nil {
			return
		}
		for _, k := range keys {
			again, err := mfa.ParseHashKeys(mfa.FormatKey(k.ID, k.Secret))
			if err != nil || len(again) != 1 || again[0].ID != k.ID || !bytes.Equal(again[0].Secret, k.Secret) {
				t.Fatalf("%q does not round-trip: %v", k.ID, err)
			}
		}
		if sk, err := mfa.ParseKeys(text); err == nil && len(sk) != len(keys) {
			t.Fatal("ParseKeys and ParseHashKeys disagree")
		}
	})
}
