package totp

// HOTP exposes the internal code computation to the external tests.
func HOTP(alg Algorithm, key []byte, counter uint64, digits int) uint32 {
	var out [1]uint32
	window(alg, key, counter, digits, out[:])
	return out[0]
}
