module github.com/mfakit/mfa/sms

go 1.26.0

require (
	github.com/mfakit/mfa v0.0.0
	github.com/nyaruka/phonenumbers v1.8.1
)

require (
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/mfakit/mfa => ../
