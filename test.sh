#!/usr/bin/env bash
# The repository's test command: every module of the workspace (go.work),
# with the race detector. Extra arguments go to `go test` (for example
# -count=1 or -run Name).
#
# Tests that need a server run when its variable is set and skip
# otherwise; this script names each backend it will skip, because
# `go test` without -v prints nothing for a skipped test.
set -euo pipefail
cd "$(dirname "$0")"

skipped=0
for pair in \
  "PostgreSQL:MFA_TEST_POSTGRES_DSN" \
  "MySQL/MariaDB:MFA_TEST_MYSQL_DSN" \
  "Redis:MFA_TEST_REDIS_URL" \
  "local-kms (KMS sealer):MFA_TEST_KMS_ENDPOINT" \
  "SMTP (maildev):MFA_TEST_SMTP_URL" \
  "SMTP over TLS (smtp-server):MFA_TEST_SMTP_STARTTLS_URL" \
  "Redis Cluster:MFA_TEST_REDIS_CLUSTER" \
  "MongoDB (FerretDB):MFA_TEST_MONGO_URL"; do
  name=${pair%%:*} var=${pair#*:}
  if [ -z "${!var:-}" ]; then
    echo "skip: $name tests, set $var to run them"
    skipped=1
  fi
done
if ! command -v chromium >/dev/null 2>&1; then
  echo "skip: the browser test, install chromium to run it"
  skipped=1
fi
[ "$skipped" = 0 ] || echo

# One pattern per module: ./... does not cross into nested modules.
mapfile -t modules < <(go list -m -f '{{.Dir}}/...')
exec go test -race "$@" "${modules[@]}"
