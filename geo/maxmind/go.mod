module github.com/mfakit/mfa/geo/maxmind

go 1.26.0

replace github.com/mfakit/mfa => ../..

require (
	github.com/maxmind/mmdbwriter v1.2.0
	github.com/mfakit/mfa v0.0.0-00010101000000-000000000000
	github.com/oschwald/maxminddb-golang/v2 v2.9.1
)

require (
	go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
	golang.org/x/sys v0.50.0 // indirect
)
