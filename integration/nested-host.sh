# integration/nested-host.sh: a nested systemd host for integration/systemd.sh (sourced, not run).
#
# systemd 252 boots as PID 1 of a systemd-nspawn container whose root is an overlay of this
# machine's / (upper and work dirs on a fresh tmpfs), in MODE=hybrid (nspawn copies this host's
# layout: v1 controllers + name=systemd + cgroup2 at /sys/fs/cgroup/unified) or MODE=unified
# (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1: one cgroup2 at /sys/fs/cgroup). Learned from the team's
# recipe (2026-11-30, systemd 252, LXC 5.0.2, libvirt 9.0.0); the workarounds this kind of VM needs:
#  - a scratch cgroup NH_CG in EVERY hierarchy (memory included) and every process this file
#    starts first moves itself there (nh-incg), so nothing lands under the caller's cgroups
#    (memory:/process_api/... on this machine); only those new processes are ever moved;
#  - nspawn mounts the v1 controller hierarchies read-only: a PID-1 wrapper remounts them rw
#    before it execs systemd, so systemd, LXC and libvirt inside can make cgroups there;
#  - libvirt 9.0 needs a non-empty v2 cgroup.controllers inside (else NoMachineForPID): the
#    cgroup2 mount's only controller (hugetlb) is handed down to the nested host's cgroup (and
#    enabled at the cgroup2 root first when it is not; nh_down takes back what it enabled);
#  - units that would start daemons or fail in a container are masked, including whatever a
#    package on this machine's / ships (prometheus, node-exporter, libvirt's own units: the
#    suite starts libvirtd by hand) and any interopd unit not installed by the suite.
# nh_down stops everything by pid (poweroff, then SIGKILL of the nested PID 1 and of nspawn),
# unmounts the overlay and the tmpfs, and removes the scratch cgroups, children first.
#
# Needs: root, systemd-nspawn (systemd-container), a cgroup v1 or hybrid machine (this one).
# Uses: NH_TAG (unique per run, set by the caller), NH_MODE, CGROOT and hierarchy_mounts (lib.sh).

NH_TAG=${NH_TAG:-$$}
NH_CG=interop-sdh.$NH_TAG          # the scratch cgroup, in every hierarchy
NH_DIR=/tmp/interop-sdh.$NH_TAG    # overlay, tmpfs, logs, helper scripts
NH_ROOTFS=$NH_DIR/rootfs
NH_MACHINE=interop-sdh
# The source tree, bound into the nested host at the same path: nspawn mounts a fresh tmpfs on /tmp
# and the overlay shows no other mount, so a checkout there (CI's clone may be anywhere) would be missing.
NH_REPO=${NH_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NH_NSPAWN_PID=
NH_PID1=
NH_MOUNTED=()                      # what nh_up mounted, unmounted in reverse order
NH_CGROUPS=()                      # the scratch cgroup roots nh_up made
NH_NSPAWN_RUN_EXISTED=
NH_ROOT_SUBTREE_ADDED=             # controllers nh_up enabled at the cgroup2 root
# Units masked in the nested host: what would start a daemon the suite does not want, or fail
# in a container, or start another Interop than the one the suite installs.
NH_MASK=(
  postgresql.service lxc.service lxc-net.service lxc-monitord.service getty@tty1.service
  console-getty.service systemd-timesyncd.service systemd-pstore.service e2scrub_reap.service
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer
  dpkg-db-backup.timer logrotate.timer ssh.service cron.service
  prometheus.service prometheus-node-exporter.service prometheus-node-exporter-apt.timer
  prometheus-node-exporter-smartmon.timer prometheus-node-exporter-nvme.timer
  prometheus-node-exporter-ipmitool-sensor.timer prometheus-node-exporter-mellanox-hca-temp.timer
  libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket libvirtd-tcp.socket
  libvirtd-tls.socket virtlogd.service virtlogd.socket virtlogd-admin.socket virtlockd.service
  virtlockd.socket virtlockd-admin.socket libvirt-guests.service virtlxcd.service virtlxcd.socket
  virtqemud.service virtqemud.socket virtnetworkd.service virtnetworkd.socket
)
# What a package or an earlier install on this machine's / may have put in place of Interop's
# files: removed from the overlay before the suite's own `make install`.
NH_FOREIGN_INTEROP=(
  /usr/bin/interopctl /usr/sbin/interopd /usr/lib/interop /usr/local/bin/interopctl
  /usr/local/sbin/interopd /usr/local/lib/interop /etc/interop /var/lib/interop
  /usr/share/interop /etc/libvirt/hooks/lxc.d/interop
  /usr/share/dbus-1/system.d/org.interop.Interop1.conf
  /usr/share/dbus-1/system-services/org.interop.Interop1.service
  /usr/lib/systemd/system/interopd.service /lib/systemd/system/interopd.service
  /etc/systemd/system/interopd.service /etc/systemd/system/dbus-org.interop.Interop1.service
  /etc/systemd/system/multi-user.target.wants/interopd.service
  /etc/systemd/system/lxc@.service.d /run/systemd/system/lxc@.service.d
)

nh_log() { echo "# [nested host] $*"; }

# The v1 hierarchies that carry controllers (not named ones): the scratch cgroup itself.
# name=systemd and cgroup2: a child (launch for nspawn, ctl for nsenter'd commands), as nspawn
# makes its own children below its cgroup there and v2 allows no process in an inner node.
nh_mounts_v1() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
         if ($(i + 1) == "cgroup" && $(i + 3) !~ /(^|,)name=/) print $5 }' /proc/self/mountinfo | sort -u
}
nh_mounts_sd() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
         if ($(i + 1) == "cgroup2" || ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)name=systemd(,|$)/)) print $5 }' /proc/self/mountinfo | sort -u
}

