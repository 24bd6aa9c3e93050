#!/usr/bin/env bash
# make bench: how much Interop's hooks and daemon cost, measured on this host (DESIGN.md section 12).
#   1. interopctl hook (the published NativeAOT binary) per lifecycle event, LXC and libvirt, against
#      busctl call of the same D-Bus method on the same private bus and the same interopd (hyperfine).
#   1b. the LXC pre-start again with BENCH_SIBLINGS (default 2000) other dirs beside the container in every hierarchy.
#   2. lxc-start to RUNNING of one busybox container: no hooks, two trivial /bin/sh hooks, Interop's
#      include file (the three taking turns, one start each per round; lxc-stop -k between starts).
#   3./4. interopd with 100, 1,000 and 10,000 registered containers (one live thread per container,
#      each in its own cpuset cgroup): start-up reconcile, VmRSS, ListContainers and GetContainerByPid
#      over the bus (hyperfine) and in process (BenchmarkDotNet, bench/Interop.Benchmarks).
#   4b. the state file at 10,000 mappings: a snapshot write and a read, in process (BenchmarkDotNet, no cgroups).
#   5. at BENCH_SCRAPE_SCALE containers (default 1000; each with a dir in every hierarchy): a /metrics scrape
#      (curl, hyperfine; interopd's own collect time from interop_metrics_collect_duration_seconds), and the
#      stop hook with a scrape a second and with scrapes back to back, against the same hook without them.
#   6. the same hook and lxc-start ratios on a systemd host, inside a nested systemd host (tools/bench-systemd.sh).
# Everything lives under a scratch cgroup "interop-bench.PID" in each hierarchy and a temp dir; every
# process is stopped by its pid and every dir removed on exit, also on Ctrl-C or failure.
# Run as root on a cgroup v1 or hybrid host. Knobs: BENCH_RUNS (hook runs, default 30),
# BENCH_LXC_RUNS (default 30), BENCH_LXC_TRACE_RUNS (part 2's starts under -l TRACE, default 15),
# BENCH_SCALES (default "100 1000 10000"), BENCH_BDN=0 (parts 3-4 without BenchmarkDotNet), INTEROP_CTL, INTEROPD.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ctl=${INTEROP_CTL:-$repo/artifacts/interopctl/interopctl}
interopd=${INTEROPD:-$repo/artifacts/interopd/interopd}
runs=${BENCH_RUNS:-30}
lxc_runs=${BENCH_LXC_RUNS:-30}
scales=${BENCH_SCALES:-100 1000 10000}
scrape_scale=${BENCH_SCRAPE_SCALE:-1000}
# BENCH_PARTS: which parts run (default all): hooks (1), lxc (2), virsh (2b), scale (3, 4, 4b, 5), systemd (6).
parts=" ${BENCH_PARTS:-hooks lxc virsh scale systemd} "
want() { [[ $parts == *" $1 "* ]]; }

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it creates cgroups and starts containers)"
for tool in hyperfine busctl dbus-daemon jq gcc lxc-create lxc-start lxc-wait lxc-stop python3 dotnet curl; do
  command -v "$tool" >/dev/null || die "$tool is missing (make deps)"
done
[ -x "$ctl" ] && [ -x "$interopd" ] || die "run make publish first ($ctl, $interopd)"
[ -z "${BENCH_PROFILE:-}" ] || command -v perf >/dev/null || die "BENCH_PROFILE needs perf (Debian package linux-perf)"
cpuset=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk '$2 ~ /(^|,)cpuset(,|$)/ {print $1; exit}')
[ -n "$cpuset" ] || die "needs the cgroup v1 cpuset hierarchy (one thread per cgroup); this host has none"

tmp=$(mktemp -d /tmp/interop-bench.XXXXXX)
scratch=interop-bench.$$          # the dot keeps libvirt from renaming the component (".partition")
root=$scratch/machine.d           # the shared root of parts 1 and 2; its name has a dot for the same reason
bus_path=$tmp/bus
bus="unix:path=$bus_path"
private=$tmp/run-interop/private  # interopd's root-only socket for the hooks (production: /run/interop/private)
results=$tmp/results
mapfile -t mounts < <(findmnt -rn -t cgroup,cgroup2 -o TARGET | grep '^/sys/fs/cgroup/')
pids=()        # everything started here, stopped by pid at exit
helpers=()
lxc_path=$tmp/lxc
containers=()

lv_pid=
made_run_interop=
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$lv_pid" ] && kill -0 "$lv_pid" 2>/dev/null; then
    virsh -q -c lxc:/// destroy bench-virt >/dev/null 2>&1
    virsh -q -c lxc:/// undefine bench-virt >/dev/null 2>&1
  fi
  for c in "${containers[@]}"; do
    lxc-stop -P "$lxc_path" -n "$c" -k >/dev/null 2>&1
  done
  for p in "${helpers[@]}" "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${helpers[@]}" "${pids[@]}"; do
    wait "$p" 2>/dev/null
  done
  # Children first; the tasks were all ours and are gone now. A cgroup may take a moment to empty.
  for m in "${mounts[@]}"; do
    [ -d "$m/$scratch" ] || continue
    for _ in 1 2 3 4 5; do
      find "$m/$scratch" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$m/$scratch" ] || break
      sleep 0.2
    done
    [ -d "$m/$scratch" ] && echo "bench: could not remove $m/$scratch" >&2
  done
  [ -n "$made_run_interop" ] && rmdir /run/interop 2>/dev/null
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note() { printf '\n== %s\n' "$*" >&2; }
# record KEY VALUE: one result line, printed in the summary.
record() { echo "$1 $2" >> "$results"; }
spread() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'; } # stdin: numbers; median min max
get() { awk -v k="$1" '$1 == k {print $2}' "$results" | tail -n 1; }
# hf NAME [hyperfine args...]: runs hyperfine, records NAME.<i> medians in ms (one per command).
hf() {
  local name=$1; shift
  hyperfine --style basic --export-json "$tmp/$name.json" "$@" >&2
  local i=0
  while read -r median min max; do
    record "$name.$i" "$median"
    record "$name.$i.min" "$min"
    record "$name.$i.max" "$max"
    i=$((i + 1))
  done < <(jq -r '.results[] | "\(.median * 1000) \(.min * 1000) \(.max * 1000)"' "$tmp/$name.json")
}

# --- scratch cgroups ----------------------------------------------------------------------------
# The scratch root in every hierarchy (the boundary interopd may write below). cpuset needs cpus and
# mems before anything can join, and clone_children so the dirs below inherit them.
for m in "${mounts[@]}"; do
  mkdir "$m/$scratch"
done
cat "$cpuset/cpuset.cpus" > "$cpuset/$scratch/cpuset.cpus"
cat "$cpuset/cpuset.mems" > "$cpuset/$scratch/cpuset.mems"
echo 1 > "$cpuset/$scratch/cgroup.clone_children"

