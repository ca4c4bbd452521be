module github.com/mfakit/mfa/examples/lambda

go 1.26.0

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/service/kms v1.63.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/mfakit/mfa v0.0.0-00010101000000-000000000000
	github.com/mfakit/mfa/sealer/awskms v0.0.0-00010101000000-000000000000
	github.com/mfakit/mfa/store/redisstore v0.0.0-00010101000000-000000000000
	github.com/mfakit/mfa/store/sqlstore v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.23.0
)

require (
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/mfakit/mfa => ../..

replace github.com/mfakit/mfa/store/sqlstore => ../../store/sqlstore

replace github.com/mfakit/mfa/store/redisstore => ../../store/redisstore

replace github.com/mfakit/mfa/sealer/awskms => ../../sealer/awskms
