package backupcodes

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"math/bits"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/store"
)

// AMR is the RFC 8176 authentication method reference of a match.
const AMR = "otp"

const (
	// Alphabet is Crockford's base32 in lower case: no i, l, o or u.
	Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	// CodeLen is the length of a code in characters, without separators:
	// 13 characters of 5 bits, 65 bits.
	CodeLen = 13
	// MaxCount is the largest Config.Count: the used-code bitmap lives in
	// the factor's int64 counter, sign bit excluded.
	MaxCount = 63
	// MaxInput is the longest response read, separators included.
	MaxInput = 64
)

// Stored Data: version 1 is the version byte, the salt and the hashes,
// made under a hash key with the empty ID; version 2 (keyed) adds, after
// the version byte, the length and bytes of the ID of the hash key the set
// was made with, so the set keeps verifying after the key rotates.
const (
	domain  = "mfa/backupcodes/v1" // Hasher domain of code hashes
	version = 1
	keyed   = 2
	saltLen = 16
	hashLen = 32
	header  = 1 + saltLen
)

// Config configures a Factor.
type Config struct {
	// Count is the number of codes in a set, 1 to MaxCount. Default 10.
	Count int
	// LowWatermark: a use that leaves this many codes or fewer adds
	// mfa.EventBackupCodesLow to the match's notes. Must not be negative.
	// Default 3.
	LowWatermark int
}

// Factor is the backup-code factor. It is safe for concurrent use.
type Factor struct {
	count int
	low   int
}

var _ factor.Factor = (*Factor)(nil)

// New validates cfg, applies its defaults and returns a Factor. Errors wrap
// mfa.ErrConfig.
func New(cfg Config) (*Factor, error) {
	if cfg.Count == 0 {
		cfg.Count = 10
	}
	if cfg.Count < 1 || cfg.Count > MaxCount {
		return nil, fmt.Errorf("%w: backupcodes: Count is %d, want 1 to %d", factor.ErrConfig, cfg.Count, MaxCount)
	}
	if cfg.LowWatermark == 0 {
		cfg.LowWatermark = 3
	}
	if cfg.LowWatermark < 0 {
		return nil, fmt.Errorf("%w: backupcodes: LowWatermark is %d, want 0 or more", factor.ErrConfig, cfg.LowWatermark)
	}
	return &Factor{count: cfg.Count, low: cfg.LowWatermark}, nil
}

// Kind returns mfa.KindBackupCodes.
func (f *Factor) Kind() factor.Kind { return factor.KindBackupCodes }

// Codes is a new set, for the user to keep. It is shown once and must not
// be stored or logged; String and LogValue redact it.
type Codes struct {
	// List holds the codes in display form, "abcd-efgh-jkmnp".
	List []string
}

// String redacts the codes so that printing them reveals nothing.
func (c Codes) String() string {
	return fmt.Sprintf("backupcodes.Codes{%d codes REDACTED}", len(c.List))
}

// GoString redacts the codes in %#v output.
func (c Codes) GoString() string { return c.String() }

// LogValue redacts the codes in log/slog output.
func (c Codes) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Enroll draws a new set of Config.Count codes from in.Rand, hashes them
// with in.Hasher under a fresh salt, and returns the hashes as Data and
// the codes as a *Codes to show. The set is active at once.
func (f *Factor) Enroll(_ context.Context, in factor.EnrollInput) (factor.Enrolled, error) {
	if in.Rand == nil {
		return factor.Enrolled{}, fmt.Errorf("%w: backupcodes: no random source", factor.ErrInvalidInput)
	}
	if in.Hasher == nil {
		return factor.Enrolled{}, errNoHasher
	}
	id := in.Hasher.KeyID()
	off := 0
	if id != "" {
		off = 1 + len(id)
	}
	data := make([]byte, off+header+f.count*hashLen)
	data[0] = version
	if id != "" {
		data[0], data[1] = keyed, byte(len(id))
		copy(data[2:], id)
	}
	salt := data[off+1 : off+header]
	if _, err := io.ReadFull(in.Rand, salt); err != nil {
		return factor.Enrolled{}, fmt.Errorf("mfa: backupcodes: random source: %w", err)
	}
	list := make([]string, f.count)
	seen := make(map[[CodeLen]byte]bool, f.count)
	for i := range list {
		// One byte per character: 256 is a multiple of 32, so the low five
		// bits are uniform.
		var code [CodeLen]byte
		if _, err := io.ReadFull(in.Rand, code[:]); err != nil {
			return factor.Enrolled{}, fmt.Errorf("mfa: backupcodes: random source: %w", err)
		}
		for j, b := range code {
			code[j] = Alphabet[b&31]
		}
		// A repeat among 65-bit codes means the random source is broken;
		// fail rather than hand out a weaker set.
		if seen[code] {
			return factor.Enrolled{}, fmt.Errorf("%w: backupcodes: random source repeats itself", factor.ErrInvalidInput)
		}
		seen[code] = true
		h := in.Hasher.Sum(domain, salt, code[:])
		copy(data[off+header+i*hashLen:], h[:])
		list[i] = string(code[:4]) + "-" + string(code[4:8]) + "-" + string(code[8:])
	}
	return factor.Enrolled{
		Data:       data,
		Counter:    0,
		Active:     true,
		OnePerUser: true,
		Show:       &Codes{List: list},
	}, nil
}

