// Package awskms is an [mfa.Sealer] backed by AWS KMS with envelope
// encryption, for services that keep their sealing keys in KMS.
//
// An operator creates each data key once with [NewDataKey]: KMS generates
// 256 random bits and returns them wrapped (encrypted) under a KMS key,
// with an encryption context that names the data key. Only the wrapped
// bytes are kept, in the function's configuration or a secret store, as a
// [DataKey] (see [ParseDataKeys] for the text form). At start-up [New]
// asks KMS to unwrap each configured data key, once, and seals and opens
// with them in process through an [mfa.Keyring]. So a verification never
// calls KMS: a Lambda function pays one Decrypt per data key at cold
// start, and one more per data key each Config.TTL.
//
//	client := kms.NewFromConfig(awsCfg)
//	keys, err := awskms.ParseDataKeys(os.Getenv("MFA_SEAL_KEYS"))
//	sealer, err := awskms.New(ctx, awskms.Config{Client: client, KMSKeyID: arn, Keys: keys})
//	v, err := mfa.New(mfa.Config{Sealer: sealer, ...})
//
// Rotation works as with any keyring: make a new data key, list it first,
// keep the old ones until [mfa.Verifier.Reseal] has re-sealed every secret,
// then drop them. Rotating the KMS key itself (automatic rotation) needs
// nothing: KMS unwraps data keys wrapped under its older material.
//
// # Security
//
//   - Fail closed. New fails when any data key does not unwrap (KMS
//     unreachable, access denied, a wrong KMS key, a data key listed under
//     another ID), so a function fails its init rather than serving with
//     fewer keys. When the cache has expired and KMS cannot be reached,
//     Seal and Open fail (wrapping mfa.ErrSealed) until it can.
//   - The encryption context binds a wrapped data key to its ID
//     ("mfa:data-key" = ID): a wrapped key moved to another ID does not
//     unwrap, and CloudTrail names the key in every Decrypt.
//   - With Config.KMSKeyID set, Decrypt is asked to use that KMS key only,
//     so a wrapped key made under another KMS key is refused.
//   - Unwrapped data keys live in process memory for at most Config.TTL.
//     The plaintext of each secret is bound to its user and factor by the
//     associated data mfa passes, exactly as with mfa.Keyring.
package awskms
