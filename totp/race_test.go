//go:build race

package totp_test

// raceEnabled: the race detector's instrumentation moves the hash states
// of the code computation to the heap, so allocation counts differ.
const raceEnabled = true