// Errors are built once; a failed verification allocates nothing beyond the
// hash.
var (
	errMalformed = fmt.Errorf("%w: backupcodes: want %d characters of %s, spaces and hyphens", factor.ErrMalformedResponse, CodeLen, Alphabet)
	errWrong     = fmt.Errorf("%w: backupcodes", factor.ErrWrongCode)
	errReplayed  = fmt.Errorf("%w: backupcodes: code used before", factor.ErrReplayed)
	errCorrupt   = fmt.Errorf("%w: backupcodes: corrupt stored data", factor.ErrSealed)
	errNoHasher  = fmt.Errorf("%w: backupcodes: no Hasher", factor.ErrConfig)
	errNoKey     = fmt.Errorf("%w: backupcodes: the set's hash key is not in the ring", factor.ErrSealed)
)

// Shared by every Match so a verification allocates nothing of its own;
// callers treat Match.AMR and Match.Notes as read-only.
var (
	amr      = []string{AMR}
	notesUse = []factor.EventType{factor.EventBackupCodeUsed}
	notesLow = []factor.EventType{factor.EventBackupCodeUsed, factor.EventBackupCodesLow}
)

// Verify checks in.Response against the set stored in in.Factor.Data and
// the used-code bitmap in in.Factor.Counter. A response that is not a code
// after normalisation wraps mfa.ErrMalformedResponse; a code of the set
// already used wraps mfa.ErrReplayed; any other mismatch wraps
// mfa.ErrWrongCode; unreadable stored data wraps mfa.ErrSealed. On a match,
// Match.Counter is the bitmap with the code's bit set, Remaining the codes
// left, and Notes holds mfa.EventBackupCodeUsed, plus
// mfa.EventBackupCodesLow when Remaining is at most Config.LowWatermark.
//
// Exactly one keyed hash is computed per call, whatever the number of
// codes. Match.AMR and Match.Notes are shared between calls and must not be
// modified.
func (f *Factor) Verify(_ context.Context, in factor.VerifyInput) (factor.Match, error) {
	used := in.Factor.Counter
	id, data, ok := split(in.Factor.Data)
	n, ok2 := size(data, used)
	if !ok || !ok2 {
		return factor.Match{}, errCorrupt
	}
	code, ok := normalize(in.Response)
	if !ok {
		return factor.Match{}, errMalformed
	}
	if in.Hasher == nil {
		return factor.Match{}, errNoHasher
	}
	h, ok := in.Hasher.SumKey(id, domain, data[:saltLen], code[:])
	if !ok {
		return factor.Match{}, errNoKey
	}

	// Compare with every hash, no early exit; select the index by mask.
	// Codes in a set are distinct, so at most one matches.
	var found, idx int
	for i := 0; i < n; i++ {
		eq := subtle.ConstantTimeCompare(h[:], data[saltLen+i*hashLen:saltLen+(i+1)*hashLen])
		mask := -eq
		idx = idx&^mask | i&mask
		found |= eq
	}
	if found == 0 {
		return factor.Match{}, errWrong
	}
	bit := int64(1) << idx
	if used&bit != 0 {
		return factor.Match{}, errReplayed
	}
	used |= bit
	m := factor.Match{
		Counter:   used,
		AMR:       amr,
		AAL:       factor.AAL2,
		Remaining: n - bits.OnesCount64(uint64(used)),
		Notes:     notesUse,
	}
	if m.Remaining <= f.low {
		m.Notes = notesLow
	}
	return m, nil
}

// Remaining implements [mfa.Remainer]: the codes of the set not yet used,
// or -1 when the stored record is malformed.
func (f *Factor) Remaining(rec store.Factor) int {
	_, data, ok := split(rec.Data)
	n, ok2 := size(data, rec.Counter)
	if !ok || !ok2 {
		return -1
	}
	return n - bits.OnesCount64(uint64(rec.Counter))
}

// split returns the hash key ID of a stored set and its data from the
// salt on, and false when the header is malformed.
func split(data []byte) (string, []byte, bool) {
	switch {
	case len(data) >= 1 && data[0] == version:
		return "", data[1:], true
	case len(data) >= 2 && data[0] == keyed && data[1] != 0 && len(data) >= 2+int(data[1]):
		n := int(data[1])
		return string(data[2 : 2+n]), data[2+n:], true
	}
	return "", nil, false
}

// size returns the number of codes in a stored set, and false when the
// record is malformed: a bad version or length, or a used-code bitmap with
// bits beyond the set.
func size(data []byte, used int64) (int, bool) {
	if len(data) < saltLen+hashLen || (len(data)-saltLen)%hashLen != 0 {
		return 0, false
	}
	n := (len(data) - saltLen) / hashLen
	if n > MaxCount || used < 0 || used>>n != 0 {
		return 0, false
	}
	return n, true
}

// fold maps an input byte to its alphabet character, skip for a
// separator, and 0 for anything that cannot appear in a code.
var fold = func() (t [256]byte) {
	for i := 0; i < len(Alphabet); i++ {
		c := Alphabet[i]
		t[c] = c
		if 'a' <= c && c <= 'z' {
			t[c-'a'+'A'] = c
		}
	}
	for _, p := range [...][2]byte{{'i', '1'}, {'I', '1'}, {'l', '1'}, {'L', '1'}, {'o', '0'}, {'O', '0'}} {
		t[p[0]] = p[1]
	}
	t[' '], t['-'] = skip, skip
	return t
}()

const skip = 0xff

// normalize returns the code s spells: case folded, separators dropped,
// look-alikes mapped. Anything else, or a wrong length, is not a code.
func normalize(s string) (code [CodeLen]byte, ok bool) {
	if len(s) > MaxInput {
		return code, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := fold[s[i]]
		switch {
		case c == skip:
			continue
		case c == 0 || n == CodeLen:
			return code, false
		}
		code[n] = c
		n++
	}
	return code, n == CodeLen
}
