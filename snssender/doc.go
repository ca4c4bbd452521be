// Package snssender delivers the codes of package sms with Amazon SNS
// (aws-sdk-go-v2), as transactional SMS. It is a module of its own
// (github.com/mfakit/mfa/snssender), so only applications that send SMS
// this way pull the AWS SDK.
//
//	awsCfg, err := config.LoadDefaultConfig(ctx)
//	s, err := snssender.New(snssender.Config{Client: sns.NewFromConfig(awsCfg), MaxPrice: "0.50"})
//	f, err := sms.New(sms.Config{Sender: s, Regions: []string{"GB", "IE"}})
//
// # Security
//
//   - Only E.164 numbers are published (package sms normalises them);
//     the message is Message.Text alone.
//   - Cost: Config.MaxPrice caps the price of one message, and the
//     account's SNS spend limit caps the month; package sms's caps (per
//     number, per country calling code, per user, per IP, in all) are
//     counted before Publish is called.
//   - Credentials come from the AWS SDK's configuration (a role, not keys
//     in code). An error from Publish may quote the number: it is for the
//     application's logs; the Verifier never puts it in an event.
//
// # Testing
//
// No SNS emulator can be reached from this repository's CI, so the test
// points the real SDK client at a local HTTP server and checks the request
// it sends: the Publish action, number, text and SMS attributes, and a
// SigV4 signature that the SDK's own signer, given the same credentials,
// reproduces. It does not prove that AWS accepts the request.
package snssender
