#!/usr/bin/env bash
# integration/systemd.sh: Interop on a host where systemd is PID 1 (issue 11), proven in a nested
# systemd 252 host (integration/nested-host.sh) with the real managers inside it:
#   MODE hybrid:  real LXC (lxc-start from a root shell, systemctl start lxc@NAME) and real libvirt
#                 (virsh start of a domain with no <resource>);
#   MODE unified: real LXC only (libvirt 9.0 cannot start on this VM's pure-v2 view: memory and
#                 devices are bound to v1 here).
# Interop is installed INSIDE the nested host by `make -o publish install` from the published
# artifacts/ (nothing is built there) and interopd is started by its unit. Every check runs from
# inside the nested host with machinectl, systemctl, busctl, /proc/PID/cgroup and interopctl --json.
# Run as root by `make integration` after integration/run.sh; docs/integration.md says what it
# needs, checks and leaves behind. INTEROP_SD_MODES="hybrid unified" (default) picks the modes.
set -uo pipefail


ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=integration/lib.sh
. "$ROOT/integration/lib.sh"
take_integration_lock
RUN=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
NH_TAG=$RUN
# shellcheck source=integration/nested-host.sh
. "$ROOT/integration/nested-host.sh"

MODES=${INTEROP_SD_MODES:-hybrid unified}
PREFIX=/usr/local
CTL=$PREFIX/bin/interopctl
CTL_TIMEOUT=${CTL_TIMEOUT:-20}
SLICE=machine.slice
VIRSH=(virsh -q -c lxc:///system)
BUS_NAME=org.interop.Interop1
BUS_PATH=/org/interop/Interop1
BUS_IFACE=org.interop.Interop1.Manager
LOGS=${INTEROP_SD_LOGS:-}      # a dir: keep the nested host's journal and interopd's log there
FIXTURES=${INTEROP_SD_FIXTURES:-}   # a dir: capture what the nested host shows (tests/fixtures-systemd)

exec 3>&1 4>&2

cleanup() {
  local rc=$?
  exec 1>&3 2>&4
  set +e
  echo "# cleaning up"
  nh_down
  local left=()
  for m in "${NH_CGROUPS[@]}"; do [ -d "$m" ] && left+=("$m"); done
  findmnt -rn -o TARGET | grep -q "^$NH_DIR" && left+=("a mount below $NH_DIR")
  if [ "$NH_USED" = 1 ]; then
    if ((${#left[@]} == 0)) && ! ls -d "$CGROOT"/*/"$NH_CG" >/dev/null 2>&1; then
      pass "cleanup: nested host gone, no mount and no scratch cgroup of this run is left"
    else
      fail "cleanup: nested host gone, no mount and no scratch cgroup of this run is left"
      printf '%s\n' "${left[@]}" | diag
    fi
  fi
  nh_remove_dir
  finish_run "$rc"
}
NH_USED=0
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || bail "runs as root (it boots a nested systemd host)"
for tool in systemd-nspawn nsenter unshare jq lxc-create virsh; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is installed (run tools/install-deps.sh)"
done
[ -x "$ROOT/artifacts/interopctl/interopctl" ] && [ -x "$ROOT/artifacts/interopd/interopd" ] ||
  bail "artifacts/ holds the published interopctl and interopd (make publish)"

# ictl ARGS...: interopctl inside the nested host, bounded.
ictl() { inhost timeout "$CTL_TIMEOUT" "$CTL" "$@"; }

# The unit a pid of the nested host runs in, from systemd (GetUnitByPID), and a unit's property.
unit_of_pid() {
  local obj
  obj=$(inhost busctl --json=short call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager GetUnitByPID u "$1" 2>/dev/null | jq -r '.data[0]') || return 1
  [ -n "$obj" ] && inhost busctl --json=short get-property org.freedesktop.systemd1 "$obj" \
    org.freedesktop.systemd1.Unit Id 2>/dev/null | jq -r .data
}
unit_prop() { inhost systemctl show "$1" -P "$2" 2>/dev/null; }
machine_prop() { inhost machinectl show "$1" -p "$2" --value 2>&1; }

# inshell CMD...: CMD from a root login shell of the nested host (machinectl shell root@.host: a
# PAM session, session-N.scope in user.slice), as an admin types it. machinectl shell does not pass
# the exit status on (systemd 252): the shell prints it last, and inshell returns it.
inshell() {
  local cmd out rc
  cmd=$(printf '%q ' "$@")
  out=$(inhost machinectl -q shell root@.host /bin/sh -c "$cmd; echo __rc=\$?" </dev/null 2>&1 | tr -d '\r')
  rc=$(printf '%s\n' "$out" | sed -n 's/^__rc=\([0-9]*\)$/\1/p' | tail -n 1)
  printf '%s\n' "$out" | grep -v '^__rc='
  [ -n "$rc" ] || rc=255
  return "$rc"
}

# cg_mounted PID: "controllers|path" for each line of /proc/PID/cgroup (nested host's view) whose
# hierarchy is MOUNTED in the nested host. (The kernel lists every hierarchy it has; in unified
# mode the nested host mounts only cgroup2, and the v1 lines are this machine's, not its own.)
cg_mounted() {
  inhost cat /proc/self/mountinfo "/proc/$1/cgroup" 2>/dev/null | awk '
    / - cgroup2 / { v2 = 1; next }
    / - cgroup / { n = split($NF, o, ","); for (j = 1; j <= n; j++) have[o[j]] = 1; next }
    /^[0-9]+:[^:]*:/ {
      i = index($0, ":"); rest = substr($0, i + 1); j = index(rest, ":")
      ctl = substr(rest, 1, j - 1); path = substr(rest, j + 1)
      if (ctl == "") { if (v2) print "|" path; next }
      m = split(ctl, c, ","); ok = 1; for (k = 1; k <= m; k++) if (!have[c[k]]) ok = 0
      if (ok) print ctl "|" path
    }'
}

# snapshot C: what must not move while C runs: its unit, its cgroup in every mounted hierarchy,
# its machine and leader, and what interopctl says about it.
snapshot() {
  local c=$1
  echo "unit=$(unit_of_pid "${INIT[$c]:-${LEADER[$c]}}")"
  echo "leader-alive=$(inhost test -d "/proc/${LEADER[$c]}" && echo yes)"
  cg_mounted "${INIT[$c]:-${LEADER[$c]}}" | sed 's/^/cgroup /'
  echo "machine=$(machine_prop "${MACHINE[$c]}" Leader) $(machine_prop "${MACHINE[$c]}" Unit)"
  ictl --json show "$c" --manager "${MGR[$c]}" >"$NH_DIR/snap.json" 2>&1
  echo "interopctl=$(json_full "$NH_DIR/snap.json")"
}

# json_full FILE: "manager name state leader cgroup unit machine" of a single-object answer, or of
# the first row of a list; the unit and machine fields are read leniently (unit/Unit, machine/Machine).
JQ_FULL='def full: "\(.manager // .Manager // "") \(.name // .Name // "") \(.state // .State // "") \((.leader // .Leader // 0) | tostring) \(.cgroup_path // .CgroupPath // .cgroup // "") unit=\(.unit // .Unit // "") machine=\(.machine // .Machine // .machine_name // "")";'
json_full() {
  jq -r "$JQ_FULL"' (if type == "array" then .[0] else (.container // .Container // .) end) | full' "$1" 2>/dev/null
}
json_list_full() {
  jq -r --arg m "$2" --arg n "$3" "$JQ_FULL"' (if type == "array" then .[] else (.containers // .Containers)[] end)
    | select((.manager // .Manager) == $m and (.name // .Name) == $n) | full' "$1" 2>/dev/null | head -n 1
}

# unit_cg_as_leader C: a json_full line whose cgroup field is C's unit cgroup, rewritten to C's
# leader cgroup (so one expected line covers both answers).
unit_cg_as_leader() {
  U=${UNITCG[$1]:-//none} L=${CGPATH[$1]} awk '{ if ($5 == ENVIRON["U"]) $5 = ENVIRON["L"]; print }'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

# run_mode MODE: one nested host, every check; the caller runs nh_down.
run_mode() {
  local mode=$1 t0
  t0=$(now)
  echo "# --- MODE=$mode"
  mkdir -p "$NH_DIR"
  if nh_up "$mode" 2>"$NH_DIR/up.err"; then
    pass "[$mode] nested systemd host boots (its PID 1 is pid $NH_PID1 here): $(inhost systemctl is-system-running 2>&1)"
  else
    fail "[$mode] nested systemd host boots"
    diag < "$NH_DIR/up.err"
    return 1
  fi
  echo "# [$mode] booted in $(elapsed "$t0") s"
  if setup_interop "$mode"; then
    containers_start "$mode"
    containers_check "$mode"
    limits_check "$mode"
    resilience_check "$mode"
    terminate_check "$mode"
    stop_check "$mode"
    refusal_check "$mode"
    [ -n "$FIXTURES" ] && [ "$mode" = hybrid ] && capture_libvirt_native
  fi
  [ -n "$LOGS" ] && keep_logs "$mode"
  RUNTIME[$mode]=$(elapsed "$t0")
  echo "# [$mode] checks done in ${RUNTIME[$mode]} s"
}

keep_logs() {
  mkdir -p "$LOGS/$1"
  inhost journalctl --no-pager -o short-monotonic >"$LOGS/$1/journal.txt" 2>&1
  inhost cat /var/log/libvirt/libvirtd.log >"$LOGS/$1/libvirtd.log" 2>/dev/null
  echo "# [$1] journal kept in $LOGS/$1"
}

# setup_interop MODE: make install inside the nested host, bus policy reload, interopd by its unit.
setup_interop() {
  local mode=$1 fs=tmpfs
  expect_eq "[$mode] PID 1 of the nested host is systemd 252" "systemd 252" \
    "$(inhost systemctl --version 2>&1 | head -n 1 | awk '{print $1, $2}')"
  [ "$mode" = unified ] && fs=cgroup2fs
  expect_eq "[$mode] /sys/fs/cgroup inside is $fs" "$fs" "$(inhost stat -fc %T /sys/fs/cgroup 2>&1)"
  check "[$mode] machined answers (machinectl list)" inhost machinectl list --no-legend
  if ! check "[$mode] make -o publish install, run inside the nested host (nothing is built there)" \
    inhost make -s -o publish -C "$ROOT" install PREFIX=$PREFIX; then
    # Go on with the rest of the checks: the same install over a config that leaves shared_root
    # to its default (the failure above is counted).
    inhost sed -i 's/^shared_root:/# shared_root:/' /etc/interop/interop.yaml
    check "[$mode] make -o publish install again, shared_root left to its default in /etc/interop/interop.yaml" \
      inhost make -s -o publish -C "$ROOT" install PREFIX=$PREFIX || return 1
  fi
  check "[$mode] the system bus reloads its policy (ReloadConfig)" \
    inhost busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
  check "[$mode] systemctl daemon-reload sees interopd.service" reload_sees_interopd
  if ! check "[$mode] systemctl start interopd" inhost timeout 30 systemctl start interopd.service; then
    inhost journalctl -u interopd --no-pager -n 20 | diag
    return 1
  fi
  expect_eq "[$mode] interopd.service is active" active "$(unit_prop interopd.service ActiveState)"
  check "[$mode] interopctl status exits 0" ictl status
  expect_eq "[$mode] CgroupMode property" "$mode" "$(inhost busctl --json=short get-property "$BUS_NAME" "$BUS_PATH" "$BUS_IFACE" CgroupMode 2>&1 | jq -r .data 2>&1)"
  local sr
  sr=$(inhost busctl --json=short get-property "$BUS_NAME" "$BUS_PATH" "$BUS_IFACE" SharedRoot 2>&1 | jq -r .data 2>&1)
  check "[$mode] the shared root is the slice $SLICE (SharedRoot = $sr)" bash -c "[[ '$sr' =~ ^/?$SLICE/?\$ ]]"
  check "[$mode] the LXC include sets lxc.cgroup.relative = 1 on a systemd host" \
    inhost grep -Eq '^lxc\.cgroup\.relative *= *1$' /usr/share/interop/lxc.conf
  check "[$mode] the LXC include runs the installed interopctl hooks" \
    inhost grep -Eq "^lxc\.hook\.pre-start *= *$CTL hook lxc" /usr/share/interop/lxc.conf
  # cgroup2 is mounted in both modes: interopd learns the init itself and registers the machine.
  check "[$mode] the LXC include has no start-host hook (interopd watches the payload's cgroup.events)" \
    inhost sh -c '! grep -q "^lxc\.hook\.start-host" /usr/share/interop/lxc.conf'
  return 0
}

reload_sees_interopd() { inhost systemctl daemon-reload && inhost systemctl cat interopd.service >/dev/null; }

# LXC containers: only the include in their config (lxc-create -t busybox adds its own lines).
lxc_create_in() {
  inhost sh -c "printf 'lxc.include = /usr/share/interop/lxc.conf\\n' > /root/$1.conf && lxc-create -n '$1' -t busybox -f /root/$1.conf >/root/$1.create.log 2>&1"
}

declare -A LEADER INIT MGR UNIT UNITCG MACHINE CGPATH EXPECT_UNIT EXPECT_UNIT_ESC RUNTIME
ALL=()

containers_start() {
  local mode=$1 c
  UNIT=(); UNITCG=(); CGPATH=(); INIT=(); LEADER=(); MACHINE=(); EXPECT_UNIT=(); EXPECT_UNIT_ESC=()
  L1=sdl-$RUN-a     # lxc-start -n NAME from a root shell
  L2=sdl-$RUN-b     # systemctl start lxc@NAME
  V=sdv-$RUN-c      # virsh start, no <resource> (hybrid only)
  ALL=("$L1" "$L2")
  MGR[$L1]=lxc; MGR[$L2]=lxc
  check "[$mode] lxc-create $L1 (busybox, config: only the lxc.include)" lxc_create_in "$L1"
  check "[$mode] lxc-create $L2 (busybox, config: only the lxc.include)" lxc_create_in "$L2"
  check "[$mode] lxc-start -n $L1 from a root login shell" inshell lxc-start -n "$L1" -l INFO -o "/root/$L1.log"
  check "[$mode] $L1 RUNNING" inhost lxc-wait -n "$L1" -s RUNNING -t 10 || {
    inhost grep -E 'ERROR|hook' "/root/$L1.log" | tail -n 8 | diag; }
  check "[$mode] systemctl start lxc@$L2" inhost timeout 30 systemctl start "lxc@$L2.service"
  check "[$mode] $L2 RUNNING" inhost lxc-wait -n "$L2" -s RUNNING -t 10 || {
    inhost journalctl -u "lxc@$L2.service" --no-pager -n 8 | diag; }
  for c in "$L1" "$L2"; do
    LEADER[$c]=$(inhost lxc-info -n "$c" -p -H 2>/dev/null)
    INIT[$c]=${LEADER[$c]}
    MACHINE[$c]=$c
    # No start-host hook: interopd registers the init (and the machine) when it enters its cgroup.
    check "[$mode] lxc $c registered by interopd with its machine, without a start-host hook" \
      wait_until 10 registered_with_machine "$c" "${LEADER[$c]}"
  done
  EXPECT_UNIT[$L1]=lxc-$L1.scope
  EXPECT_UNIT_ESC[$L1]=lxc-$(inhost systemd-escape -- "$L1").scope
  EXPECT_UNIT[$L2]=lxc@$L2.service
  [ "$mode" = hybrid ] || return 0
  ALL+=("$V")
  MGR[$V]=libvirt
  # libvirtd as the recipe starts it: a transient unit, a private mount namespace where the cgroup2
  # mount is moved out of /sys (libvirt bind-mounts every cgroup2 mount into the guest), LXC driver only.
  check "[$mode] libvirtd starts (transient unit, LXC driver only)" inhost systemd-run -q --unit=interop-sdh-libvirtd \
    -p KillMode=process -E LIBVIRT_DRIVER_DIR=/usr/local/lib/interop-sdh-drv \
    /usr/bin/unshare -m --propagation private /bin/sh -c \
    'mkdir -p /run/interop-sdh-cg2 && mount --move /sys/fs/cgroup/unified /run/interop-sdh-cg2 && exec /usr/sbin/libvirtd'
  check "[$mode] libvirtd answers" wait_until 20 inhost "${VIRSH[@]}" version
  inhost sh -c "cat > /root/$V.xml" <<EOF
<domain type='lxc'>
  <name>$V</name>
  <memory unit='KiB'>131072</memory>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>sleep 600</initarg>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices><console type='pty'/></devices>
</domain>
EOF
  check "[$mode] virsh define $V (no <resource>)" inhost "${VIRSH[@]}" define "/root/$V.xml"
  if ! check "[$mode] virsh start $V" inhost timeout 30 "${VIRSH[@]}" start "$V"; then
    ALL=("$L1" "$L2")   # one failure says it: the domain's own checks are not run
    return 0
  fi
  LEADER[$V]=$(inhost cat "/run/libvirt/lxc/$V.pid" 2>/dev/null)
  INIT[$V]=$([ -n "${LEADER[$V]}" ] && inhost cat "/proc/${LEADER[$V]}/task/${LEADER[$V]}/children" 2>/dev/null | awk '{print $1}')
  MACHINE[$V]=lxc-${LEADER[$V]}-$V
  EXPECT_UNIT[$V]="machine-lxc\\x2d${LEADER[$V]}\\x2d${V//-/\\x2d}.scope"
}

# tree_names FILE WORD...: every WORD is a whole string somewhere in the JSON FILE; names the missing.
tree_names() {
  local f=$1 w missing=()
  shift
  for w in "$@"; do
    jq -r '.. | strings' "$f" 2>/dev/null | grep -qxF -- "$w" || missing+=("$w")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "not in interopctl --json tree: ${missing[*]}"
  jq -c '.. | objects | select(has("name") or has("Name"))' "$f" 2>&1 | head -n 8
  return 1
}

# containers_check MODE: points 1-3 of issue 11 while all run.
containers_check() {
  local mode=$1 c u slice lines paths path cg other
  for c in "${ALL[@]}"; do
    UNIT[$c]=; UNITCG[$c]=; CGPATH[$c]=
  done
  for c in "${ALL[@]}"; do
    if ! inhost test -n "${LEADER[$c]}" -a -d "/proc/${LEADER[$c]}"; then
      fail "[$mode] ${MGR[$c]} $c has a live leader (got '${LEADER[$c]}')"
      continue
    fi
    u=$(unit_of_pid "${INIT[$c]:-${LEADER[$c]}}")
    UNIT[$c]=$u
    slice=$([ -n "$u" ] && unit_prop "$u" Slice)
    expect_eq "[$mode] ${MGR[$c]} $c (init ${INIT[$c]:-${LEADER[$c]}}) runs in a unit in $SLICE" "$SLICE" "$slice" ||
      echo "unit: '${u:-none}'" | diag
    # lxc-NAME.scope may carry NAME systemd-escaped (as machined names its scopes): either is fine
    if [ -n "$u" ] && { [ "$u" = "${EXPECT_UNIT[$c]}" ] || [ "$u" = "${EXPECT_UNIT_ESC[$c]:-}" ]; }; then
      pass "[$mode] ${MGR[$c]} $c: its unit is $u"
    else
      fail "[$mode] ${MGR[$c]} $c: its unit is ${EXPECT_UNIT[$c]}${EXPECT_UNIT_ESC[$c]:+ or ${EXPECT_UNIT_ESC[$c]}}"
      echo "got: '$u'" | diag
    fi
    cg=$([ -n "$u" ] && unit_prop "$u" ControlGroup)
    UNITCG[$c]=$cg
    # the leader's cgroup, from the hierarchy systemd tracks units in (cgroup2, else name=systemd)
    CGPATH[$c]=$(cg_mounted "${LEADER[$c]}" | awk -F'|' '$1 == "" { v2 = $2 } $1 == "name=systemd" { sd = $2 } END { print (v2 != "" ? v2 : sd) }')
    # every mounted hierarchy: one path, below the unit's cgroup
    # the container's init (LXC: the leader; libvirt: the guest's init below libvirt_lxc, whose
    # controller process keeps some of libvirtd's own placement and is not the container)
    local pids=("${INIT[$c]:-${LEADER[$c]}}")
    for pid in "${pids[@]}"; do
      lines=$(cg_mounted "$pid")
      paths=$(printf '%s\n' "$lines" | cut -d'|' -f2 | sort -u)
      path=$(printf '%s\n' "$paths" | head -n 1)
      if [ -n "$lines" ] && [ "$(printf '%s\n' "$paths" | wc -l)" -eq 1 ] && [ -n "$cg" ] &&
         [[ "$path" == "$cg" || "$path" == "$cg/"* ]]; then
        pass "[$mode] ${MGR[$c]} $c pid $pid: one cgroup in all $(printf '%s\n' "$lines" | wc -l) mounted hierarchies, in its unit: $path"
      else
        fail "[$mode] ${MGR[$c]} $c pid $pid: one cgroup in every mounted hierarchy, in its unit (${cg:-no unit})"
        printf '%s\n' "$lines" | diag
      fi
    done
  done
  # each in a unit of its own
  local units
  units=$(for c in "${ALL[@]}"; do echo "${UNIT[$c]}"; done | grep -v '^$' | sort -u | wc -l)
  expect_eq "[$mode] each container in a unit of its own" "${#ALL[@]}" "$units"
  # v1 hierarchies systemd does not manage: Interop made the same dirs, with a valid cpuset
  if [ "$mode" = hybrid ]; then
    expect_eq "[$mode] cpuset $SLICE has cgroup.clone_children = 1" 1 "$(inhost cat "/sys/fs/cgroup/cpuset/$SLICE/cgroup.clone_children" 2>&1)"
    for c in "${ALL[@]}"; do
      check "[$mode] $c: cpuset ${CGPATH[$c]} has cpus and mems" inhost sh -c \
        "test -n \"\$(cat '/sys/fs/cgroup/cpuset${CGPATH[$c]}/cpuset.cpus')\" && test -n \"\$(cat '/sys/fs/cgroup/cpuset${CGPATH[$c]}/cpuset.mems')\""
    done
  fi
  # nothing outside a unit: no /machine, no lxc.* dir at a hierarchy root or directly in the slice
  other=$(inhost sh -c 'ls -d /sys/fs/cgroup/machine /sys/fs/cgroup/*/machine /sys/fs/cgroup/lxc.* /sys/fs/cgroup/*/lxc.* /sys/fs/cgroup/machine.slice/lxc.* /sys/fs/cgroup/*/machine.slice/lxc.* 2>/dev/null')
  expect_eq "[$mode] no cgroup outside a unit (no /machine, no lxc.* at a root or in $SLICE)" "" "$other"
  # machined: both managers' containers
  inhost machinectl list --no-legend --no-pager >"$NH_DIR/machines.txt" 2>&1
  for c in "${ALL[@]}"; do
    check "[$mode] machinectl list shows ${MGR[$c]} $c as ${MACHINE[$c]}" awk -v m="${MACHINE[$c]}" '$1 == m { f = 1 } END { exit !f }' "$NH_DIR/machines.txt"
    expect_eq "[$mode] machinectl show ${MACHINE[$c]}: Unit" "${UNIT[$c]:-?}" "$(machine_prop "${MACHINE[$c]}" Unit)"
  done
  # interopctl: list, show, whois (leader and a pid inside), tree, with unit and machine names
  ictl --json list >"$NH_DIR/list.json" 2>&1
  for c in "${ALL[@]}"; do
    # the cgroup interopctl reports: the leader's, or its unit's (which holds it); either is fine
    local want="${MGR[$c]} $c running ${LEADER[$c]} ${CGPATH[$c]} unit=${UNIT[$c]:-?} machine=${MACHINE[$c]}"
    expect_eq "[$mode] interopctl --json list: $c with unit and machine" "$want" "$(json_list_full "$NH_DIR/list.json" "${MGR[$c]}" "$c" | unit_cg_as_leader "$c")"
    ictl --json show "$c" --manager "${MGR[$c]}" >"$NH_DIR/show.json" 2>&1
    expect_eq "[$mode] interopctl --json show $c" "$want" "$(json_full "$NH_DIR/show.json" | unit_cg_as_leader "$c")"
    ictl --json whois "${LEADER[$c]}" >"$NH_DIR/whois.json" 2>&1
    expect_eq "[$mode] interopctl --json whois ${LEADER[$c]} (leader of $c)" "$want" "$(json_full "$NH_DIR/whois.json" | unit_cg_as_leader "$c")"
    local inner
    inner=$(inhost sh -c "cat /proc/${LEADER[$c]}/task/*/children" 2>/dev/null | awk '{print $1}')
    if [ -n "$inner" ]; then
      ictl --json whois "$inner" >"$NH_DIR/whois.json" 2>&1
      expect_eq "[$mode] interopctl --json whois $inner (a pid inside $c)" "$want" "$(json_full "$NH_DIR/whois.json" | unit_cg_as_leader "$c")"
    fi
  done
  ictl --json tree >"$NH_DIR/tree.json" 2>&1
  for c in "${ALL[@]}"; do
    check "[$mode] interopctl --json tree names $c, its unit and its machine" \
      tree_names "$NH_DIR/tree.json" "$c" "${UNIT[$c]:-?}" "${MACHINE[$c]}"
  done
  # interopctl top (issue 14) on a systemd host: each container's figures from its unit's cgroups. This VM binds
  # memory and pids to v1, so the unified host has only CPU time for them; hybrid has all three.
  ictl --json top -d 0.5 >"$NH_DIR/top.json" 2>&1
  local figures='.cpu_seconds != null'
  [ "$mode" = hybrid ] && figures='.cpu_seconds != null and .memory_bytes > 0 and .pids > 0'
  for c in "${ALL[@]}"; do
    check "[$mode] interopctl --json top: $c with its figures ($figures)" \
      jq -e --arg m "${MGR[$c]}" --arg n "$c" "[.containers[] | select(.manager == \$m and .name == \$n) | $figures] == [true]" "$NH_DIR/top.json"
  done
  [ -n "$FIXTURES" ] && capture_fixtures "$mode"
  return 0
}

# limits_check MODE: point 4. interopctl set goes through systemd; a key with no property is refused.
limits_check() {
  local mode=$1 c key file before after out rc
  for c in "${ALL[@]}"; do
    [ "$c" = "$L2" ] && continue
    check "[$mode] interopctl set $c memory.max 64M" ictl set "$c" memory.max 64M --manager "${MGR[$c]}"
    expect_eq "[$mode] systemctl show ${UNIT[$c]:-?} -p MemoryMax" 67108864 "$(unit_prop "${UNIT[$c]:-none}" MemoryMax)"
    if [ "$mode" = hybrid ]; then
      expect_eq "[$mode] memory.limit_in_bytes of ${UNIT[$c]:-?} (systemd applied it)" 67108864 \
        "$(inhost cat "/sys/fs/cgroup/memory$(unit_prop "${UNIT[$c]:-none}" ControlGroup)/memory.limit_in_bytes" 2>&1)"
    fi
  done
  # a key systemd has no property for
  if [ "$mode" = hybrid ]; then
    key=memory.swappiness; file=/sys/fs/cgroup/memory${CGPATH[$L1]}/$key
  else
    key=cgroup.max.depth; file=/sys/fs/cgroup${CGPATH[$L1]}/$key
  fi
  before=$(inhost cat "$file" 2>&1)
  out=$(ictl set "$L1" "$key" 1 --manager lxc 2>&1 >/dev/null); rc=$?
  after=$(inhost cat "$file" 2>&1)
  if [ "$rc" -ne 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && grep -qF -- "$key" <<<"$out" && [ "$before" = "$after" ]; then
    pass "[$mode] interopctl set $L1 $key (no systemd property) is refused in one line (exit $rc): $out"
  else
    fail "[$mode] interopctl set $L1 $key (no systemd property) is refused in one line naming it, nothing changed"
    printf 'exit %s, stderr:\n%s\nvalue before: %s after: %s\n' "$rc" "$out" "$before" "$after" | diag
  fi
}

# resilience_check MODE: point 6. daemon-reload, restart interopd, kill -9 interopd.
resilience_check() {
  local mode=$1 c op pid i
  # The comparison proves something only when each container is in a unit, a machine and the
  # registry before: say so once per container when it is not.
  for c in "${ALL[@]}"; do
    snapshot "$c" >"$NH_DIR/before.$c"
    if ! grep -Eq '^unit=.+\.(scope|service)$' "$NH_DIR/before.$c" || ! grep -Eq '^machine=[0-9]+ .+' "$NH_DIR/before.$c" ||
       ! grep -q '^interopctl=.* running ' "$NH_DIR/before.$c"; then
      fail "[$mode] before the restarts: $c is in a unit, a machine and the registry"
      diag <"$NH_DIR/before.$c"
    fi
  done
  for op in daemon-reload restart kill; do
    case $op in
      daemon-reload) check "[$mode] systemctl daemon-reload" inhost systemctl daemon-reload ;;
      restart) check "[$mode] systemctl restart interopd" inhost timeout 30 systemctl restart interopd.service ;;
      kill)
        pid=$(unit_prop interopd.service MainPID)
        check "[$mode] kill -9 interopd (pid $pid)" inhost kill -9 "$pid"
        for i in $(seq 100); do
          [ "$(unit_prop interopd.service MainPID)" != "$pid" ] && [ "$(unit_prop interopd.service ActiveState)" = active ] && break
          sleep 0.1
        done
        expect_eq "[$mode] systemd restarts interopd after kill -9" active "$(unit_prop interopd.service ActiveState)" ||
          inhost systemctl start interopd.service
        ;;
    esac
    for c in "${ALL[@]}"; do
      snapshot "$c" >"$NH_DIR/after.$c"
      if diff -q "$NH_DIR/before.$c" "$NH_DIR/after.$c" >/dev/null; then
        pass "[$mode] after $op: $c in place, in its unit, registered (unit, cgroups, machine, interopctl unchanged)"
      else
        fail "[$mode] after $op: $c in place, in its unit, registered"
        diff "$NH_DIR/before.$c" "$NH_DIR/after.$c" | diag
      fi
    done
  done
}

# no_trace MODE C HOW: nothing of C is left: no unit, no machine, no cgroup dir, not registered.
# (systemd escapes "-" in the machine scope's name as \x2d.)
no_trace() {
  local mode=$1 c=$2 how=$3 esc
  esc=${c//-/\\x2d}
  # systemd, machined and interopd get a few seconds to let go of it
  wait_until 10 no_unit_of "$c"
  expect_eq "[$mode] after $how: no unit of $c" "" "$(units_of "$c")" ||
    inhost systemctl status --no-pager -n 0 "${UNIT[$c]:-none}" 2>&1 | tail -n 12 | diag
  wait_until 5 no_machine_of "$c"
  expect_eq "[$mode] after $how: no machine of $c" "" "$(inhost machinectl list --no-legend 2>&1 | grep -F -- "$c")"
  wait_until 5 no_cgroup_of "$c"
  expect_eq "[$mode] after $how: no cgroup dir of $c in any hierarchy" "" "$(cgroups_of "$c")"
  wait_until 5 not_registered "$c"
  check "[$mode] after $how: interopctl show $c exits 4 (unregistered)" not_registered "$c"
}

units_of() { inhost systemctl list-units --all --plain --no-legend --full 2>&1 | grep -F -e "$1" -e "${1//-/\\x2d}"; }
no_unit_of() { [ -z "$(units_of "$1")" ]; }
no_machine_of() { ! inhost machinectl list --no-legend 2>&1 | grep -qF -- "$1"; }
cgroups_of() { inhost find /sys/fs/cgroup -type d 2>&1 | grep -F -e "$1" -e "${1//-/\\x2d}"; }
no_cgroup_of() { [ -z "$(cgroups_of "$1")" ]; }
# registered_with_machine NAME PID: interopctl shows lxc NAME running with leader PID, and machined knows NAME.
registered_with_machine() {
  ictl --json show "$1" --manager lxc 2>/dev/null | jq -e --argjson p "${2:-0}" \
    '(.container // .Container // .) | ((.state // .State) == "running" and (.leader // .Leader) == $p)' >/dev/null &&
    inhost machinectl show "$1" -p Unit --value >/dev/null 2>&1
}

not_registered() {
  ictl show "$1" --manager "${MGR[$1]}"
  [ $? -eq 4 ]
}

wait_stopped() { inhost lxc-wait -n "$1" -s STOPPED -t "$2" >/dev/null 2>&1; }
is_stopped() { [ "$(inhost lxc-info -n "$1" -s -H 2>/dev/null)" = STOPPED ]; }
stopped_and_no_unit() { is_stopped "$1" && no_unit_of "$1"; }

# terminate_check MODE: point 2. machinectl terminate of the LXC container stops and unregisters it.
terminate_check() {
  local mode=$1 i
  check "[$mode] machinectl terminate $L1" inhost machinectl terminate "$L1"
  # STOPPED and its unit gone: a container whose init takes SIGTERM as "reboot" (busybox) shows
  # STOPPED for a moment and runs again, in the same unit
  wait_until 15 stopped_and_no_unit "$L1"
  check "[$mode] $L1 is STOPPED after machinectl terminate (and stays so)" is_stopped "$L1"
  no_trace "$mode" "$L1" "machinectl terminate"
  is_stopped "$L1" || inhost timeout 30 lxc-stop -n "$L1" -k >/dev/null 2>&1
}

# stop_check MODE: point 5. After a stop of each kind, nothing is left.
stop_check() {
  local mode=$1
  check "[$mode] systemctl stop lxc@$L2" inhost timeout 60 systemctl stop "lxc@$L2.service"
  check "[$mode] $L2 is STOPPED" wait_stopped "$L2" 10
  if [[ " ${ALL[*]} " == *" $V "* ]]; then
    check "[$mode] virsh destroy $V" inhost timeout 30 "${VIRSH[@]}" destroy "$V"
  fi
  sleep 0.5
  for c in "${ALL[@]}"; do
    [ "$c" = "$L1" ] && continue
    no_trace "$mode" "$c" "stop"
  done
  expect_eq "[$mode] interopctl list is empty after every stop" "[]" "$(ictl --json list 2>&1 | jq -c . 2>&1)"
}

# refusal_check MODE: point 7. A start hook that cannot get its unit (a unit of that name is
# already active) fails the start cleanly: nothing registered, no payload or monitor dir, no
# machine, and the unit that was there untouched.
refusal_check() {
  local mode=$1 esc scope
  L3=sdl-$RUN-x
  MGR[$L3]=lxc
  check "[$mode] lxc-create $L3 (busybox, config: only the lxc.include)" lxc_create_in "$L3"
  esc=$(inhost systemd-escape -- "$L3")
  scope=lxc-$esc.scope
  # the blocker: a scope of the name Interop would give L3's monitor, with a sleep in it
  inhost sh -c "systemd-run --quiet --scope --unit='$scope' --slice=$SLICE sleep 300 </dev/null >/dev/null 2>&1 &"
  check "[$mode] a unit $scope is active before the start" wait_until 10 unit_active "$scope"
  # in the foreground (-F): a start that is not refused would hang here, and times out (124).
  # (LXC 5.0.2 shows neither the shell nor its log the hook's own stderr: its message is not checked.)
  local rc
  inshell timeout 30 lxc-start -F -n "$L3" -l INFO -o "/root/$L3.log" >/dev/null 2>&1; rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
    pass "[$mode] lxc-start -F $L3 is refused while $scope is active (exit $rc)"
  else
    fail "[$mode] lxc-start -F $L3 is refused while $scope is active (exit $rc)"
  fi
  check "[$mode] $L3 is STOPPED" is_stopped "$L3"
  check "[$mode] the LXC log names the failed pre-start hook" inhost grep -q 'Failed to run lxc.hook.pre-start' "/root/$L3.log"
  check "[$mode] $L3 is not registered (interopctl show exits 4)" not_registered "$L3"
  expect_eq "[$mode] no payload or monitor dir of $L3 in any hierarchy" "" \
    "$(inhost find /sys/fs/cgroup -type d \( -name "lxc.payload.$L3*" -o -name "lxc.monitor.$L3*" \) 2>&1)"
  expect_eq "[$mode] no machine $L3" "" "$(inhost machinectl list --no-legend 2>&1 | grep -F -- "$L3")"
  expect_eq "[$mode] $scope untouched: still active, its sleep still in it" "active 1" \
    "$(unit_prop "$scope" ActiveState) $(unit_procs "$scope" | wc -l)"
  inhost systemctl stop "$scope" >/dev/null 2>&1
  wait_until 10 no_unit_of "$L3"
  expect_eq "[$mode] once $scope is stopped: no unit, no cgroup dir of $L3" "" "$(units_of "$L3"; cgroups_of "$L3")"
}

unit_active() { [ "$(unit_prop "$1" ActiveState)" = active ]; }
# unit_procs UNIT: the pids in UNIT's cgroup, from the hierarchy systemd tracks units in
unit_procs() {
  inhost sh -c 'cg=$(systemctl show "$1" -P ControlGroup); for m in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -f "$m$cg/cgroup.procs" ] && { cat "$m$cg/cgroup.procs"; exit 0; }; done' _ "$1"
}

# capture_fixtures MODE: what the nested host shows, for the unit tests (tests/fixtures-systemd).
capture_fixtures() {
  local mode=$1 d=$FIXTURES/$1 c u
  mkdir -p "$d"
  inhost cat /proc/self/mountinfo >"$d/mountinfo"
  for c in "${ALL[@]}"; do
    inhost cat "/proc/${LEADER[$c]}/cgroup" >"$d/${MGR[$c]}-${c##*-}.leader.cgroup" 2>&1
    [ -n "${INIT[$c]}" ] && [ "${INIT[$c]}" != "${LEADER[$c]}" ] && inhost cat "/proc/${INIT[$c]}/cgroup" >"$d/${MGR[$c]}-${c##*-}.init.cgroup" 2>&1
  done
  {
    for c in "${ALL[@]}"; do
      u=${UNIT[$c]}
      [ -n "$u" ] && inhost systemctl show "$u" -p Id -p ControlGroup -p Slice -p Delegate -p MemoryMax 2>&1 && echo
    done
  } >"$d/units.show"
  inhost machinectl list --no-legend --no-pager >"$d/machinectl.list" 2>&1
  ictl --json list >"$d/interopctl-list.json" 2>&1
  echo "# [$mode] fixtures captured in $d"
}

# capture_libvirt_native: (fixtures only, hybrid) libvirt's own layout under machined, without
# Interop's hook: libvirtd is restarted without it, the domain started, captured and destroyed.
capture_libvirt_native() {
  local d=$FIXTURES/hybrid/libvirt-native ctl init scope
  mkdir -p "$d"
  inhost systemctl stop interop-sdh-libvirtd.service >/dev/null 2>&1
  inhost rm -f /etc/libvirt/hooks/lxc.d/interop
  inhost systemd-run -q --unit=interop-sdh-libvirtd2 -p KillMode=process -E LIBVIRT_DRIVER_DIR=/usr/local/lib/interop-sdh-drv \
    /usr/bin/unshare -m --propagation private /bin/sh -c \
    'mkdir -p /run/interop-sdh-cg2 && mount --move /sys/fs/cgroup/unified /run/interop-sdh-cg2 && exec /usr/sbin/libvirtd'
  wait_until 20 inhost "${VIRSH[@]}" version
  inhost "${VIRSH[@]}" define "/root/$V.xml" >/dev/null 2>&1
  if ! inhost timeout 30 "${VIRSH[@]}" start "$V" >"$d/virsh-start.err" 2>&1; then
    echo "# [hybrid] libvirt without Interop did not start: $(head -c 300 "$d/virsh-start.err")"
    return 0
  fi
  rm -f "$d/virsh-start.err"
  ctl=$(inhost cat "/run/libvirt/lxc/$V.pid")
  init=$(inhost cat "/proc/$ctl/task/$ctl/children" | awk '{print $1}')
  inhost cat "/proc/$ctl/cgroup" >"$d/libvirt-c.controller.cgroup"
  inhost cat "/proc/$init/cgroup" >"$d/libvirt-c.init.cgroup"
  scope=$(unit_of_pid "$ctl")
  inhost systemctl show "$scope" -p Id -p ControlGroup -p Slice -p Delegate >"$d/units.show" 2>&1
  inhost machinectl list --no-legend --no-pager >"$d/machinectl.list" 2>&1
  inhost machinectl show "lxc-$ctl-$V" >"$d/machinectl.show" 2>&1
  inhost "${VIRSH[@]}" destroy "$V" >/dev/null 2>&1
  echo "# [hybrid] libvirt's own layout captured in $d"
}
for MODE in $MODES; do
  NH_USED=1
  run_mode "$MODE"
  nh_down
done
for MODE in $MODES; do
  echo "# MODE=$MODE: ${RUNTIME[$MODE]:-?} s"
done
exit 0