# --- private bus and interopd --------------------------------------------------------------------
sed "s|@LISTEN@|$bus|; s|@POLICY@|$repo/config/dbus/org.interop.Interop1.conf|" "$repo/tools/private-system-bus.conf.in" > "$tmp/bus.conf"
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile &
pids+=($!)
for _ in $(seq 100); do [ -S "$bus_path" ] && break; sleep 0.05; done
[ -S "$bus_path" ] || die "the private bus did not come up"

# NLog: ${processtime} stamps every line with the time since interopd started (start-up figures).
cat > "$tmp/nlog.config" <<'XML'
<nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <targets><target xsi:type="Console" name="err" stderr="true" layout="${processtime} ${level:uppercase=true} ${logger:shortName=true}: ${message}"/></targets>
  <rules><logger name="*" minlevel="Info" writeTo="err"/></rules>
</nlog>
XML

# interopd's /metrics (part 5): a loopback port nobody listens on.
for _ in $(seq 50); do
  metrics_port=$((20000 + RANDOM % 30000))
  awk 'NR > 1 { print $2 }' /proc/net/tcp /proc/net/tcp6 | grep -qi ":$(printf '%04X' "$metrics_port")\$" || break
done
metrics_url=http://127.0.0.1:$metrics_port/metrics

# The bus calls of every part, and the hooks as the managers run them (interopctl hook ..., no option before
# "hook"): on the private socket, as a root hook on an installed host; icb: the same over the bus, for the record.
mgr="org.interop.Interop1 /org/interop/Interop1 org.interop.Interop1.Manager"
bc="busctl --address=$bus call $mgr"
ic="INTEROP_BUS_ADDRESS=unix:path=$private $ctl"
icb="INTEROP_BUS_ADDRESS=$bus $ctl"

# write_config FILE SHARED_ROOT STATE_FILE
write_config() {
  cat > "$1" <<YAML
shared_root: /$2
boundary: /$scratch
bus: $bus
state_file: $3
policy: strict
reaper_interval: 0
metrics_listen: 127.0.0.1:$metrics_port
private_socket: $private
YAML
}

has_name() {
  busctl --address="$bus" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.interop.Interop1 2>/dev/null | grep -q true
}

# start_daemon CONFIG LOG: starts interopd, waits for its bus name; sets daemon_pid and startup_ms.
start_daemon() {
  local t0 t1
  t0=$(date +%s%N)
  "$interopd" --config "$1" --log-config "$tmp/nlog.config" 2> "$2" &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for _ in $(seq 3000); do
    has_name && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$2" >&2; die "interopd exited"; }
    sleep 0.005
  done
  has_name || die "interopd did not take its bus name: $(tail -n 3 "$2")"
  t1=$(date +%s%N)
  startup_ms=$(( (t1 - t0) / 1000000 ))
}

stop_daemon() {
  kill "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  while has_name; do sleep 0.01; done
}

# ms of "HH:mm:ss.fff" from ${processtime}
log_ms() {
  grep -m1 "$2" "$1" | awk '{split($1, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000}'
}

if want hooks || want lxc || want virsh; then
mkdir -p "$tmp/state"
write_config "$tmp/interop.yaml" "$root" "$tmp/state/state.yaml"
start_daemon "$tmp/interop.yaml" "$tmp/interopd.log"
note "interopd pid $daemon_pid on $bus, shared root /$root (start-up $startup_ms ms)"

if want hooks; then
# --- 1. hooks against busctl --------------------------------------------------------------------
# Live leaders: a sleep per manager, moved into its container dir in every hierarchy but memory
# (this shell's memory cgroup is the machine agent's; nothing leaves it) and the v2 one.
leader_dirs() { # DIR: creates DIR below every non-memory v1 hierarchy and moves pid $2 there
  local m
  for m in "${mounts[@]}"; do
    case $m in */memory|*/unified) continue ;; esac
    mkdir -p "$m/$1"
    echo "$2" > "$m/$1/cgroup.procs"
  done
}
sleep 100000 &
lxc_leader=$!
pids+=("$lxc_leader")
leader_dirs "$root/lxc.payload.bench-lxc" "$lxc_leader"
sleep 100000 &
virt_leader=$!
pids+=("$virt_leader")
leader_dirs "$root/lxc-$virt_leader-bench-lv.libvirt-lxc" "$virt_leader"

uuid=0b8ae7a4-3f6c-4c1e-9d0a-6f1e2d3c4b5a
virt_xml() { # NAME ID_ATTR
  cat <<XML
<domain type='lxc'$2>
  <name>$1</name>
  <uuid>$uuid</uuid>
  <memory unit='KiB'>65536</memory>
  <resource><partition>/$root</partition></resource>
  <os><type arch='x86_64'>exe</type><init>/bin/sh</init></os>
  <devices><emulator>/usr/lib/libvirt/libvirt_lxc</emulator></devices>
</domain>
XML
}
virt_xml bench-lvp "" > "$tmp/prepare.xml"
virt_xml bench-lv " id='$virt_leader'" > "$tmp/started.xml"

lxc_env="LXC_HOOK_VERSION=0 LXC_CGNS_AWARE=1 LXC_LOG_LEVEL=ERROR LXC_CONFIG_FILE=/var/lib/lxc/NAME/config LXC_ROOTFS_MOUNT=/usr/lib/x86_64-linux-gnu/lxc/rootfs LXC_ROOTFS_PATH=/var/lib/lxc/NAME/rootfs"
lxc_facts_p="4 config_file /var/lib/lxc/bench-lxp/config rootfs_path /var/lib/lxc/bench-lxp/rootfs cgns_aware 1 hook pre-start"
lxc_facts="4 config_file /var/lib/lxc/bench-lxc/config rootfs_path /var/lib/lxc/bench-lxc/rootfs cgns_aware 1 hook"
virt_facts="2 uuid $uuid partition /$root"
register_lxc="$bc RegisterContainer ssua{ss} lxc bench-lxc $lxc_leader 0 >/dev/null"
register_virt="$bc RegisterContainer ssua{ss} libvirt bench-lv $virt_leader $virt_facts >/dev/null"
release_lxc="$bc ReleaseContainer ssa{ss} lxc bench-lxc 0 >/dev/null"
release_virt="$bc ReleaseContainer ssa{ss} libvirt bench-lv $virt_facts >/dev/null"
hfh=(--warmup 3 --runs "$runs")

# Every measured command can run any number of times: prepare is for containers that are not running
# and have no dir with tasks (bench-lxp, bench-lvp: a prepare of bench-lv would rightly refuse, as its
# leader's dir is the one its next start would collide with); started and released get the opposite state
# back from a --prepare command that hyperfine does not time.
note "1. hooks: interopctl (NativeAOT) vs busctl call, $runs runs each"
env_lxc() { echo "LXC_NAME=$1 ${lxc_env//NAME/$1}"; }
hf lxc-prepare "${hfh[@]}" \
  -n "interopctl hook lxc pre-start" "$(env_lxc bench-lxp) $ic hook lxc bench-lxp lxc pre-start" \
  -n "busctl PrepareContainer" "$bc PrepareContainer ssa{ss} lxc bench-lxp $lxc_facts_p" \
  -n "interopctl hook lxc pre-start (over the bus)" "$(env_lxc bench-lxp) $icb hook lxc bench-lxp lxc pre-start"
