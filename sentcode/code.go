package sentcode

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/mfakit/mfa/factor"
)

// maxInput is the longest response Normalize reads: a code of 8 digits
// typed with a separator between each, in full-width digits, with room to
// spare. Anything longer is malformed before any other work.
const maxInput = 64

// Normalize returns the ASCII digits of a code as a user may type it:
// spaces and dashes dropped, any Unicode decimal digit (full-width,
// Arabic-Indic, ...) read as its value. Any other character, or input
// longer than 64 bytes, wraps factor.ErrMalformedResponse.
func Normalize(s string) (string, error) {
	if len(s) > maxInput {
		return "", fmt.Errorf("%w: code too long", factor.ErrMalformedResponse)
	}
	if plain(s) {
		return s, nil // the common case: nothing to normalise
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
		case unicode.Is(unicode.Nd, r):
			b.WriteByte(byte('0' + digitValue(r)))
		default:
			return "", fmt.Errorf("%w: a code holds digits only", factor.ErrMalformedResponse)
		}
	}
	return b.String(), nil
}

// plain reports whether s is ASCII digits only.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// digitValue is the value of a Unicode decimal digit: every run of
// category Nd is a whole 0-9 sequence, so it is the distance from the
// start of the run, modulo 10 where runs abut.
func digitValue(r rune) int {
	start := r
	for start > 0 && unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

// newCode returns n uniformly random decimal digits from rand.
func newCode(rand io.Reader, n int) (string, error) {
	out := make([]byte, n)
	var buf [8]byte
	for i := 0; i < n; {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return "", fmt.Errorf("mfa: sentcode: random: %w", err)
		}
		for _, c := range buf {
			if c >= 250 || i == n { // 250 = 25*10: reject to stay uniform
				continue
			}
			out[i] = '0' + c%10
			i++
		}
	}
	return string(out), nil
}

// challengeData is what a challenge stores: the digits expected, a random
// salt and the keyed hash of the code under the factor's domain, bound
// to the user and factor.
//
//	version (1) | digits (1) | salt (16) | hash (32)
const (
	dataVersion = 1
	saltLen     = 16
	dataLen     = 2 + saltLen + 32
)

// codeDomain, followed by the kind, is the domain label of a code's hash.
const codeDomain = "mfa/sentcode/v1/"

// codeHash is the keyed hash of a code, under domain (codeDomain and the
// kind). The strings share one buffer: a verification is on the hot path,
// and each conversion on its own would be an allocation.
func codeHash(h *factor.Hasher, domain, userID, factorID string, salt []byte, code string) [32]byte {
	b := make([]byte, 0, len(userID)+len(factorID)+len(code))
	b = append(append(append(b, userID...), factorID...), code...)
	u, f := len(userID), len(userID)+len(factorID)
	return h.Sum(domain, b[:u:u], b[u:f:f], salt, b[f:])
}

func encodeData(h *factor.Hasher, domain, userID, factorID string, salt []byte, code string) []byte {
	sum := codeHash(h, domain, userID, factorID, salt, code)
	out := make([]byte, 0, dataLen)
	out = append(out, dataVersion, byte(len(code)))
	out = append(out, salt...)
	return append(out, sum[:]...)
}

var errData = errors.New("mfa: sentcode: challenge data malformed")

// checkCode compares response with the code whose hash data holds, in
// constant time; it hashes even a response of the wrong length, so a
// malformed code costs the work of a wrong one.
func checkCode(h *factor.Hasher, domain, userID, factorID string, data []byte, response string) error {
	if len(data) != dataLen || data[0] != dataVersion {
		return fmt.Errorf("%w: %w", factor.ErrSealed, errData)
	}
	digits := int(data[1])
	code, nerr := Normalize(response)
	sum := codeHash(h, domain, userID, factorID, data[2:2+saltLen], code)
	ok := subtle.ConstantTimeCompare(sum[:], data[2+saltLen:]) == 1
	switch {
	case nerr != nil:
		return nerr
	case len(code) != digits:
		return fmt.Errorf("%w: want %d digits", factor.ErrMalformedResponse, digits)
	case !ok:
		return factor.ErrWrongCode
	}
	return nil
}
