# Sourced by .ci/run: one Ceph RadosGW (S3) for the whole test run; exports PROTODEPOT_TEST_S3_ENDPOINT and keys.
rgw_dir=$(mktemp -d /tmp/protodepot-ci-rgw.XXXXXX)
on_exit "bash test/services/radosgw.sh stop '$rgw_dir'"
rgw_env=$(bash test/services/radosgw.sh start "$rgw_dir")
eval "$rgw_env"
echo "ci: radosgw at $PROTODEPOT_TEST_S3_ENDPOINT"
