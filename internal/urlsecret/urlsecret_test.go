package urlsecret_test

import (
	"testing"

	"github.com/mfakit/mfa/internal/urlsecret"
)

func TestQuoted(t *testing.T) {
	for _, tt := range []struct {
		spec, text string
		want       bool
	}{
		{"postgres://app:s3cret@db:5432/x", "dial db:5432: refused", false},
		{"postgres://app:s3cret@db:5432/x", "cannot parse app:s3cret@db", true},
		{"postgres://app:s3cret@db:5432/x", "user app unknown", false},
		{"postgres://app:p%40ss@db/x", "bad password p@ss", true},
		{"postgres://app:p%40ss@db/x", "bad password p%40ss", true},
		{"postgres://#:PW@0", "fragment #:PW", true},
		{"redis:///:PW@0", `invalid "/:PW@0"`, true},
		{"redis://localhost:6379/0", "anything localhost:6379", false},
		{"sqlite:/tmp/x.db", "no such file /tmp/x.db", false},
	} {
		if got := urlsecret.Quoted(tt.spec, tt.text); got != tt.want {
			t.Errorf("Quoted(%q, %q) = %v, want %v", tt.spec, tt.text, got, tt.want)
		}
	}
}
