module github.com/mfakit/mfa/smtpsender

go 1.26.0

require (
	github.com/mfakit/mfa v0.0.0
	github.com/wneessen/go-mail v0.8.1
)

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/mfakit/mfa => ../
