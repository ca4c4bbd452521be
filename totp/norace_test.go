//go:build !race

package totp_test

const raceEnabled = false