nh_write_helpers() {
  local m
  {
    echo '#!/bin/sh'
    echo '# nh-incg SUB cmd...: move self into the scratch cgroup in every v1 controller hierarchy and'
    echo '# into its child SUB in name=systemd and cgroup2, then exec cmd.'
    echo 'sub=$1; shift'
    for m in $(nh_mounts_v1); do
      echo "echo \$\$ > '$m/$NH_CG/cgroup.procs' || { echo 'nh-incg: cannot enter $m/$NH_CG' >&2; exit 1; }"
    done
    for m in $(nh_mounts_sd); do
      echo "echo \$\$ > '$m/$NH_CG/'\"\$sub\"/cgroup.procs || { echo \"nh-incg: cannot enter $m/$NH_CG/\$sub\" >&2; exit 1; }"
    done
    echo 'exec "$@"'
  } > "$NH_DIR/nh-incg"
  chmod 0755 "$NH_DIR/nh-incg"
}

# inhost CMD...: run CMD inside the nested host (all its namespaces), from the scratch cgroup,
# with a plain root environment. Never holds the integration lock (fd 8).
inhost() {
  "$NH_DIR/nh-incg" ctl nsenter -t "$NH_PID1" -a \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb "$@" 8>&-
}

# nh_in_scope CMD...: CMD inside the nested host from a scope of its own in user.slice
# (systemd-run --scope), as from a shell there, not from outside the nested host's units.
nh_in_scope() {
  inhost systemd-run --quiet --scope --collect --slice=user.slice -- "$@"
}

nh_scratch_cgroups() {
  local m
  for m in $(nh_mounts_v1) $(nh_mounts_sd); do
    mkdir "$m/$NH_CG" || return 1
    NH_CGROUPS+=("$m/$NH_CG")
  done
  for m in $(nh_mounts_sd); do
    mkdir "$m/$NH_CG/launch" "$m/$NH_CG/ctl" || return 1
  done
  m=$(controller_mount cpuset)
  if [ -n "$m" ]; then
    cat "$m/cpuset.cpus" > "$m/$NH_CG/cpuset.cpus" && cat "$m/cpuset.mems" > "$m/$NH_CG/cpuset.mems" &&
      echo 1 > "$m/$NH_CG/cgroup.clone_children" || return 1
  fi
  # libvirt inside needs a non-empty cgroup.controllers in its cgroup2 view (hybrid)
  local u c
  u=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
  if [ -n "$u" ]; then
    for c in $(cat "$u/cgroup.controllers"); do
      if ! grep -qw "$c" "$u/cgroup.subtree_control"; then
        echo "+$c" > "$u/cgroup.subtree_control" && NH_ROOT_SUBTREE_ADDED+=" $c"
      fi
      echo "+$c" > "$u/$NH_CG/cgroup.subtree_control" 2>/dev/null
    done
  fi
  return 0
}

