package sms

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/sentcode"
	"github.com/nyaruka/phonenumbers"
)

// Kind is the factor kind of codes sent by SMS.
const Kind factor.Kind = "sms"

// EventUsed is added to each successful use of an SMS code: SMS is a
// restricted authenticator under NIST SP 800-63B, and each use is to be
// seen.
const EventUsed factor.EventType = "sms.restricted_used"

// Config configures a [Factor]. Sender is required; every other field is
// safe when zero.
type Config struct {
	// Sender delivers the codes (package snssender, or your own; a
	// sentcode.Console in development). Required.
	Sender sentcode.Sender
	// Template renders the message; only its Text is sent. Default
	// sentcode.DefaultTemplate with Issuer.
	Template sentcode.Template
	// Issuer names your service in the default message.
	Issuer string
	// Digits per code: 6 to 8. Default 6.
	Digits int
	// TTL is how long a code works: at most 10 minutes. Default 5 minutes.
	TTL time.Duration
	// SendTimeout bounds one Send. Default 10 seconds.
	SendTimeout time.Duration
	// DefaultRegion reads numbers typed without a leading + as national
	// numbers of this ISO 3166 region ("GB"). Default none: a number
	// must start with + and its country calling code.
	DefaultRegion string
	// Regions, when set, lists the ISO 3166 regions (e.g. "GB", "US")
	// whose numbers may be enrolled; others are refused. Default: every
	// region. Listing only the countries you serve is the strongest
	// defence against SMS pumping.
	Regions []string
	// UniqueDestination: a number may be enrolled by one user only; a
	// second user's enrolment of it fails with mfa.ErrInvalidInput.
	// Default false: several users may share a number.
	UniqueDestination bool
	// Caps limit sends per number and per country calling code, and the
	// resend cool-down. Defaults: 5 per number per hour, 30 s between
	// two, and 200 per country calling code per hour across all users
	// (raise PerRegion for the countries most of your users are in by
	// listing them in Regions and setting it to your traffic).
	Caps sentcode.Caps
}

// Factor sends one-time codes by SMS. It implements factor.Factor,
// factor.Challenger, factor.IssueCapper and factor.Restricted; configure
// it in mfa.Config.Factors.
type Factor struct {
	*sentcode.Factor
}

// Restricted implements factor.Restricted: SMS is a restricted
// authenticator under NIST SP 800-63B.
func (*Factor) Restricted() {}

// New validates cfg and returns a Factor. Errors wrap mfa.ErrConfig.
func New(cfg Config) (*Factor, error) {
	ch := channel{defaultRegion: strings.ToUpper(cfg.DefaultRegion)}
	if ch.defaultRegion != "" && phonenumbers.GetCountryCodeForRegion(ch.defaultRegion) == 0 {
		return nil, fmt.Errorf("%w: sms: unknown DefaultRegion", factor.ErrConfig)
	}
	if len(cfg.Regions) > 0 {
		ch.regions = map[string]bool{}
		for _, r := range cfg.Regions {
			r = strings.ToUpper(r)
			if phonenumbers.GetCountryCodeForRegion(r) == 0 {
				return nil, fmt.Errorf("%w: sms: unknown region %q in Regions", factor.ErrConfig, r)
			}
			ch.regions[r] = true
		}
	}
	caps := cfg.Caps
	if caps.PerRegion == 0 {
		caps.PerRegion = 200
	}
	f, err := sentcode.New(sentcode.Config{
		Kind: Kind, Channel: ch, Sender: cfg.Sender, Template: cfg.Template, Issuer: cfg.Issuer,
		Digits: cfg.Digits, TTL: cfg.TTL, SendTimeout: cfg.SendTimeout, UniqueDestination: cfg.UniqueDestination,
		Caps: caps, AMR: []string{"sms", "mca"}, AAL: factor.AAL2, Notes: []factor.EventType{EventUsed},
	})
	if err != nil {
		return nil, err
	}
	return &Factor{f}, nil
}

type channel struct {
	defaultRegion string
	regions       map[string]bool // nil: all
}

// Parse implements sentcode.Channel.
func (c channel) Parse(s string) (sentcode.Destination, error) {
	return parse(s, c.defaultRegion, c.regions)
}

// Parse reads a phone number as a user typed it ("+44 7700 900123",
// "+1 (201) 555-0123") and returns it normalised to E.164, masked
// ("+44 •••• ••• 123") and with its country calling code as the region
// the per-country cap counts. Numbers without a leading + are read in
// defaultRegion ("" refuses them). Only numbers that can take an SMS
// (mobile, or fixed line or mobile where a plan cannot tell) are
// accepted: premium-rate, shared-cost, toll-free, pager, VoIP and
// unknown types are refused, as are invalid numbers; every refusal wraps
// factor.ErrInvalidInput and never quotes the input.
func Parse(s, defaultRegion string) (sentcode.Destination, error) {
	return parse(s, strings.ToUpper(defaultRegion), nil)
}

// maxNumber bounds what is handed to the parser.
const maxNumber = 64

func parse(s, defaultRegion string, regions map[string]bool) (sentcode.Destination, error) {
	bad := func(why string) (sentcode.Destination, error) {
		return sentcode.Destination{}, fmt.Errorf("%w: phone number %s", factor.ErrInvalidInput, why)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return bad("holds a control character")
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxNumber {
		return bad("empty or too long")
	}
	region := defaultRegion
	if strings.HasPrefix(s, "+") {
		region = ""
	} else if region == "" {
		return bad("must start with + and the country calling code")
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return bad("is not a valid number")
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return bad("cannot receive SMS codes (not a mobile number)")
	}
	if regions != nil && !regions[phonenumbers.GetRegionCodeForNumber(num)] {
		return bad("is in a region that is not served")
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	cc := strconv.Itoa(int(num.GetCountryCode()))
	return sentcode.Destination{Address: e164, Masked: mask(phonenumbers.Format(num, phonenumbers.INTERNATIONAL), len(cc)), Region: cc}, nil
}

// mask hides every digit of an international format but the country
// calling code (ccDigits long, after the +) and the last three.
func mask(intl string, ccDigits int) string {
	total := 0
	for _, r := range intl {
		if r >= '0' && r <= '9' {
			total++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range intl {
		if r >= '0' && r <= '9' {
			seen++
			if seen > ccDigits && seen <= total-3 {
				b.WriteString("•")
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
