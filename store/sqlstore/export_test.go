package sqlstore

// Classify exposes the driver-error classification to the external tests:
// whether err is a unique violation and whether it is a contention abort
// to retry, as the store of dialect d reads it.
func Classify(d Dialect, err error) (duplicate, retryable bool) {
	s := &Store{d: d}
	return s.duplicate(err), s.retryable(err)
}
