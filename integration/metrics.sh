#!/usr/bin/env bash
# integration/metrics.sh: Interop's metrics read by the real tools, while real LXC and libvirt containers run.
# integration/run.sh calls it (one marked place, section 7b) with its interopd serving /metrics on loopback; it
# runs under run.sh's machine-wide lock (fd 8, inherited: it must not take the lock again) and needs:
#   IT_WORK      the run's temp dir            IT_CTL        interopctl
#   IT_METRICS   interopd's metrics address    IT_LXC / IT_VIRT            an LXC container / a libvirt domain, running
#   IT_LXC_ID / IT_VIRT_ID                     their cgroup paths (the id label)
# It starts real Prometheus (Debian's prometheus) scraping interopd's /metrics and real node_exporter
# (prometheus-node-exporter) reading the textfile `interopctl metrics --textfile` writes, both with data dirs in
# IT_WORK, on free loopback ports, started and stopped by pid (fd 8 closed for them); burns CPU inside the LXC
# container and asserts through Prometheus's HTTP query API. Prints ok/not ok lines and
# "integration: N passed, N failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=integration/lib.sh
. "$ROOT/integration/lib.sh"

for v in IT_WORK IT_CTL IT_METRICS IT_LXC IT_VIRT IT_LXC_ID IT_VIRT_ID; do
  [ -n "${!v:-}" ] || { echo "metrics.sh: $v is not set; integration/run.sh runs this script" >&2; exit 2; }
done
for tool in prometheus prometheus-node-exporter curl jq lxc-attach; do
  command -v "$tool" >/dev/null || { echo "metrics.sh: $tool is missing (make deps)" >&2; exit 2; }
done

DIR=$IT_WORK/metrics
mkdir -p "$DIR/textfile" "$DIR/prometheus-data"
PROM_PID=
NODE_PID=
BURN_PID=

