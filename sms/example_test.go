package sms_test

import (
	"fmt"

	"github.com/mfakit/mfa/sms"
)

// A number as typed, normalised to E.164 and masked; a premium-rate
// number is refused at enrolment.
func ExampleParse() {
	d, err := sms.Parse("07400 123456", "GB")
	fmt.Println(d.Address, d.Masked, d.Region, err)
	_, err = sms.Parse("+44 909 879 0000", "")
	fmt.Println(err)
	// Output:
	// +447400123456 +44 •••• •••456 44 <nil>
	// mfa: invalid input: phone number cannot receive SMS codes (not a mobile number)
}
