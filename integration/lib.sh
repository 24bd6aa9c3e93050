# integration/lib.sh: helpers for integration/run.sh (sourced, not run).
# TAP-like reporting, a cleanup registry that the EXIT trap drains, and small readers for
# /proc/<pid>/cgroup, cgroupfs, interopctl --json and busctl --json.

N=0
PASSED=0
FAILED=0

# ok/not ok lines ------------------------------------------------------------------------

pass() {
  N=$((N + 1)); PASSED=$((PASSED + 1))
  echo "ok $N - $*"
}

fail() {
  N=$((N + 1)); FAILED=$((FAILED + 1))
  echo "not ok $N - $*"
}

diag() {
  local line
  while IFS= read -r line; do
    echo "#   $line"
  done
}

# check DESC CMD ARGS...: runs CMD; ok when it exits 0. Its output is shown only on failure.
check() {
  local desc=$1; shift
  local out
  if out=$("$@" 2>&1); then
    pass "$desc"
    return 0
  fi
  fail "$desc"
  printf '%s\n' "$out" | tail -n 15 | diag
  return 1
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then
    pass "$1"
    return 0
  fi
  fail "$1"
  printf 'expected: %s\n     got: %s\n' "$2" "$3" | diag
  return 1
}

# bail REASON: one failed check, then stop (the EXIT trap cleans up and prints the totals).
bail() {
  fail "$*"
  echo "# bailing out: $*"
  exit 1
}

# Waiting ------------------------------------------------------------------------------------

# wait_until SECONDS CMD ARGS...: polls CMD every 0.1 s until it succeeds or time runs out.
wait_until() {
  local limit=$(( $1 * 10 )); shift
  local i
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null
}

pid_gone() {
  ! pid_alive "$1"
}

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL. Only ever a pid this suite started.
stop_pid() {
  local pid=$1 grace=${2:-5}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  if ! wait_until "$grace" pid_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    wait_until 5 pid_gone "$pid"
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# cgroupfs -----------------------------------------------------------------------------------

CGROOT=${CGROOT:-/sys/fs/cgroup}

# Every mounted cgroup hierarchy's mount point, from mountinfo (not from directory names).
hierarchy_mounts() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
         if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u
}

# The v1 hierarchy that carries controller C (e.g. cpuset, memory, freezer).
controller_mount() {
  awk -v c="$1" '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
         if ($(i + 1) != "cgroup") next
         n = split($(i + 3), o, ","); for (j = 1; j <= n; j++) if (o[j] == c) { print $5; exit } }' /proc/self/mountinfo
}

# cgroup_lines PID: "controllers|path" per line of /proc/PID/cgroup ("" for the v2 line).
# Not a tab: read would fold the empty controllers field of the v2 line away.
cgroup_lines() {
  awk '{ i = index($0, ":"); rest = substr($0, i + 1); j = index(rest, ":");
         printf "%s|%s\n", substr(rest, 1, j - 1), substr(rest, j + 1) }' "/proc/$1/cgroup"
}

# cgroup_mismatches PID EXPECTED SKIP_REGEX: prints every line of /proc/PID/cgroup whose
# path is not EXPECTED, skipping controller fields that match SKIP_REGEX; prints nothing when
# all match. Also fails (prints) when no line was compared.
cgroup_mismatches() {
  local pid=$1 expected=$2 skip=$3 compared=0 ctl path
  while IFS='|' read -r ctl path; do
    if [ -n "$skip" ] && [[ "$ctl" =~ $skip ]]; then
      continue
    fi
    compared=$((compared + 1))
    if [ "$path" != "$expected" ]; then
      echo "${ctl:-(v2)}: $path"
    fi
  done < <(cgroup_lines "$pid")
  if [ "$compared" -eq 0 ]; then
    echo "no hierarchy compared for pid $pid"
  fi
}

