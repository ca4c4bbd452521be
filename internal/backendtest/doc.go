// Package backendtest holds the cross-backend tests of what the store
// contract promises the Verifier: round trips, nothing readable at rest,
// and the cost of a verification on every backend. It is a module of its
// own so the database drivers it needs stay out of the core module.
package backendtest
