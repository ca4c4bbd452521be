package main

// What a begun enrolment or an issued challenge shows the user. Show is
// typed any today; these are the only places that look inside it, so a
// change to its type changes this file alone.

import (
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/backupcodes"
	"github.com/mfakit/mfa/totp"
)

// totpSetup is what a TOTP enrolment shows: the seed, as a QR code and
// as text.
func totpSetup(en *mfa.Enrollment) (*totp.Setup, error) {
	s, ok := en.Show.(*totp.Setup)
	if !ok {
		return nil, fmt.Errorf("totp enrolment shows %T", en.Show)
	}
	return s, nil
}

// backupCodes is what a backup code enrolment shows: the new codes.
func backupCodes(en *mfa.Enrollment) (*backupcodes.Codes, error) {
	c, ok := en.Show.(*backupcodes.Codes)
	if !ok {
		return nil, fmt.Errorf("backup code enrolment shows %T", en.Show)
	}
	return c, nil
}

// keyCreation is what a security key enrolment shows: the options for
// navigator.credentials.create.
func keyCreation(en *mfa.Enrollment) (*protocol.CredentialCreation, error) {
	c, ok := en.Show.(*protocol.CredentialCreation)
	if !ok {
		return nil, fmt.Errorf("webauthn enrolment shows %T", en.Show)
	}
	return c, nil
}

// keyAssertion is what a security key challenge shows: the options for
// navigator.credentials.get.
func keyAssertion(ch *mfa.IssuedChallenge) (*protocol.CredentialAssertion, error) {
	a, ok := ch.Show.(*protocol.CredentialAssertion)
	if !ok {
		return nil, fmt.Errorf("webauthn challenge shows %T", ch.Show)
	}
	return a, nil
}
