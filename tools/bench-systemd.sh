#!/usr/bin/env bash
# tools/bench-systemd.sh: make bench on a host where systemd is PID 1 (DESIGN.md section 12), measured
# inside a nested systemd 252 host (integration/nested-host.sh; hybrid unless BENCH_SD_MODE says
# otherwise) with Interop installed there by `make -o publish install` and interopd started by its unit:
#   1. `interopctl hook ...` against `busctl call` of the same method with the same arguments on the nested
#      host's system bus (hyperfine, side by side): the hooks a benchmark can repeat outside a real start
#      (LXC stop and post-stop, libvirt prepare), plus Peer.Ping as the floor of any bus call;
#   2. lxc-start to RUNNING of one busybox container, from a root shell's scope: two trivial /bin/sh hooks
#      (pre-start, start-host) against Interop's include (its pre-start puts LXC's monitor into a delegated
#      scope; no start-host: interopd registers the machine when the init enters its cgroup, off the start path).
# Prints the figures and their ratios. Run as root (tools/bench.sh calls it; it may also run alone).
# Everything is stopped by pid and removed on exit (the nested host's nh_down), also on failure.
# Knobs: BENCH_RUNS (hook runs, default 30), BENCH_LXC_RUNS (default 15), BENCH_LXC_TRACE_RUNS (starts under
# -l TRACE, default 10), BENCH_SD_MODE (hybrid|unified).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-30}
lxc_runs=${BENCH_LXC_RUNS:-15}
trace_runs=${BENCH_LXC_TRACE_RUNS:-10}
mode=${BENCH_SD_MODE:-hybrid}

