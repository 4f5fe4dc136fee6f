#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL and RadosGW, both stopped when it ends (however it ends):
#   test/services/with-services.sh node --import tsx --test src/storage/meta/postgres/postgres-metadata-store.test.ts
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pg_dir=$(mktemp -d /tmp/protodepot-pg.XXXXXX)
rgw_dir=$(mktemp -d /tmp/protodepot-rgw.XXXXXX)
trap 'bash "$here/radosgw.sh" stop "$rgw_dir"; bash "$here/postgres.sh" stop "$pg_dir"' EXIT
pg_env=$(bash "$here/postgres.sh" start "$pg_dir")
eval "$pg_env"
rgw_env=$(bash "$here/radosgw.sh" start "$rgw_dir")
eval "$rgw_env"
"$@"