hf lxc-started "${hfh[@]}" --prepare "$release_lxc" \
  -n "interopctl hook lxc start-host" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader $ic hook lxc bench-lxc lxc start-host" \
  -n "busctl RegisterContainer" "$bc RegisterContainer ssua{ss} lxc bench-lxc $lxc_leader $lxc_facts start-host" \
  -n "interopctl hook lxc start-host (over the bus)" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader $icb hook lxc bench-lxc lxc start-host"
hf lxc-stopped "${hfh[@]}" --prepare "$register_lxc" \
  -n "interopctl hook lxc stop" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader LXC_TARGET=stop $ic hook lxc bench-lxc lxc stop" \
  -n "busctl StopContainer" "$bc StopContainer ssa{ss} lxc bench-lxc 6 config_file /var/lib/lxc/bench-lxc/config rootfs_path /var/lib/lxc/bench-lxc/rootfs cgns_aware 1 hook stop target stop namespaces ''" \
  -n "interopctl hook lxc stop (over the bus)" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader LXC_TARGET=stop $icb hook lxc bench-lxc lxc stop"
hf lxc-released "${hfh[@]}" --prepare "$register_lxc" \
  -n "interopctl hook lxc post-stop" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader LXC_TARGET=stop $ic hook lxc bench-lxc lxc post-stop" \
  -n "busctl ReleaseContainer" "$bc ReleaseContainer ssa{ss} lxc bench-lxc $lxc_facts post-stop" \
  -n "interopctl hook lxc post-stop (over the bus)" "$(env_lxc bench-lxc) LXC_PID=$lxc_leader LXC_TARGET=stop $icb hook lxc bench-lxc lxc post-stop"
hf virt-prepare "${hfh[@]}" \
  -n "interopctl hook libvirt prepare" "$ic hook libvirt bench-lvp prepare begin - < $tmp/prepare.xml" \
  -n "busctl PrepareContainer" "$bc PrepareContainer ssa{ss} libvirt bench-lvp $virt_facts" \
  -n "interopctl hook libvirt prepare (over the bus)" "$icb hook libvirt bench-lvp prepare begin - < $tmp/prepare.xml"
hf virt-started "${hfh[@]}" --prepare "$release_virt" \
  -n "interopctl hook libvirt started" "$ic hook libvirt bench-lv started begin - < $tmp/started.xml" \
  -n "busctl RegisterContainer" "$bc RegisterContainer ssua{ss} libvirt bench-lv $virt_leader $virt_facts" \
  -n "interopctl hook libvirt started (over the bus)" "$icb hook libvirt bench-lv started begin - < $tmp/started.xml"
hf virt-stopped "${hfh[@]}" --prepare "$register_virt" \
  -n "interopctl hook libvirt stopped" "$ic hook libvirt bench-lv stopped end - < $tmp/started.xml" \
  -n "busctl StopContainer" "$bc StopContainer ssa{ss} libvirt bench-lv $virt_facts" \
  -n "interopctl hook libvirt stopped (over the bus)" "$icb hook libvirt bench-lv stopped end - < $tmp/started.xml"
hf virt-released "${hfh[@]}" --prepare "$register_virt" \
  -n "interopctl hook libvirt release" "$ic hook libvirt bench-lv release end - < $tmp/started.xml" \
  -n "busctl ReleaseContainer" "$bc ReleaseContainer ssa{ss} libvirt bench-lv $virt_facts" \
  -n "interopctl hook libvirt release (over the bus)" "$icb hook libvirt bench-lv release end - < $tmp/started.xml"
hf ping "${hfh[@]}" -n "busctl Peer.Ping (floor)" "busctl --address=$bus call org.interop.Interop1 /org/interop/Interop1 org.freedesktop.DBus.Peer Ping"

# 1b. The same pre-start with many other containers' dirs beside it: prepare looks for bench-lxp's leftovers among
# its siblings in every hierarchy (interopd keeps the parent's children by inotify, so this should not grow).
siblings=${BENCH_SIBLINGS:-2000}
note "1b. interopctl hook lxc pre-start with $siblings sibling dirs in each of ${#mounts[@]} hierarchies"
for m in "${mounts[@]}"; do
  (cd "$m/$root" && seq -f "lxc.payload.bench-sib%g" "$siblings" | xargs mkdir)
done
# BENCH_PROFILE=FILE: interopd's profile over these runs (perf record -g), its symbols by share written to FILE and the
# data kept as FILE.data (perf report -i FILE.data).
if [ -n "${BENCH_PROFILE:-}" ]; then
  perf record -q -g -o "$tmp/perf.data" -p "$daemon_pid" 2>/dev/null & perf_pid=$!
  sleep 0.5
fi
hf lxc-prepare-siblings "${hfh[@]}" \
  -n "interopctl hook lxc pre-start, $siblings siblings" "$(env_lxc bench-lxp) $ic hook lxc bench-lxp lxc pre-start"
if [ -n "${BENCH_PROFILE:-}" ]; then
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -v -e '^#' -e '^$' > "$BENCH_PROFILE" || true
  mv "$tmp/perf.data" "$BENCH_PROFILE.data"
fi
for m in "${mounts[@]}"; do
  (cd "$m/$root" && seq -f "lxc.payload.bench-sib%g" "$siblings" | xargs rmdir)
done
eval "$release_lxc"; eval "$release_virt"
for p in "$lxc_leader" "$virt_leader"; do kill "$p"; wait "$p" 2>/dev/null || true; done