finish() {
  set +e
  stop_pid "$BURN_PID" 5
  stop_pid "$PROM_PID" 10
  stop_pid "$NODE_PID" 5
  if [ "$FAILED" -gt 0 ]; then
    for f in prometheus.log node-exporter.log; do
      [ -s "$DIR/$f" ] && { echo "# last lines of $f:"; tail -n 10 "$DIR/$f" | diag; }
    done
  fi
  echo "integration: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
trap 'finish; exit $?' EXIT

# A loopback TCP port nobody listens on (from /proc/net/tcp{,6}: no python needed).
free_port() {
  local p hex
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    hex=$(printf ':%04X ' "$p")
    if ! awk 'NR > 1 { print $2 " " }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q -- "$hex"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# query PROMQL: the result vector of an instant query through Prometheus's HTTP API.
query() {
  curl -sf --max-time 5 "http://$PROM/api/v1/query" --data-urlencode "query=$1" | jq -c '.data.result'
}
# value PROMQL: the value of the first series, or empty.
value() { query "$1" | jq -r '.[0].value[1] // empty'; }

# 1. The textfile for node_exporter: interopctl metrics --textfile (temp file, then rename) --------------
check "interopctl metrics --textfile writes interop.prom" timeout 20 "$IT_CTL" metrics --textfile "$DIR/textfile"
for c in "$IT_LXC" "$IT_VIRT"; do
  check "the textfile has interop_container_info for $c" grep -qF "name=\"$c\"" "$DIR/textfile/interop.prom"
done
check "no temp file is left in the textfile dir" bash -c "[ \"\$(ls -A '$DIR/textfile')\" = interop.prom ]"
check "interopd's /metrics and the textfile have the same families" \
  bash -c "diff <(curl -sf 'http://$IT_METRICS/metrics' | grep '^# TYPE' | sort) <(grep '^# TYPE' '$DIR/textfile/interop.prom' | sort)"

# 2. node_exporter reading the textfile --------------------------------------------------------------
NODE_PORT=$(free_port) || bail "a free port for node_exporter"
prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$DIR/textfile" >"$DIR/node-exporter.log" 2>&1 8>&- &
NODE_PID=$!
wait_until 10 curl -sf --max-time 2 "http://127.0.0.1:$NODE_PORT/metrics" -o /dev/null ||
  bail "node_exporter (pid $NODE_PID) serves on 127.0.0.1:$NODE_PORT"
pass "node_exporter (pid $NODE_PID) serves on 127.0.0.1:$NODE_PORT"
curl -sf --max-time 5 "http://127.0.0.1:$NODE_PORT/metrics" >"$DIR/node.txt"
for c in "$IT_LXC" "$IT_VIRT"; do
  check "node_exporter exposes interop_container_info of $c" grep -qE "^interop_container_info\{.*name=\"$c\"" "$DIR/node.txt"
done
check "node_exporter read the textfile without error" grep -qx 'node_textfile_scrape_error 0' "$DIR/node.txt"

# 3. Prometheus scraping interopd (and node_exporter) ------------------------------------------------
PROM_PORT=$(free_port) || bail "a free port for Prometheus"
PROM=127.0.0.1:$PROM_PORT
cat >"$DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: interop
    static_configs:
      - targets: ['$IT_METRICS']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']
EOF
prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/prometheus-data" \
  --web.listen-address="$PROM" >"$DIR/prometheus.log" 2>&1 8>&- &
PROM_PID=$!
wait_until 30 bash -c "[ \"\$(curl -sf --max-time 2 'http://$PROM/api/v1/query' --data-urlencode 'query=up{job=\"interop\"}' | jq -r '.data.result[0].value[1] // empty')\" = 1 ]" ||
  bail "Prometheus (pid $PROM_PID) on $PROM scrapes interopd (up{job=\"interop\"} == 1)"
pass "Prometheus (pid $PROM_PID) on $PROM scrapes interopd at http://$IT_METRICS/metrics"

for c in "$IT_LXC:$IT_LXC_ID:lxc" "$IT_VIRT:$IT_VIRT_ID:libvirt"; do
  IFS=: read -r name id manager <<<"$c"
  expect_eq "Prometheus: interop_container_info of $manager $name has id $id" "$id" \
    "$(query "interop_container_info{job=\"interop\",manager=\"$manager\",name=\"$name\",state=\"running\"}" | jq -r '.[0].metric.id // empty')"
done
wait_until 10 bash -c "[ -n \"\$(curl -sf --max-time 2 'http://$PROM/api/v1/query' --data-urlencode 'query=interop_container_info{job=\"node\",name=\"$IT_VIRT\"}' | jq -r '.data.result[0].value[1] // empty')\" ]"
expect_eq "Prometheus: the node_exporter textfile brings interop_container_info of $IT_VIRT" 1 \
  "$(value "interop_container_info{job=\"node\",name=\"$IT_VIRT\"}")"
expect_eq "Prometheus: the PromQL join by id names a series (docs/metrics.md)" "$IT_LXC" \
  "$(query "interop_container_memory_bytes{job=\"interop\"} * on(id) group_left(name) interop_container_info{job=\"interop\",name=\"$IT_LXC\"}" | jq -r '.[0].metric.name // empty')"

# 4. CPU seconds grow for a container that burns CPU ---------------------------------------------------
before=$(value "interop_container_cpu_seconds_total{job=\"interop\",name=\"$IT_LXC\"}")
check "Prometheus has CPU seconds for $IT_LXC ($before)" test -n "$before"
timeout 30 lxc-attach -n "$IT_LXC" -- /bin/sh -c 'timeout 12 /bin/sh -c "while :; do :; done"' >/dev/null 2>&1 8>&- &
BURN_PID=$!
grew() {
  local now
  now=$(value "interop_container_cpu_seconds_total{job=\"interop\",name=\"$IT_LXC\"}")
  [ -n "$now" ] && awk -v a="$before" -v b="$now" 'BEGIN { exit !(b - a >= 2) }'
}
if wait_until 20 grew; then
  pass "Prometheus: CPU seconds of $IT_LXC grew by 2 s or more while it burned CPU ($before -> $(value "interop_container_cpu_seconds_total{job=\"interop\",name=\"$IT_LXC\"}"))"
else
  fail "Prometheus: CPU seconds of $IT_LXC grew by 2 s or more while it burned CPU ($before -> $(value "interop_container_cpu_seconds_total{job=\"interop\",name=\"$IT_LXC\"}"))"
fi
check "Prometheus: rate() of the busy container's CPU seconds over 10 s is above 0.1 CPU" \
  bash -c "[ \"\$(curl -sf 'http://$PROM/api/v1/query' --data-urlencode 'query=rate(interop_container_cpu_seconds_total{job=\"interop\",name=\"$IT_LXC\"}[10s]) > 0.1' | jq '.data.result | length')\" = 1 ]"
stop_pid "$BURN_PID" 5
BURN_PID=

# 5. The hooks were counted --------------------------------------------------------------------------
check "Prometheus: interopd counted started hooks (interop_hook_calls_total{event=\"started\",result=\"ok\"} >= 2)" \
  bash -c "[ \"\$(curl -sf 'http://$PROM/api/v1/query' --data-urlencode 'query=interop_hook_calls_total{job=\"interop\",event=\"started\",result=\"ok\"} >= 2' | jq '.data.result | length')\" = 1 ]"

exit 0
