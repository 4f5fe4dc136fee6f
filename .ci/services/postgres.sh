# Sourced by .ci/run: one PostgreSQL for the whole test run; exports PROTODEPOT_TEST_PG_URL.
pg_dir=$(mktemp -d /tmp/protodepot-ci-pg.XXXXXX)
on_exit "bash test/services/postgres.sh stop '$pg_dir'"
pg_env=$(bash test/services/postgres.sh start "$pg_dir")
eval "$pg_env"
echo "ci: postgres at $PROTODEPOT_TEST_PG_URL"