fi # hooks
if want lxc; then
# --- 2. lxc-start to RUNNING --------------------------------------------------------------------
note "2. lxc-start to RUNNING, $lxc_runs runs each"
mkdir -p "$lxc_path"
printf '#!/bin/sh\nexit 0\n' > "$tmp/trivial-hook"
chmod 0755 "$tmp/trivial-hook"
"$ctl" lxc-config --interopctl "$ctl" --shared-root "/$root" > "$tmp/interop-lxc.conf"
lxc_variant() { # NAME EXTRA_LINES
  printf 'lxc.net.0.type = empty\nlxc.cgroup.dir = %s\n%s\n' "$root" "$2" > "$tmp/$1.conf"
  containers+=("$1")
  timeout 120 lxc-create -P "$lxc_path" -n "$1" -t busybox -f "$tmp/$1.conf" > "$tmp/$1.create.log" 2>&1 ||
    die "lxc-create $1: $(tail -n 3 "$tmp/$1.create.log")"
}
lxc_variant bench-none ""
lxc_variant bench-sh "$(printf 'lxc.hook.pre-start = %s\nlxc.hook.start-host = %s' "$tmp/trivial-hook" "$tmp/trivial-hook")"
lxc_variant bench-interop "lxc.include = $tmp/interop-lxc.conf"
export INTEROP_BUS_ADDRESS=unix:path=$private
start_one() { lxc-start -P "$lxc_path" -n "$1" -d && lxc-wait -P "$lxc_path" -n "$1" -s RUNNING -t 30; }
# LXC reports STOPPED before its post-stop hooks have run: the pause lets the last stop's hooks (Interop's release in
# interopd) finish before the next timed start, for every variant alike.
stop_one() { lxc-stop -P "$lxc_path" -n "$1" -k >/dev/null 2>&1 || true; lxc-wait -P "$lxc_path" -n "$1" -s STOPPED -t 30; sleep 0.3; }
# The three variants take turns, one start each per round (the order reversed every other round), not one block
# of runs after another: on a shared VM the speed drifts over the minutes a block takes (blocks read 1.06x and
# 1.26x for the same build), and taking turns puts that drift into every variant alike.
interleave() { # NAME...: lxc_runs rounds (2 more first, not recorded); records lxc-start-NAME.0 (.min, .max) in ms
  local round c t0 t1 i order
  for round in $(seq -2 "$lxc_runs"); do
    order=("$@")
    if (( round % 2 )); then
      order=(); for (( i = $#; i >= 1; i-- )); do order+=("${!i}"); done
    fi
    for c in "${order[@]}"; do
      stop_one "$c"
      t0=$(date +%s%N)
      start_one "$c" || die "lxc-start $c failed (its log: $lxc_path/$c)"
      t1=$(date +%s%N)
      if (( round > 0 )); then echo "$(( (t1 - t0) / 1000 ))" >> "$tmp/lxc-start-$c.us"; fi
    done
  done
  for c in "$@"; do
    stop_one "$c"
    read -r median min max < <(awk '{ print $1 / 1000 }' "$tmp/lxc-start-$c.us" | spread)
    record "lxc-start-$c.0" "$median"; record "lxc-start-$c.0.min" "$min"; record "lxc-start-$c.0.max" "$max"
  done
}
interleave bench-none bench-sh bench-interop
# Where the time goes, from LXC's own log (-l TRACE, ms stamps; these starts are not timed above): each hook from
# "Executing script" to LXC's next line, summed per start; and the monitor's first cgroup attach (cgroup v1 waits
# for an RCU grace period there), which varies far more than the hooks cost.
trace_runs=${BENCH_LXC_TRACE_RUNS:-15}
for round in $(seq "$trace_runs"); do
  for c in bench-sh bench-interop; do
    stop_one "$c"
    lxc-start -P "$lxc_path" -n "$c" -d -l TRACE -o "$tmp/trace.$c.$round.log" &&
      lxc-wait -P "$lxc_path" -n "$c" -s RUNNING -t 30 || die "lxc-start $c (traced) failed"
  done
done
for c in bench-sh bench-interop; do
  stop_one "$c"
  # Per start: time in hooks, the first attach, and the whole start without that attach (what the variants decide).
  read -r hooks attach_lo attach_hi rest < <(for f in "$tmp"/trace."$c".*.log; do
    awk 'function ms(s) { return (substr(s, 9, 2) * 3600 + substr(s, 11, 2) * 60 + substr(s, 13)) * 1000 }
      $1 != "lxc-start" { next }
      first == "" { first = ms($3) }
      hook != "" { h += ms($3) - hook; hook = "" }
      /run_script_argv/ { hook = ms($3) }
      /cgfsng_monitor_create:/ { mc = ms($3) }
      /cgfsng_monitor_enter:/ && !me { me = ms($3) }
      /Set container state to RUNNING/ { print h, me - mc, ms($3) - first - (me - mc); exit }' "$f"
  done | awk 'function median(v, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
                return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    { h[NR] = $1; a[NR] = $2; r[NR] = $3 }
    END { median(a, NR); printf "%.1f %d %d %.1f\n", median(h, NR), a[int((NR + 3) / 4)], a[int((3 * NR + 3) / 4)], median(r, NR) }')
  record "lxc-trace-$c.hooks" "$hooks"; record "lxc-trace-$c.attach" "$attach_lo-$attach_hi"; record "lxc-trace-$c.rest" "$rest"
done
unset INTEROP_BUS_ADDRESS
grep -q "started lxc bench-interop" "$tmp/interopd.log" || die "the Interop hooks did not register bench-interop (see interopd log)"
fi # lxc

# --- 2b. virsh start of an LXC domain -----------------------------------------------------------------
# A libvirtd of its own, in a private mount namespace (DESIGN.md section 6: no cgroup2 mount there), with
# /etc/libvirt bound to a temp dir (its domain definitions stay there too): hooks/ empty for "without",
# hooks/lxc.d/interop -> interopctl for "with" (libvirt reads its hooks at start only, so libvirtd restarts
# between the two). libvirt hands hooks a
# scrubbed environment: the hook finds the bench's bus as an installed one finds its bus, in
# /etc/interop/interop.yaml (bound to a temp copy that says bus: <the private bus>). It takes the
# integration lock: one libvirtd at a time on the machine.
if want virsh; then
  note "2b. virsh start of an LXC domain, $lxc_runs runs each"
  # shellcheck source=integration/lib.sh
  . "$repo/integration/lib.sh"
  take_integration_lock
  for tool in virsh libvirtd unshare; do command -v "$tool" >/dev/null || die "$tool is missing (make deps)"; done
  lv_driver=$(find /usr/lib /usr/lib64 -name libvirt_driver_lxc.so -path '*connection-driver*' 2>/dev/null | head -n 1)
  [ -n "$lv_driver" ] || die "libvirt's LXC driver (libvirt_driver_lxc.so) is missing (make deps)"
  [ -d /etc/libvirt ] || die "no /etc/libvirt to bind over (is libvirt-daemon installed?)"
  lv=$tmp/libvirt
  mkdir -p "$lv/drivers" "$lv/etc-none/hooks" "$lv/etc-noop/hooks/lxc.d" "$lv/etc-trivial/hooks/lxc.d" "$lv/etc-interop/hooks/lxc.d"
  # For the record: a trivial hook (a shell script that reads the XML and exits 0), and the cheapest hook there is:
  # a small C program that reads nothing and notes each call in a file (so the bench knows libvirt ran it).
  printf '#!/bin/sh\ncat >/dev/null\nexit 0\n' > "$lv/etc-trivial/hooks/lxc.d/trivial"
  chmod 0755 "$lv/etc-trivial/hooks/lxc.d/trivial"
  printf '#include <fcntl.h>\n#include <unistd.h>\nint main(void) { int fd = open("%s", O_WRONLY | O_APPEND | O_CREAT, 0600); return fd < 0 || write(fd, "x", 1) != 1; }\n' \
    "$lv/noop-calls" > "$lv/noop-hook.c"
  gcc -O2 -o "$lv/etc-noop/hooks/lxc.d/noop" "$lv/noop-hook.c"
  ln -s "$lv_driver" "$lv/drivers/"
  # The hook as installed (make install: hooks/lxc.d/interop, a link to interopctl), finding interopd's socket at
  # /run/interop/private (bound to this interopd's in libvirtd's namespace), so it reads no configuration, as on an
  # installed host.
  ln -s "$ctl" "$lv/etc-interop/hooks/lxc.d/interop"
  if [ ! -e /run/interop ]; then
    mkdir /run/interop
    made_run_interop=1
  fi
  echo "log_outputs = \"3:file:$lv/libvirtd.log\"" > "$lv/libvirtd.conf"
  umount_unified=true
  mountpoint -q /sys/fs/cgroup/unified && umount_unified="umount /sys/fs/cgroup/unified"
  lv_start() { # ETC_DIR
    LIBVIRT_DRIVER_DIR=$lv/drivers unshare --mount --propagation private -- sh -c \
      "$umount_unified && mount --bind '$1' /etc/libvirt && mount --bind '$(dirname "$private")' /run/interop && exec libvirtd -f '$lv/libvirtd.conf' -p '$lv/libvirtd.pid'" \
      >> "$lv/libvirtd.out" 2>&1 &
    lv_pid=$!
    pids+=("$lv_pid")
    for _ in $(seq 300); do virsh -q -c lxc:/// version >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "libvirtd did not answer: $(tail -n 3 "$lv/libvirtd.out" "$lv/libvirtd.log" 2>/dev/null)"
  }
  lv_stop() {
    virsh -q -c lxc:/// destroy bench-virt >/dev/null 2>&1 || true
    kill "$lv_pid" 2>/dev/null || true
    wait "$lv_pid" 2>/dev/null || true
    lv_pid=
  }
  cat > "$lv/bench-virt.xml" <<XML
<domain type='lxc'>
  <name>bench-virt</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <resource><partition>/$root</partition></resource>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>sleep 600</initarg></os>
  <on_poweroff>destroy</on_poweroff>
  <devices><console type='pty'/></devices>
</domain>
XML
  vstart="virsh -q -c lxc:/// start bench-virt >/dev/null"
  vstop="virsh -q -c lxc:/// destroy bench-virt >/dev/null 2>&1; true"
  # libvirt reads its hooks when it starts, so a variant runs as a block under a libvirtd of its own. One block per
  # variant caught the VM's drift alone (a trivial hook read 1.01x in one run, 1.22x in the next): three passes of
  # blocks instead, the order reversed in the second, and each variant's median over all its runs.
  block_runs=$(( (lxc_runs + 2) / 3 ))
  for pass in 1 2 3; do
    order=(none noop trivial interop)
    if (( pass == 2 )); then order=(interop trivial noop none); fi
    for variant in "${order[@]}"; do
      lv_start "$lv/etc-$variant"
      virsh -q -c lxc:/// define "$lv/bench-virt.xml" >/dev/null || die "virsh define failed: $(tail -n 3 "$lv/libvirtd.log")"
      hyperfine --style basic --export-json "$tmp/virsh-$variant.$pass.json" --warmup 2 --runs "$block_runs" \
        --prepare "$vstop" --cleanup "$vstop" -n "virsh start ($variant, pass $pass)" "$vstart" >&2
      virsh -q -c lxc:/// undefine bench-virt >/dev/null
      lv_stop
    done
  done
  for variant in none noop trivial interop; do
    read -r median min max < <(jq -r '.results[0].times[] * 1000' "$tmp"/virsh-"$variant".[123].json | spread)
    record "virsh-$variant.0" "$median"; record "virsh-$variant.0.min" "$min"; record "virsh-$variant.0.max" "$max"
  done
  grep -q "started libvirt bench-virt" "$tmp/interopd.log" || die "Interop's hook did not register bench-virt (see interopd log)"
  [ -s "$lv/noop-calls" ] || die "libvirt never ran the C hook"
  record virsh-noop.calls "$(stat -c %s "$lv/noop-calls")"
  exec 8>&-   # the integration lock: bench-systemd.sh takes it again
fi # virsh
stop_daemon
fi # hooks or lxc

if want scale; then
# --- 3./4. interopd at scale --------------------------------------------------------------------
# interopd's CPU time so far, ns, all its threads (schedstat: ns resolution, unlike /proc/PID/stat's ticks).
# cpu_snap PID: "TID NS" per thread of PID (its CPU time so far, from schedstat).
cpu_snap() {
  local f t ns
  for f in /proc/"$1"/task/*/schedstat; do
    t=${f%/schedstat}
    read -r ns _ < "$f" 2>/dev/null && echo "${t##*/} $ns"
  done
}
# server_ms KEY CALLS COMMAND: interopd's CPU time per call over CALLS runs of COMMAND (the client's own start-up
# and printing are not in it), ms. A thread's time is gone from /proc once it exits (the thread pool retires idle
# workers, those of start-up's reconcile among them): a run in which a thread of the start has gone is run again.
server_ms() {
  local try i before after ms=lost
  for try in 1 2 3; do
    before=$(cpu_snap "$daemon_pid")
    for ((i = 0; i < $2; i++)); do eval "$3" > /dev/null; done
    after=$(cpu_snap "$daemon_pid")
    ms=$(awk -v n="$2" 'NR == FNR { a[$1] = $2; next } { b[$1] = $2 }
      END { for (t in a) if (!(t in b)) { print "lost"; exit } for (t in b) s += b[t] - a[t]; printf "%.3f", s / 1e6 / n }' \
      <(echo "$before") <(echo "$after"))
    [ "$ms" != lost ] && break
    note "   $1: a thread of interopd exited during the calls; again"
  done
  [ "$ms" != lost ] || die "$1: a thread of interopd exited during each of three tries"
  record "$1" "$ms"
}
vm() { awk -v k="$1:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status"; } # vm VmRSS|VmHWM: MB
# BENCH_BDN=0 skips the BenchmarkDotNet parts (in process: 4, 4b), for a quicker look at the daemon's figures.
bdn=${BENCH_BDN:-1}
gcc -O2 -Wall -pthread -o "$tmp/cgthreads" "$repo/bench/helpers/cgthreads.c"
if [ "$bdn" = 1 ]; then
note "building bench/Interop.Benchmarks"
dotnet build "$repo/bench/Interop.Benchmarks" -c Release -o "$tmp/bdn" -v q -nologo > "$tmp/bdn-build.log" 2>&1 ||
  { cat "$tmp/bdn-build.log" >&2; die "building the benchmarks failed"; }
# The state file at 10,000 mappings, in process (no cgroups): a snapshot write and a read (issue 13).
note "4b. the state file at 10,000 mappings"
(cd "$tmp" && dotnet "$tmp/bdn/Interop.Benchmarks.dll" state > "$tmp/bdn.state.log" 2>&1) ||
  { tail -n 30 "$tmp/bdn.state.log" >&2; die "BenchmarkDotNet failed (state)"; }
record state_save "$(awk '$1 == "RESULT" && $2 == "SaveSnapshot" {printf "%.1f", $3 / 1e6}' "$tmp/bdn.state.log")"
record state_load "$(awk '$1 == "RESULT" && $2 == "LoadSnapshot" {printf "%.1f", $3 / 1e6}' "$tmp/bdn.state.log")"
fi

for n in $scales; do
  note "3. interopd with $n containers"
  sroot=$scratch/s$n
  mkdir -p "$cpuset/$sroot"
  echo 1 > "$cpuset/$sroot/cgroup.clone_children"
  # 100 leaders per helper process (see cgthreads.c for why not all in one).
  first_helper=${#helpers[@]}
  : > "$tmp/tids.$n"
  for ((i = 0; i < n; i += 100)); do
    k=$(( n - i < 100 ? n - i : 100 ))
    : > "$tmp/tids.$n.part"
    "$tmp/cgthreads" "$cpuset/$sroot" "$k" lxc.payload.c "$i" > "$tmp/tids.$n.part" &
    helpers+=($!)
    for _ in $(seq 600); do grep -q '^ready$' "$tmp/tids.$n.part" && break; kill -0 "${helpers[-1]}" || die "cgthreads failed"; sleep 0.01; done
    grep -q '^ready$' "$tmp/tids.$n.part" || die "cgthreads did not get ready"
    grep -v '^ready$' "$tmp/tids.$n.part" >> "$tmp/tids.$n"
  done
  # The state file interopd would have written for these registrations.
  python3 - "$tmp/tids.$n" "$sroot" "$cpuset" > "$tmp/state.$n.yaml" <<'PY'
import sys, time
tids, root, cpuset = sys.argv[1], sys.argv[2], sys.argv[3]
since = int(time.time() * 1_000_000)
out = ["# interopd registry: this snapshot, then the changes in the .journal file next to it. Do not edit while interopd runs.", "version: 1", "containers:"]
count = 0
for line in open(tids):
    parts = line.split()
    if len(parts) != 2:
        continue
    name, tid = parts
    out += [f"- manager: lxc", f"  name: {name.removeprefix('lxc.payload.')}", "  uuid: ''", "  state: running",
            f"  leader: {tid}", f"  cgroup_path: /{root}/{name}", f"  since: {since}", "  cgroup_namespace: host",
            "  source: hook", "  paths:", f"    cpuset: {cpuset}/{root}/{name}"]
    count += 1
out.append(f"count: {count}")
print("\n".join(out))
PY
  if [ "$n" = "$scrape_scale" ]; then
    # A dir in every other hierarchy too, so a scrape reads what a real container has (cpuacct, memory, pids,
    # blkio, the v2 files): empty dirs, no task moved (this shell's memory cgroup is the machine agent's).
    for m in "${mounts[@]}"; do
      [ "$m" = "$cpuset" ] && continue
      awk -v d="$m/$sroot" '{ print d "/" $1 }' "$tmp/tids.$n" | xargs mkdir -p
    done
  fi
  mkdir -p "$tmp/state$n"
  cp "$tmp/state.$n.yaml" "$tmp/state$n/state.yaml"
  write_config "$tmp/interop.$n.yaml" "$sroot" "$tmp/state$n/state.yaml"
  start_daemon "$tmp/interop.$n.yaml" "$tmp/interopd.$n.log"
  grep -q "reconcile: kept $n," "$tmp/interopd.$n.log" || die "reconcile did not keep $n: $(grep reconcile: "$tmp/interopd.$n.log" | tail -n 2)"
  record "startup.$n" "$startup_ms"
  record "reconcile_log.$n" "$(log_ms "$tmp/interopd.$n.log" 'reconcile: kept')"
  # Reconcile itself, its phases and interopd's CPU time until then, from the same line: "(state file A ms, liveness
  # B ms, scan C ms; interopd's CPU time so far D ms)". Not from /metrics (interop_reconcile_duration_seconds): a
  # scrape here would add its own memory to the readings below.
  phases=$(grep -m1 'reconcile: kept' "$tmp/interopd.$n.log" |
    sed -n 's/.*(state file \([0-9]*\) ms, liveness \([0-9]*\) ms, scan \([0-9]*\) ms; interopd.s CPU time so far \([0-9]*\) ms).*/\1 \2 \3 \4/p')
  record "reconcile_srv.$n" "$(echo "$phases" | awk 'NF == 4 { print $1 + $2 + $3 }')"
  record "reconcile_phases.$n" "$(echo "$phases" | awk 'NF == 4 { print $1 "/" $2 "/" $3 }')"
  record "reconcile_cpu.$n" "$(echo "$phases" | awk 'NF == 4 { print $4 }')"
  record "serving_log.$n" "$(log_ms "$tmp/interopd.$n.log" 'serving org.interop.Interop1')"
  record "rss0.$n" "$(vm VmRSS)"
  record "hwm0.$n" "$(vm VmHWM)"
  mid=$(awk -v n="$n" 'NR == int(n / 2) + 1 {print $2}' "$tmp/tids.$n")
  [ "$(wc -l < "$tmp/tids.$n")" -eq "$n" ] || die "expected $n leaders in $tmp/tids.$n"
  midname=$(awk -v n="$n" 'NR == int(n / 2) + 1 {sub(/^lxc\.payload\./, "", $1); print $1}' "$tmp/tids.$n")
  # Server time: interopd's CPU time per call (reply built and sent, GC included), busctl's own cost left out. The
  # small calls first: after the big replies interopd's idle trim runs one collection, which is not theirs.
  server_ms "srv_bypid.$n" 50 "$bc GetContainerByPid u $mid"
  server_ms "srv_ping.$n" 50 "busctl --address=$bus call org.interop.Interop1 /org/interop/Interop1 org.freedesktop.DBus.Peer Ping"
  server_ms "srv_list.$n" 20 "$bc ListContainers"
  # A hook that changes the registry at this size (stop: repeatable, and it persists the state each time).
  hf "bus.$n" --warmup 2 --runs 15 \
    -n "busctl ListContainers ($n)" "$bc ListContainers > /dev/null" \
    -n "busctl GetContainerByPid ($n)" "$bc GetContainerByPid u $mid > /dev/null" \
    -n "busctl Peer.Ping" "busctl --address=$bus call org.interop.Interop1 /org/interop/Interop1 org.freedesktop.DBus.Peer Ping" \
    -n "interopctl hook lxc stop ($n)" "LXC_NAME=$midname LXC_HOOK_VERSION=0 $ic hook lxc $midname lxc stop" \
    -n "busctl StopContainer ($n)" "$bc StopContainer ssa{ss} lxc $midname 0"
  if [ "$n" = "$scrape_scale" ]; then
    note "5. /metrics with $n containers"
    record "scrape_series.$n" "$(curl -sf "$metrics_url" | grep -c '^interop_container_info{')"
    # interopd's CPU time over the 22 scrapes below (utime + stime, clock ticks): server cost, whatever the load.
    cpu0=$(awk '{print $14 + $15}' "/proc/$daemon_pid/stat")
    hf "scrape.$n" --warmup 2 --runs 20 -n "curl /metrics ($n)" "curl -sf -o /dev/null $metrics_url"
    record "scrape_cpu.$n" "$(awk -v a="$cpu0" -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15 - a) * 1000 / hz / 22}' "/proc/$daemon_pid/stat")"
    record "scrape_collect.$n" "$(curl -sf "$metrics_url" | awk '$1 == "interop_metrics_collect_duration_seconds" { printf "%.1f", $2 * 1000 }')"
    # Hooks while scrapes run back to back (the collect never takes the hooks' gate), next to the same hook
    # measured right before without them (the machine's load moves between part 3 and here).
    hf "scrape_nohook.$n" --warmup 2 --runs 15 \
      -n "interopctl hook lxc stop ($n), no scrapes" "LXC_NAME=$midname LXC_HOOK_VERSION=0 $ic hook lxc $midname lxc stop"
    # A scrape every second: 15x Prometheus's shortest usual interval (15 s), the rate a real server sees.
    ( while :; do curl -sf -o /dev/null "$metrics_url"; sleep 1; done ) &
    helpers+=($!)
    hf "scrape_1s_hook.$n" --warmup 2 --runs 15 \
      -n "interopctl hook lxc stop ($n), a scrape a second" "LXC_NAME=$midname LXC_HOOK_VERSION=0 $ic hook lxc $midname lxc stop"
    kill "${helpers[-1]}"; wait "${helpers[-1]}" 2>/dev/null || true
    unset 'helpers[-1]'
    # Worst case, for the record: scrapes back to back, sharing the 2 CPUs with the hooks.
    ( while :; do curl -sf -o /dev/null "$metrics_url"; done ) &
    helpers+=($!)
    hf "scrape_hook.$n" --warmup 2 --runs 15 \
      -n "interopctl hook lxc stop ($n), scrapes running" "LXC_NAME=$midname LXC_HOOK_VERSION=0 $ic hook lxc $midname lxc stop"
    kill "${helpers[-1]}"; wait "${helpers[-1]}" 2>/dev/null || true
    unset 'helpers[-1]'
  fi
  record "rss.$n" "$(vm VmRSS)"
  # The peak since start (the kernel's high-water mark): reconcile, the calls, and at the scrape scale the scrapes.
  record "hwm.$n" "$(vm VmHWM)"
  # interopd hands memory back once it has been idle for a period (IdleTrim: 2 s periods).
  sleep 5
  record "rss_idle.$n" "$(vm VmRSS)"
  stop_daemon
  if [ "$bdn" = 1 ]; then
  cp "$tmp/state.$n.yaml" "$tmp/state$n/bdn.yaml"
  (cd "$tmp" && INTEROP_BENCH_SHARED_ROOT=/$sroot INTEROP_BENCH_BOUNDARY=/$scratch INTEROP_BENCH_STATE=$tmp/state$n/bdn.yaml \
    INTEROP_BENCH_PID=$mid dotnet "$tmp/bdn/Interop.Benchmarks.dll" > "$tmp/bdn.$n.log" 2>&1) ||
    { tail -n 30 "$tmp/bdn.$n.log" >&2; die "BenchmarkDotNet failed"; }
  record "bdn_bypid.$n" "$(awk '$1 == "RESULT" && $2 == "GetContainerByPid" {print $3}' "$tmp/bdn.$n.log")"
  record "bdn_list.$n" "$(awk '$1 == "RESULT" && $2 == "ListContainers" {print $3}' "$tmp/bdn.$n.log")"
  fi
  for p in "${helpers[@]:first_helper}"; do kill "$p"; done
  for p in "${helpers[@]:first_helper}"; do wait "$p" 2>/dev/null || true; done
  helpers=("${helpers[@]:0:first_helper}")
  for m in "${mounts[@]}"; do
    [ -d "$m/$sroot" ] && find "$m/$sroot" -mindepth 1 -depth -type d -exec rmdir {} +
  done
done

fi # scale

# --- summary -----------------------------------------------------------------------------------
r() { get "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
ok() { awk -v a="$1" -v t="$2" 'BEGIN { print (a != "" && a + 0 <= t) ? "ok" : "MISSED" }'; }
under() { awk -v a="$1" -v t="$2" 'BEGIN { print (a != "" && a + 0 < t) ? "ok" : "MISSED" }'; } # section 12's "under"
{
  echo
  echo "Interop benchmark: $(nproc) cpus, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), .NET $(dotnet --version), $(date -u +%Y-%m-%d)"
  echo
  echo "1. Hook wall time, median ms (hyperfine, $runs runs; target: interopctl <= 1.0x busctl)"
  printf '  %-10s %-10s %11s %9s %7s %-6s %s\n' manager event interopctl busctl ratio target "interopctl over the bus"
  for row in "lxc prepare lxc-prepare" "lxc started lxc-started" "lxc stopped lxc-stopped" "lxc released lxc-released" \
             "libvirt prepare virt-prepare" "libvirt started virt-started" "libvirt stopped virt-stopped" "libvirt released virt-released"; do
    set -- $row
    a=$(r "$3.0"); b=$(r "$3.1"); c=$(r "$3.2"); q=$(ratio "$a" "$b")
    printf '  %-10s %-10s %11s %9s %7s %-6s %s\n' "$1" "$2" "$(ms "$a")" "$(ms "$b")" "$q" "$(ok "$q" 1.0)" "$(ms "$c") ($(ratio "$c" "$b")x)"
  done
  echo "  (interopctl on interopd's private socket, as a root hook on an installed host; busctl on the bus;"
  echo "   busctl Peer.Ping, the floor of any bus round trip: $(ms "$(r ping.0)") ms)"
  a=$(r lxc-prepare.0); b=$(r lxc-prepare-siblings.0)
  echo "  lxc pre-start with ${BENCH_SIBLINGS:-2000} other containers' dirs beside it: $(ms "$b") ms, $(ratio "$b" "$a")x the same with none (for the record)"
  echo
  echo "2. lxc-start -d + lxc-wait RUNNING, busybox, median ms ($lxc_runs rounds, the variants taking turns; target: Interop <= 1.0x trivial hooks)"
  none=$(r lxc-start-bench-none.0); sh=$(r lxc-start-bench-sh.0); it=$(r lxc-start-bench-interop.0)
  printf '  %-28s %8s %s\n' "no hooks" "$(ms "$none")" ""
  printf '  %-28s %8s %s\n' "two trivial /bin/sh hooks" "$(ms "$sh")" "$(ratio "$sh" "$none")x no hooks"
  q=$(ratio "$it" "$sh")
  printf '  %-28s %8s %s\n' "Interop's hooks" "$(ms "$it")" "${q}x trivial hooks, $(ratio "$it" "$none")x no hooks: $(ok "$q" 1.0)"
  printf '  %-28s %8s\n' "  spread (min-max), trivial" "$(ms "$(r lxc-start-bench-sh.0.min)")-$(ms "$(r lxc-start-bench-sh.0.max)")"
  printf '  %-28s %8s\n' "  spread (min-max), Interop" "$(ms "$(r lxc-start-bench-interop.0.min)")-$(ms "$(r lxc-start-bench-interop.0.max)")"
  echo "  from LXC's own log (-l TRACE, ${BENCH_LXC_TRACE_RUNS:-15} more starts each; ms stamps):"
  printf '  %-44s %6s %8s\n' "" trivial Interop
  printf '  %-44s %6s %8s\n' "  time in hooks per start, median ms" "$(r lxc-trace-bench-sh.hooks)" "$(r lxc-trace-bench-interop.hooks)"
  printf '  %-44s %6s %8s\n' "  monitor's first cgroup attach, ms (p25-p75)" "$(r lxc-trace-bench-sh.attach)" "$(r lxc-trace-bench-interop.attach)"
  ra=$(r lxc-trace-bench-sh.rest); rb=$(r lxc-trace-bench-interop.rest)
  printf '  %-44s %6s %8s %s\n' "  the start without that attach, median ms" "$ra" "$rb" "$(ratio "$rb" "$ra")x (for the record)"
  echo
  echo "2b. virsh start of an LXC domain, median ms (3 passes of $(( (lxc_runs + 2) / 3 )) runs, the order reversed in the second; target: with Interop's hook <= 1.05x without)"
  a=$(r virsh-none.0); b=$(r virsh-interop.0); q=$(ratio "$b" "$a")
  printf '  %-28s %8s\n' "without the hook" "$(ms "$a")"
  printf '  %-28s %8s %s\n' "a C hook that reads nothing" "$(ms "$(r virsh-noop.0)")" "$(ratio "$(r virsh-noop.0)" "$a")x (for the record: the cheapest hook there is; $(r virsh-noop.calls) calls)"
  printf '  %-28s %8s %s\n' "a trivial /bin/sh hook" "$(ms "$(r virsh-trivial.0)")" "$(ratio "$(r virsh-trivial.0)" "$a")x (for the record: a shell script's cost)"
  printf '  %-28s %8s %s\n' "with Interop's hook" "$(ms "$b")" "${q}x: $(ok "$q" 1.05)"
  for v in none noop trivial interop; do
    printf '  %-28s %8s\n' "  spread (min-max), $v" "$(ms "$(r virsh-$v.0.min)")-$(ms "$(r virsh-$v.0.max)")"
  done
  echo "  (the hook: as installed, a link to interopctl, on interopd's private socket; libvirt runs it for prepare, start"
  echo "   and started, and only prepare and started make a call)"
  echo
  echo "3./4. interopd with N containers (targets at 10,000, DESIGN.md 12: start-up reconcile < 0.5 s, VmRSS < 50 MB serving"
  echo "      and < 60 MB at any peak, ListContainers < 20 ms and GetContainerByPid < 0.2 ms server time; verdict at 10,000)"
  printf '  %-44s' "containers"; for n in $scales; do printf ' %10s' "$n"; done; echo
  # line LABEL KEY SCALE_FN [TARGET [SHOWN]]: one figure per size; with a target (in the recorded unit; SHOWN is how
  # it prints, default TARGET), its verdict at 10,000 (when measured).
  line() {
    printf '  %-44s' "$1"
    for n in $scales; do printf ' %10s' "$($3 "$(r "$2.$n")")"; done
    if [ -n "${4:-}" ] && [[ " $scales " == *" 10000 "* ]] && [ -n "$(r "$2.10000")" ]; then
      printf '  < %s: %s' "${5:-$4}" "$(under "$(r "$2.10000")" "$4")"
    fi
    echo
  }
  us() { awk -v a="$1" 'BEGIN { if (a != "") printf "%.2f", a / 1000 }'; }
  id() { echo "$1"; }
  bus_line() { # LABEL INDEX
    printf '  %-44s' "$1"
    for n in $scales; do printf ' %10s' "$(ms "$(r "bus.$n.$2")")"; done
    echo
  }
  line "start-up to bus name, ms (wall)" startup id
  line "  reconcile done, ms since process start" reconcile_log id 500
  line "  reconcile itself, ms (server)" reconcile_srv id
  line "    state file / liveness / scan, ms" reconcile_phases id
  line "  interopd's CPU time at reconcile done, ms" reconcile_cpu id
  line "  serving, ms since process start" serving_log id
  line "VmRSS once serving, MB" rss0 id 50
  line "VmRSS right after the calls, MB" rss id 60
  line "VmHWM (peak since start) after the calls, MB" hwm id 60
  line "VmRSS 5 s later (idle), MB" rss_idle id 50
  line "ListContainers, ms server time (CPU/call)" srv_list id 20
  line "GetContainerByPid, ms server time (CPU/call)" srv_bypid id 0.2
  line "  Peer.Ping, ms server time (CPU/call, the floor)" srv_ping id
  bus_line "busctl ListContainers, ms (client wall)" 0
  bus_line "busctl GetContainerByPid, ms (client wall)" 1
  bus_line "busctl Peer.Ping, ms (client wall floor)" 2
  bus_line "interopctl hook lxc stop, ms (wall)" 3
  bus_line "busctl StopContainer, ms (client wall)" 4
  line "GetContainerByPid in process, us (BDN)" bdn_bypid us 200000 200
  line "ListContainers in process, us (BDN)" bdn_list us
  if [ -n "$(r state_save)" ]; then
    echo "  state file at 10,000, in process (BDN): snapshot write $(r state_save) ms, read $(r state_load) ms"
  fi
  echo
  n=$scrape_scale
  if [[ " $scales " == *" $n "* ]]; then # part 5 runs at the scrape scale only
  echo "5. /metrics with $n containers (target: a scrape under 100 ms; hooks not delayed by scrapes)"
  printf '  %-58s %8s\n' "interop_container_info series in a scrape" "$(r "scrape_series.$n")"
  printf '  %-58s %8s %s\n' "curl /metrics, median ms (client wall, HTTP included)" "$(ms "$(r "scrape.$n.0")")" "$(ok "$(r "scrape.$n.0")" 100)"
  printf '  %-58s %8s %s\n' "  interopd CPU time per scrape, ms (server, all threads)" "$(r "scrape_cpu.$n")" "$(ok "$(r "scrape_cpu.$n")" 100)"
  printf '  %-58s %8s %s\n' "  reading the containers' usage (server wall, one scrape), ms" "$(r "scrape_collect.$n")" "$(ok "$(r "scrape_collect.$n")" 100)"
  a=$(r "scrape_hook.$n.0"); b=$(r "scrape_nohook.$n.0"); q=$(ratio "$a" "$b")
  printf '  %-58s %8s\n' "interopctl hook lxc stop, median ms, no scrapes" "$(ms "$b")"
  s1=$(r "scrape_1s_hook.$n.0"); q1=$(ratio "$s1" "$b")
  printf '  %-58s %8s %s\n' "interopctl hook lxc stop, median ms, a scrape a second" "$(ms "$s1")" "${q1}x: $(ok "$q1" 1.1) (target <= 1.1x: not delayed, within noise)"
  printf '  %-58s %8s %s\n' "VmHWM after the part 3 calls and the scrapes (peak), MB" "$(r "hwm.$n")" "$(under "$(r "hwm.$n")" 60) (target < 60 MB at any peak)"
  printf '  %-58s %8s %s\n' "interopctl hook lxc stop, median ms, scrapes back to back" "$(ms "$a")" "${q}x (worst case, for the record: the two share 2 cpus)"
  fi
} | tee "$tmp/summary.txt"
if [ -n "${BENCH_SUMMARY:-}" ]; then cp "$tmp/summary.txt" "$BENCH_SUMMARY"; fi

# --- 6. on a systemd host: hooks vs busctl and lxc-start, inside a nested systemd host ----------------
if want systemd; then
  "$repo/tools/bench-systemd.sh" || echo "bench: the systemd-host figures failed (tools/bench-systemd.sh)" >&2
fi