# nh_customise: the overlay's /etc and friends, before the boot.
nh_customise() {
  local R=$NH_ROOTFS u f
  mountpoint -q "$R" || return 1
  for u in "${NH_MASK[@]}"; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
  done
  for f in "${NH_FOREIGN_INTEROP[@]}"; do
    [ -e "$R$f" ] || [ -L "$R$f" ] && rm -rf -- "${R:?}$f"
  done
  echo "$NH_MACHINE" > "$R/etc/hostname"
  rm -f "$R/etc/machine-id"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$R/etc/machine-id"
  echo >> "$R/etc/machine-id"
  # LXC's system-wide defaults inside (this machine's own /etc/lxc is not touched): no network.
  printf 'lxc.net.0.type = empty\n' > "$R/etc/lxc/default.conf"
  # The LXC driver only: the QEMU driver aborts libvirtd's start without the libvirt-qemu user.
  mkdir -p "$R/usr/local/lib/interop-sdh-drv"
  ln -sf "$(ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_lxc.so | head -n 1)" "$R/usr/local/lib/interop-sdh-drv/"
  cat > "$R/usr/local/sbin/interop-sdh-init" <<'EOF'
#!/bin/sh
# PID 1 of the nested host: nspawn mounts the v1 controller hierarchies read-only; make them
# writable before systemd starts, then become systemd.
if [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
  for d in /sys/fs/cgroup/*; do
    case "${d##*/}" in systemd|unified) continue ;; esac
    [ -d "$d" ] && mount -o remount,bind,rw,nosuid,nodev,noexec "$d"
  done
fi
exec /lib/systemd/systemd "$@"
EOF
  chmod 0755 "$R/usr/local/sbin/interop-sdh-init"
}

# nh_up MODE: boot the nested host; NH_PID1 is its PID 1 (a pid of this machine).
nh_up() {
  local mode=$1 envs=() i s
  case $mode in
    hybrid) ;;
    unified) envs=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1) ;;
    legacy) envs=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0) ;;
    *) echo "nh_up: MODE=$mode?" >&2; return 1 ;;
  esac
  mkdir -p "$NH_DIR" || return 1
  [ -d /run/systemd/nspawn ] && NH_NSPAWN_RUN_EXISTED=yes || NH_NSPAWN_RUN_EXISTED=no
  nh_scratch_cgroups || { echo "nh_up: scratch cgroups" >&2; return 1; }
  nh_write_helpers
  mkdir -p "$NH_DIR/tmp" "$NH_ROOTFS"
  mount -t tmpfs -o size=4g,mode=0755 interop-sdh-tmpfs "$NH_DIR/tmp" || return 1
  NH_MOUNTED+=("$NH_DIR/tmp")
  mkdir "$NH_DIR/tmp/upper" "$NH_DIR/tmp/work"
  mount -t overlay interop-sdh-ovl -o "lowerdir=/,upperdir=$NH_DIR/tmp/upper,workdir=$NH_DIR/tmp/work" "$NH_ROOTFS" || return 1
  NH_MOUNTED+=("$NH_ROOTFS")
  nh_customise || return 1
  env "${envs[@]}" setsid "$NH_DIR/nh-incg" launch \
    systemd-nspawn -q -D "$NH_ROOTFS" -M "$NH_MACHINE" --register=no --keep-unit --private-network \
      --console=pipe --bind=/dev/fuse --bind="$NH_REPO" --kill-signal=SIGRTMIN+3 /usr/local/sbin/interop-sdh-init \
    > "$NH_DIR/nspawn.log" 2>&1 < /dev/null 8>&- &
  NH_NSPAWN_PID=$!
  for i in $(seq 200); do
    NH_PID1=$(pgrep -P "$NH_NSPAWN_PID" -x systemd) && break
    kill -0 "$NH_NSPAWN_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$NH_PID1" ] || { echo "nh_up: no systemd under nspawn: $(tail -n 5 "$NH_DIR/nspawn.log" | tr '\n' ' ')" >&2; return 1; }
  for i in $(seq 300); do
    s=$(inhost systemctl is-system-running 2>/dev/null)
    case $s in running | degraded) break ;; esac
    sleep 0.1
  done
  # nspawn made its payload cgroup below launch only now: hand the v2 controller down to it too.
  local u c
  u=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
  if [ "$mode" = hybrid ] && [ -n "$u" ] && [ -d "$u/$NH_CG/launch/payload" ]; then
    for c in $(cat "$u/$NH_CG/cgroup.subtree_control"); do
      echo "+$c" > "$u/$NH_CG/launch/cgroup.subtree_control" 2>/dev/null
    done
  fi
  case $s in running | degraded) return 0 ;; esac
  echo "nh_up: systemd is-system-running: '$s'" >&2
  return 1
}