# Dirs named like NAME anywhere under the shared root of every hierarchy.
dirs_matching() {
  local m pattern=$1
  for m in $(hierarchy_mounts); do
    [ -d "$m$SHARED_ROOT" ] || continue
    find "$m$SHARED_ROOT" -mindepth 1 -type d -name "$pattern" 2>/dev/null
  done
}

# interopctl --json and busctl --json readers ----------------------------------------------
# The CLI's JSON field names are read leniently (snake_case, camelCase or PascalCase) so a
# naming change in interopctl shows up as a clear value mismatch, not a jq error.

JQ_NORM='def norm: {
  manager: (.manager // .Manager // ""),
  name: (.name // .Name // ""),
  state: (.state // .State // ""),
  leader: ((.leader // .Leader // .leader_pid // .leaderPid // 0) | tostring),
  cgroup: (.cgroup_path // .cgroupPath // .CgroupPath // .cgroup // "")
};
def rows: if type == "array" then .[] elif (.containers // .Containers) != null then (.containers // .Containers)[] else . end;'

# json_row FILE MANAGER NAME: "manager name state leader cgroup" of that container, or nothing.
json_row() {
  jq -r --arg m "$2" --arg n "$3" "$JQ_NORM"' rows | norm | select(.manager == $m and .name == $n)
    | "\(.manager) \(.name) \(.state) \(.leader) \(.cgroup)"' "$1" 2>/dev/null | head -n 1
}

# json_one FILE: the same line for a single-object answer (show, whois).
json_one() {
  jq -r "$JQ_NORM"' (if type == "array" then .[0] else (.container // .Container // .) end) | norm
    | "\(.manager) \(.name) \(.state) \(.leader) \(.cgroup)"' "$1" 2>/dev/null
}

# bus_list_row MANAGER NAME: the same line from ListContainers over busctl.
bus_list_row() {
  busctl --system --auto-start=no --json=short call "$BUS_NAME" "$BUS_PATH" "$BUS_IFACE" ListContainers 2>/dev/null |
    jq -r --arg m "$1" --arg n "$2" '.data[0][] | select(.[0] == $m and .[1] == $n)
      | "\(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[4])"' | head -n 1
}

# bus_signalled FILE MEMBER MANAGER NAME: the monitor capture holds that signal.
bus_signalled() {
  jq -e -s --arg s "$2" --arg m "$3" --arg n "$4" \
    'map(select(.member == $s and .payload.data[0] == $m and .payload.data[1] == $n)) | length > 0' \
    "$1" >/dev/null 2>&1
}

# The machine-wide lock ----------------------------------------------------------------------

# take_integration_lock: one real-manager run at a time on a machine. Every run installs into the
# same system paths, talks to the one system bus and starts libvirtd or a nested host; a second run
# waits here (fd 8, held until the script exits; 30 min at most).
take_integration_lock() {
  INTEROP_IT_LOCK=${INTEROP_IT_LOCK:-/run/lock/interop-integration.lock}
  mkdir -p "$(dirname "$INTEROP_IT_LOCK")"
  exec 8>"$INTEROP_IT_LOCK"
  flock -w 1800 8 || { echo "integration: another run holds $INTEROP_IT_LOCK for 30 min; giving up" >&2; exit 1; }
}

# Cleanup of the real managers' containers ------------------------------------------------------

# remove_lxc_container NAME: stop (kill) and destroy an LXC container of this run, if LXC knows it.
remove_lxc_container() {
  if lxc-info -n "$1" >/dev/null 2>&1; then
    timeout 30 lxc-stop -n "$1" -k >/dev/null 2>&1
    timeout 30 lxc-destroy -n "$1" -f >/dev/null 2>&1
  fi
}

# remove_libvirt_domain NAME LIBVIRTD_PID: destroy and undefine a domain of this run while its libvirtd
# runs; a domain whose libvirtd is gone has its controller (libvirt_lxc) stopped by the pid libvirt
# recorded for it (the container's init goes with it). Then what libvirt leaves of a stopped domain:
# its log, its runtime dirs (rmdir only: never a mount point, never a dir with something in it) and socket.
remove_libvirt_domain() {
  local name=$1 libvirtd=$2 pid d
  if pid_alive "$libvirtd"; then
    timeout 30 virsh -q destroy "$name" >/dev/null 2>&1
    timeout 30 virsh -q undefine "$name" >/dev/null 2>&1
  fi
  pid=$(cat "/run/libvirt/lxc/$name.pid" 2>/dev/null)
  if [ -n "$pid" ] && pid_alive "$pid" && grep -q libvirt_lxc "/proc/$pid/cmdline" 2>/dev/null; then
    stop_pid "$pid" 10
    rm -f "/run/libvirt/lxc/$name.pid" "/run/libvirt/lxc/$name.xml"
  fi
  rm -f "/var/log/libvirt/lxc/$name.log"
  for d in "/run/libvirt/lxc/$name".{dev,devpts,fuse}; do
    [ -d "$d" ] && ! mountpoint -q "$d" && rmdir -- "$d" 2>/dev/null
  done
  [ -S "/run/libvirt/lxc/$name.sock" ] && rm -f -- "/run/libvirt/lxc/$name.sock"
}

# containers_left: what is left of this run's containers (CLEAN_LXC, CLEAN_VIRSH), one path a line.
containers_left() {
  local name f
  for name in "${CLEAN_LXC[@]}"; do
    [ -e "/var/lib/lxc/$name" ] && echo "/var/lib/lxc/$name"
  done
  for name in "${CLEAN_VIRSH[@]}"; do
    for f in "/etc/libvirt/lxc/$name.xml" "/run/libvirt/lxc/$name".{dev,devpts,fuse,sock,pid,xml}; do
      [ -e "$f" ] && echo "$f"
    done
  done
  return 0
}

# What interopd's setup changes on the host ----------------------------------------------------

# record_shared_root: before a run, the dirs under SHARED_ROOT in every hierarchy (to PREEXISTING_DIRS) and
# the v2 root's cgroup.subtree_control (to SUBTREE_BEFORE): setup (boundary /) may add to both.
record_shared_root() {
  local m
  for m in $(hierarchy_mounts); do
    [ -d "$m$SHARED_ROOT" ] && find "$m$SHARED_ROOT" -type d
  done > "$PREEXISTING_DIRS" 2>/dev/null
  [ -f "$CGROOT/unified/cgroup.subtree_control" ] && SUBTREE_BEFORE="= $(cat "$CGROOT/unified/cgroup.subtree_control")"
  return 0
}

# restore_shared_root: after a run, every dir under SHARED_ROOT that was not there before, deepest first
# (rmdir only: a dir with tasks stays, and says so), then the v2 controllers the run enabled at the root.
restore_shared_root() {
  local m d c
  if [ -f "$PREEXISTING_DIRS" ]; then
    for m in $(hierarchy_mounts); do
      [ -d "$m$SHARED_ROOT" ] || continue
      find "$m$SHARED_ROOT" -depth -type d 2>/dev/null | while IFS= read -r d; do
        grep -qxF -- "$d" "$PREEXISTING_DIRS" || rmdir -- "$d" 2>/dev/null || echo "# left behind (busy): $d"
      done
    done
  fi
  if [ -n "$SUBTREE_BEFORE" ]; then
    for c in $(cat "$CGROOT/unified/cgroup.subtree_control" 2>/dev/null); do
      case " ${SUBTREE_BEFORE#= } " in *" $c "*) ;; *) echo "-$c" > "$CGROOT/unified/cgroup.subtree_control" 2>/dev/null || echo "# left enabled: $c" ;; esac
    done
  fi
}

# finish_run RC: the closing line the Makefile adds up, and the run's exit status (1 on any failed check
# or a non-zero RC).
finish_run() {
  echo "integration: $PASSED passed, $FAILED failed"
  if [ "$FAILED" -gt 0 ] || [ "$1" -ne 0 ]; then
    exit 1
  fi
  exit 0
}