die() { echo "bench-systemd: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it boots a nested systemd host)"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (make deps: systemd-container)"
command -v hyperfine >/dev/null || die "hyperfine is missing (make deps)"
[ -x "$repo/artifacts/interopctl/interopctl" ] || die "run make publish first"

# shellcheck source=integration/lib.sh
. "$repo/integration/lib.sh"
# The same machine-wide lock as the integration suites: one real-manager run at a time.
take_integration_lock
NH_TAG=bench.$$
# shellcheck source=integration/nested-host.sh
. "$repo/integration/nested-host.sh"
out=$(mktemp -d /tmp/interop-bench-sd.XXXXXX)
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  nh_down >&2
  nh_remove_dir >&2
  rm -rf "$out"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note() { printf '\n== [systemd host] %s\n' "$*" >&2; }

note "booting the nested systemd host (MODE=$mode)"
nh_up "$mode" || die "the nested host did not boot (see $NH_DIR/nspawn.log)"
inhost make -s -o publish -C "$repo" install PREFIX=/usr/local >&2 || {
  # a shipped config whose shared_root the systemd host refuses: leave it to the default
  inhost sed -i 's/^shared_root:/# shared_root:/' /etc/interop/interop.yaml
  inhost make -s -o publish -C "$repo" install PREFIX=/usr/local >&2 || die "make install inside the nested host failed"
}
inhost busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
inhost systemctl daemon-reload
inhost systemctl start interopd.service || die "interopd did not start: $(inhost journalctl -u interopd -n 5 --no-pager)"
sroot=$(inhost busctl --json=short get-property org.interop.Interop1 /org/interop/Interop1 org.interop.Interop1.Manager SharedRoot | jq -r .data)
note "interopd up in the nested host, shared root $sroot"

# The scripts hyperfine runs inside the nested host.
inhost sh -c "mkdir -p /root/bench && cat > /root/bench/run.sh" <<'EOF'
#!/bin/sh
# run.sh NAME RUNS LXC_RUNS TRACE_RUNS: the measurements, inside the nested host. Results: /root/bench/*.json
set -e
runs=$2; lxc_runs=$3; trace_runs=$4
cd /root/bench
mgr="org.interop.Interop1 /org/interop/Interop1 org.interop.Interop1.Manager"
bc="busctl call $mgr"
ic=/usr/local/bin/interopctl
uuid=0b8ae7a4-3f6c-4c1e-9d0a-6f1e2d3c4b5a
cat > prepare.xml <<XML
<domain type='lxc'>
  <name>bench-lvp</name>
  <uuid>$uuid</uuid>
  <memory unit='KiB'>65536</memory>
  <os><type arch='x86_64'>exe</type><init>/bin/sh</init></os>
  <devices><emulator>/usr/lib/libvirt/libvirt_lxc</emulator></devices>
</domain>
XML
env_lxc="LXC_NAME=bench-lxc LXC_HOOK_VERSION=0 LXC_CGNS_AWARE=1 LXC_LOG_LEVEL=ERROR LXC_CONFIG_FILE=/var/lib/lxc/bench-lxc/config LXC_ROOTFS_MOUNT=/usr/lib/x86_64-linux-gnu/lxc/rootfs LXC_ROOTFS_PATH=/var/lib/lxc/bench-lxc/rootfs LXC_TARGET=stop"
facts="4 config_file /var/lib/lxc/bench-lxc/config rootfs_path /var/lib/lxc/bench-lxc/rootfs cgns_aware 1 hook"
h="hyperfine --style basic --warmup 3 --runs $runs"
$h --export-json hook-lxc-stop.json \
  -n "interopctl hook lxc stop" "$env_lxc $ic hook lxc bench-lxc lxc stop" \
  -n "busctl StopContainer" "$bc StopContainer ssa{ss} lxc bench-lxc 6 config_file /var/lib/lxc/bench-lxc/config rootfs_path /var/lib/lxc/bench-lxc/rootfs cgns_aware 1 hook stop target stop namespaces ''"
$h --export-json hook-lxc-poststop.json \
  -n "interopctl hook lxc post-stop" "$env_lxc $ic hook lxc bench-lxc lxc post-stop" \
  -n "busctl ReleaseContainer" "$bc ReleaseContainer ssa{ss} lxc bench-lxc $facts post-stop"
# libvirt prepare: the domain has no <resource> (libvirt's default partition, /machine = machine.slice).
# A refusal still measures the same round trip on both sides; -i keeps hyperfine going.
$h -i --export-json hook-virt-prepare.json \
  -n "interopctl hook libvirt prepare" "$ic hook libvirt bench-lvp prepare begin - < prepare.xml" \
  -n "busctl PrepareContainer" "$bc PrepareContainer ssa{ss} libvirt bench-lvp 1 uuid $uuid"
$ic hook libvirt bench-lvp prepare begin - < prepare.xml > virt-prepare.out 2>&1 && echo accepted >> virt-prepare.out || echo refused >> virt-prepare.out
$h --export-json ping.json -n "busctl Peer.Ping (floor)" "busctl call org.interop.Interop1 /org/interop/Interop1 org.freedesktop.DBus.Peer Ping"

printf '#!/bin/sh\nexit 0\n' > trivial-hook; chmod 0755 trivial-hook
printf 'lxc.hook.pre-start = /root/bench/trivial-hook\nlxc.hook.start-host = /root/bench/trivial-hook\nlxc.cgroup.relative = 1\n' > bench-sh.conf
printf 'lxc.include = /usr/share/interop/lxc.conf\n' > bench-interop.conf
for c in bench-sh bench-interop; do
  lxc-create -n $c -t busybox -f $c.conf > $c.create.log 2>&1
done
# between runs: stopped, and (Interop) its scope gone, so the next start gets a fresh one
stop="lxc-stop -n NAME -k >/dev/null 2>&1; lxc-wait -n NAME -s STOPPED -t 30; for i in \$(seq 100); do systemctl list-units --plain --no-legend 'lxc-*' | grep -q NAME || break; sleep 0.05; done"
# The two take turns, one start each a round (the first of each uncounted), the order swapped every round: the
# VM's drift over a block of runs was larger than the difference measured.
start() {
  s=$(echo "$stop" | sed "s/NAME/$1/g")
  hyperfine --style basic --runs 1 --prepare "$s" --cleanup "$s" --export-json "lxc-start-$1.$2.json" \
    -n "lxc-start $1" "lxc-start -n $1 -d && lxc-wait -n $1 -s RUNNING -t 30" > /dev/null
}
start bench-sh 0; start bench-interop 0
for r in $(seq 1 "$lxc_runs"); do
  if [ $((r % 2)) -eq 1 ]; then start bench-sh "$r"; start bench-interop "$r"; else start bench-interop "$r"; start bench-sh "$r"; fi
done
# Where the time goes, from LXC's own log (-l TRACE, ms stamps; these starts are not timed above): each hook from
# "Executing script" to LXC's next line, summed per start, and the start without its hooks.
for r in $(seq 1 "$trace_runs"); do
  for c in bench-sh bench-interop; do
    sh -c "$(echo "$stop" | sed "s/NAME/$c/g")"
    lxc-start -n $c -d -l TRACE -o trace.$c.$r.log && lxc-wait -n $c -s RUNNING -t 30
  done
done
for c in bench-sh bench-interop; do
  sh -c "$(echo "$stop" | sed "s/NAME/$c/g")"
  for f in trace.$c.*.log; do
    awk 'function ms(s) { return (substr(s, 9, 2) * 3600 + substr(s, 11, 2) * 60 + substr(s, 13)) * 1000 }
      $1 != "lxc-start" { next }
      first == "" { first = ms($3) }
      hook != "" { h += ms($3) - hook; hook = "" }
      /run_script_argv/ { hook = ms($3) }
      /Set container state to RUNNING/ { print h, ms($3) - first - h; exit }' "$f"
  done | awk 'function median(v, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
                return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    { h[NR] = $1; r[NR] = $2 }
    END { printf "%.1f %.1f\n", median(h, NR), median(r, NR) }' > trace-$c.txt
  rm -f trace.$c.*.log
done
for c in bench-sh bench-interop; do
  rm -f "lxc-start-$c.0.json"
  jq -s '{results: [{times: [.[].results[0].times[0]] | sort} | .median = (.times | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end)]}' lxc-start-$c.*.json > "lxc-start-$c.json"
  rm -f lxc-start-$c.*.json
done
EOF
note "1. hooks vs busctl ($runs runs each), 2. lxc-start to RUNNING ($lxc_runs rounds, taking turns, then $trace_runs traced starts each)"
nh_in_scope sh /root/bench/run.sh bench "$runs" "$lxc_runs" "$trace_runs" >&2 || die "the measurements failed"
for f in hook-lxc-stop hook-lxc-poststop hook-virt-prepare ping lxc-start-bench-sh lxc-start-bench-interop; do
  inhost cat "/root/bench/$f.json" > "$out/$f.json"
done
for c in bench-sh bench-interop; do inhost cat "/root/bench/trace-$c.txt" > "$out/trace-$c.txt"; done
inhost cat /root/bench/virt-prepare.out > "$out/virt-prepare.out"

median() { jq -r ".results[$2].median * 1000" "$out/$1.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
{
  echo
  echo "Interop on a systemd host (nested systemd $(inhost systemctl --version | head -n 1 | awk '{print $2}'), MODE=$mode, shared root $sroot, $(date -u +%Y-%m-%d))"
  echo "1. interopctl hook vs busctl call of the same method (median ms, $runs runs):"
  printf '  %-22s %11s %9s %7s %s\n' event interopctl busctl ratio target
  for p in "lxc stop:hook-lxc-stop" "lxc post-stop:hook-lxc-poststop" "libvirt prepare:hook-virt-prepare"; do
    a=$(median "${p#*:}" 0); b=$(median "${p#*:}" 1); q=$(ratio "$a" "$b")
    printf '  %-22s %11s %9s %7s %s\n' "${p%%:*}" "$(ms "$a")" "$(ms "$b")" "$q" \
      "$(awk -v q="$q" 'BEGIN { print (q != "-" && q <= 1.0) ? "<= 1.0x: ok" : "> 1.0x" }')"
  done
  echo "  (libvirt prepare of a domain with no <resource> was $(tail -n 1 "$out/virt-prepare.out") by Interop)"
  printf '  %-22s %11s\n' "busctl Peer.Ping" "$(ms "$(median ping 0)")"
  echo "2. lxc-start to RUNNING (median ms, $lxc_runs rounds, the two taking turns, from a root shell's scope):"
  sh=$(median lxc-start-bench-sh 0); it=$(median lxc-start-bench-interop 0); q=$(ratio "$it" "$sh")
  printf '  %-28s %8s\n' "two trivial /bin/sh hooks" "$(ms "$sh")"
  printf '  %-28s %8s %s\n' "Interop's hooks" "$(ms "$it")" \
    "${q}x trivial hooks: $(awk -v q="$q" 'BEGIN { print (q != "-" && q <= 1.0) ? "<= 1.0x: ok" : "> 1.0x (target 1.0x)" }')"
  for c in sh:bench-sh interop:bench-interop; do
    printf '    spread (min-max), %-8s %s\n' "${c%%:*}" "$(jq -r '.results[0].times | "\(.[0] * 1000 | . * 10 | round / 10)-\(.[-1] * 1000 | . * 10 | round / 10)"' "$out/lxc-start-${c#*:}.json")"
  done
  read -r sh_hooks sh_rest < "$out/trace-bench-sh.txt"; read -r it_hooks it_rest < "$out/trace-bench-interop.txt"
  echo "  from LXC's own log (-l TRACE, $trace_runs more starts each; ms stamps):       trivial  Interop"
  printf '    %-48s %7s %8s\n' "time in hooks per start, median ms" "$sh_hooks" "$it_hooks"
  printf '    %-48s %7s %8s\n' "the start without its hooks, median ms" "$sh_rest" "$it_rest"
} | tee "$out/summary.txt"
if [ -n "${BENCH_SD_SUMMARY:-}" ]; then cp "$out/summary.txt" "$BENCH_SD_SUMMARY"; fi
