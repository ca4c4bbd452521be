package mfa

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Keys as text, for an environment variable or a secret manager: entries
// "ID:BASE64" (standard base64 of the key's bytes) separated by commas or
// white space, the primary key first. `mfa keys new` prints them.

// ParseKeys reads sealing keys for [NewKeyring]. Errors wrap ErrConfig and
// never quote key material.
func ParseKeys(text string) ([]Key, error) {
	var out []Key
	err := parseKeyText(text, false, func(id string, secret []byte) { out = append(out, Key{ID: id, Secret: secret}) })
	return out, err
}

// ParseHashKeys reads hash keys for Config.HashKeys. An entry with an
// empty ID (":BASE64") is the key of hashes made before key IDs.
func ParseHashKeys(text string) ([]HashKey, error) {
	var out []HashKey
	err := parseKeyText(text, true, func(id string, secret []byte) { out = append(out, HashKey{ID: id, Secret: secret}) })
	return out, err
}

// FormatKey returns the text form of one key, as ParseKeys and
// ParseHashKeys read it.
func FormatKey(id string, secret []byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(secret)
}

// maxKeyText bounds the text of one entry.
const maxKeyText = 1024

func parseKeyText(text string, emptyID bool, add func(string, []byte)) error {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(fields) == 0 {
		return fmt.Errorf("%w: no keys", ErrConfig)
	}
	for i, f := range fields {
		id, b64, ok := strings.Cut(f, ":")
		if !ok || len(f) > maxKeyText || (id == "" && !emptyID) || len(id) > 255 {
			return fmt.Errorf("%w: key %d: want ID:BASE64", ErrConfig, i+1)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(secret) == 0 {
			return fmt.Errorf("%w: key %q: not base64", ErrConfig, id)
		}
		add(id, secret)
	}
	return nil
}
