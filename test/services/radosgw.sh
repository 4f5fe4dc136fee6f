#!/usr/bin/env bash
# A throwaway Ceph RadosGW (a real S3 server) on loopback for the tests (ours; see DEVELOPMENT.md):
# one monitor, one in-memory OSD, one radosgw, no cephx, one replica, all state under DIR.
#   radosgw.sh start DIR   start the three daemons, wait until S3 answers, print the `export PROTODEPOT_TEST_S3_…` lines
#   radosgw.sh stop DIR    stop them and remove DIR
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
access_key=protodepot-test
secret_key=protodepot-test-secret

free_port() {
  node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

fail() {
  echo "radosgw.sh: $1" >&2
  for log in "$dir"/log/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  stop_daemons
  exit 1
}

stop_daemons() {
  local pidfile pid
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

# Runs a daemon in the foreground (-f) in the background of this script, recording its pid.
daemon() {
  local name=$1
  shift
  "$@" -f >"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

case "$cmd" in
start)
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
    command -v "$tool" >/dev/null || { echo "radosgw.sh: $tool not found: apt-get install radosgw ceph-mon ceph-osd curl" >&2; exit 1; }
  done
  mkdir -p "$dir"/{mon,osd,run,log,rgw}
  dir=$(cd "$dir" && pwd)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  conf=$dir/ceph.conf
  # Tuning measured here (../shared/research/scale-out.md): crc mode or radosgw hangs on -13; short paxos waits
  # start the cluster in ~1.5 s instead of ~13 s; data-avail checks off so a full /tmp does not stop the monitor.
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms bind msgr2 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon data avail crit = 0
mon data avail warn = 0
paxos propose interval = 0.01
paxos min wait = 0.001
run dir = $dir/run
pid file = $dir/run/\$name.ceph.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = /dev/null
[mon.a]
mon data = $dir/mon
[osd.0]
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = 2147483648
osd journal size = 0
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
CONF
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null ||
    fail "monmaptool failed"
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1 || fail "ceph-mon --mkfs failed"
  daemon mon ceph-mon -c "$conf" -i a
  osd_id=$(timeout 30 ceph -c "$conf" osd new "$osd_uuid" 2>"$dir/log/osd-new.out") || fail "ceph osd new failed"
  ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs failed"
  daemon osd ceph-osd -c "$conf" -i "$osd_id"
  # A loaded machine can start the OSD before its monitor client has the map: it then exits at once ("wrong fsid",
  # "unable to update_crush_device_class"). Start it again until the monitor counts it up.
  up=""
  for attempt in $(seq 120); do
    if timeout 10 ceph -c "$conf" osd stat 2>/dev/null | grep -q " 1 up"; then
      up=yes
      break
    fi
    if ! kill -0 "$(cat "$dir/run/osd.pid")" 2>/dev/null; then
      echo "radosgw.sh: osd exited during start (attempt $attempt), starting it again" >&2
      daemon osd ceph-osd -c "$conf" -i "$osd_id"
    fi
    sleep 0.5
  done
  [ -n "$up" ] || fail "the OSD did not come up"
  daemon rgw radosgw -c "$conf" -n client.rgw
  # The OSD may still be booting (its pools not yet writable) on a loaded machine: retry for a while.
  created=""
  for _ in $(seq 60); do
    if timeout 60 radosgw-admin -c "$conf" user create --uid=protodepot-test --display-name=protodepot-test \
      --access-key="$access_key" --secret-key="$secret_key" >"$dir/log/user.out" 2>&1; then
      created=yes
      break
    fi
    sleep 0.5
  done
  [ -n "$created" ] || { tail -n 20 "$dir/log/user.out" >&2; fail "radosgw-admin user create failed"; }
  for _ in $(seq 300); do
    # An anonymous ListBuckets answers 200 with an empty list once the gateway serves requests.
    if curl -sf -o /dev/null "http://127.0.0.1:$rgw_port/"; then
      echo "export PROTODEPOT_TEST_S3_ENDPOINT=http://127.0.0.1:$rgw_port"
      echo "export PROTODEPOT_TEST_S3_ACCESS_KEY=$access_key"
      echo "export PROTODEPOT_TEST_S3_SECRET_KEY=$secret_key"
      exit 0
    fi
    sleep 0.1
  done
  fail "radosgw did not answer on 127.0.0.1:$rgw_port within 30 s"
  ;;
stop)
  if [ -d "$dir" ]; then
    dir=$(cd "$dir" && pwd)
    stop_daemons
    rm -rf "$dir"
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