# nh_scratch_pids: every pid in the scratch cgroups. All of them were started by this file (nh-incg
# moved only its own new processes there; the rest are their descendants).
nh_scratch_pids() {
  local d
  for d in "${NH_CGROUPS[@]}"; do
    [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# nh_down: stop the nested host and remove everything nh_up made. Safe to call more than once, and
# at any point of nh_up (an interrupt may land before the nested PID 1 is known).
nh_down() {
  local i m d pids
  if [ -z "$NH_PID1" ] && [ -n "$NH_NSPAWN_PID" ]; then
    NH_PID1=$(pgrep -P "$NH_NSPAWN_PID" | head -n 1)
  fi
  if [ -n "$NH_PID1" ] && kill -0 "$NH_PID1" 2>/dev/null; then
    timeout 10 "$NH_DIR/nh-incg" ctl nsenter -t "$NH_PID1" -a systemctl poweroff --no-block >/dev/null 2>&1 8>&-
  fi
  if [ -n "$NH_NSPAWN_PID" ]; then
    for i in $(seq 150); do kill -0 "$NH_NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$NH_NSPAWN_PID" 2>/dev/null; then
      nh_log "nspawn (pid $NH_NSPAWN_PID) did not exit after poweroff: SIGKILL to the nested PID 1 (${NH_PID1:-not started}), then nspawn"
      # the nested PID 1 first: its pid namespace (and every container in it) goes with it
      [ -n "$NH_PID1" ] && kill -KILL "$NH_PID1" 2>/dev/null
      for i in $(seq 50); do kill -0 "$NH_NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$NH_NSPAWN_PID" 2>/dev/null
    fi
    wait "$NH_NSPAWN_PID" 2>/dev/null
  fi
  # whatever is still in the scratch cgroups (a PID 1 nspawn left behind, a stray nsenter'd command)
  for i in $(seq 50); do
    pids=$(nh_scratch_pids)
    [ -z "$pids" ] && break
    [ "$i" = 1 ] && nh_log "SIGKILL to what is left in the scratch cgroups: $(echo $pids)"
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
  NH_NSPAWN_PID=
  NH_PID1=
  for ((i = ${#NH_MOUNTED[@]} - 1; i >= 0; i--)); do
    m=${NH_MOUNTED[$i]}
    mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m" || nh_log "could not unmount $m"; }
  done
  NH_MOUNTED=()
  # The scratch cgroups, children first. A cgroup may take a moment to empty after its tasks died.
  for d in "${NH_CGROUPS[@]}"; do
    for i in $(seq 30); do
      [ -d "$d" ] || break
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$d" ] && sleep 0.1
    done
    [ -d "$d" ] && nh_log "left behind (busy): $d"
  done
  NH_CGROUPS=()
  # The cgroup2 root's controllers that nh_up enabled.
  if [ -n "$NH_ROOT_SUBTREE_ADDED" ]; then
    m=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
    for d in $NH_ROOT_SUBTREE_ADDED; do
      echo "-$d" > "$m/cgroup.subtree_control" 2>/dev/null || nh_log "left enabled at the cgroup2 root: $d"
    done
    NH_ROOT_SUBTREE_ADDED=
  fi
  if [ "$NH_NSPAWN_RUN_EXISTED" = no ]; then
    rmdir /run/systemd/nspawn/locks /run/systemd/nspawn/propagate/* /run/systemd/nspawn/propagate /run/systemd/nspawn 2>/dev/null
  fi
  # rmdir only: never a recursive remove where an overlay of / may still be mounted.
  rmdir "$NH_DIR/rootfs" "$NH_DIR/tmp" 2>/dev/null
  return 0
}

# nh_remove_dir: the run's dir (logs, helpers), only when nothing is mounted below it.
nh_remove_dir() {
  [ -d "$NH_DIR" ] || return 0
  if findmnt -rn -o TARGET | grep -q "^$NH_DIR"; then
    nh_log "still mounted below $NH_DIR: kept"
    return 1
  fi
  rm -rf -- "${NH_DIR:?}"
}
