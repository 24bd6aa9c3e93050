#!/usr/bin/env bash
# integration/package.sh: the Debian package end to end against the real LXC 5.0 and libvirt 9.0
# (docs/packaging.md). Run as root by `make integration`, after integration/run.sh:
#   1. `make deb` (outside the lock), lintian, and a second package 0.1.0+1 made from the same
#      files (dpkg-deb: only the version differs) for the upgrade,
#   2. dpkg -i, then apt-get install ./interop_*.deb (dependencies), files and places checked,
#      man pages against --help, bash completion,
#   3. the round trip: interopd started by bus activation (no systemd here), libvirtd started
#      after the hook link exists, an LXC container with the include and a libvirt domain with
#      the hook, both registered,
#   4. upgrade to 0.1.0+1 while both run: mappings and the admin's edited interop.yaml kept,
#   5. dpkg -r: the managers still start containers, without Interop (an LXC container whose
#      config still includes /usr/share/interop/lxc.conf, a libvirt domain),
#   6. dpkg --purge: the registry and every file of the package gone.
# Everything it starts is stopped by pid, the package is purged and every path it made is gone,
# even on failure (EXIT trap): the machine is left as before, so run.sh's `make install` works.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=integration/lib.sh
. "$ROOT/integration/lib.sh"

# The package is built before taking the lock: a build needs no system path.
if [ "${INTEROP_PKG_SKIP_BUILD:-0}" != 1 ]; then
  if make -s -C "$ROOT" deb >"/tmp/interop-package-build.$$.log" 2>&1; then
    pass "make deb"
  else
    fail "make deb"
    tail -n 30 "/tmp/interop-package-build.$$.log" | diag
    rm -f "/tmp/interop-package-build.$$.log"
    echo "integration: $PASSED passed, $FAILED failed"
    exit 1
  fi
  rm -f "/tmp/interop-package-build.$$.log"
fi

take_integration_lock

CTL=/usr/bin/interopctl
SHARED_ROOT=/machine
BUS_NAME=org.interop.Interop1
INCLUDE=/usr/share/interop/lxc.conf
HOOK=/etc/libvirt/hooks/lxc.d/interop
export LIBVIRT_DEFAULT_URI=lxc:///
CTL_TIMEOUT=${CTL_TIMEOUT:-20}
ctl() {
  timeout "$CTL_TIMEOUT" "$CTL" "$@"
}

RUN=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d "/tmp/interop-pkg.$RUN.XXXX")
LXC=pk-$RUN.lxc-a
# The LXC container's base cgroup when Interop's include no longer applies (after remove and purge): a scratch dir
# of this run in every hierarchy, not LXC's default (the hierarchy roots, where LXC would leave its lxc.pivot).
OWN_DIR=interop-pkg-$RUN
# LXC's dirs at the hierarchy roots before the run (LXC leaves lxc.pivot beside a container it stopped): none may be added.
ROOT_LXC_BEFORE=$(ls -d "$CGROOT"/*/lxc.* 2>/dev/null | sort)
VIRT=pkv-$RUN.web-1
DEB_DIR=$ROOT/artifacts/deb
DEB=$(ls "$DEB_DIR"/interop_*_amd64.deb 2>/dev/null | grep -v '+1_' | head -n 1)
DEB1=

# Every path the package (or its scripts) may make; none may exist before, none after the purge.
PACKAGE_PATHS=(
  /usr/bin/interopctl /usr/sbin/interopd /usr/lib/interop /usr/share/interop /usr/share/doc/interop
  /etc/interop /var/lib/interop /etc/libvirt/hooks
  /usr/share/dbus-1/system.d/org.interop.Interop1.conf
  /usr/share/dbus-1/system-services/org.interop.Interop1.service
  /usr/lib/systemd/system/interopd.service /lib/systemd/system/interopd.service
  /etc/systemd/system/multi-user.target.wants/interopd.service
  /etc/systemd/system/dbus-org.interop.Interop1.service /etc/systemd/system/interopd.service
  /var/lib/systemd/deb-systemd-helper-enabled/interopd.service.dsh-also
  /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/interopd.service
  /var/lib/systemd/deb-systemd-helper-masked/interopd.service
  /usr/share/man/man1/interopctl.1.gz /usr/share/man/man5/interop.yaml.5.gz /usr/share/man/man8/interopd.8.gz
  /usr/share/bash-completion/completions/interopctl
)

INTEROPD_PID=
LIBVIRTD_PID=
DBUS_PID=
CLEAN_LXC=()
CLEAN_VIRSH=()
PREEXISTING_DIRS=$WORK/preexisting-dirs
SUBTREE_BEFORE=

exec 3>&1 4>&2

# The interopd that owns the bus name: its pid, from the bus.
bus_owner_pid() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID "string:$BUS_NAME" 2>/dev/null | awk '/uint32/ { print $2 }'
}

cleanup() {
  local rc=$? name pid m d f
  exec 1>&3 2>&4
  set +e
  echo "# cleaning up"
  for name in "${CLEAN_LXC[@]}"; do
    # After the purge LXC cannot read a config that still includes the deleted file (nor stop or
    # destroy the container): take that line out first.
    if [ ! -e "$INCLUDE" ] && [ -f "/var/lib/lxc/$name/config" ]; then
      sed -i "\|^lxc.include = $INCLUDE\$|d" "/var/lib/lxc/$name/config"
    fi
    remove_lxc_container "$name"
  done
  for name in "${CLEAN_VIRSH[@]}"; do remove_libvirt_domain "$name" "$LIBVIRTD_PID"; done
  stop_pid "$LIBVIRTD_PID" 10
  if [ -n "$LIBVIRTD_PID" ]; then
    for name in "${CLEAN_VIRSH[@]}"; do rm -f "/etc/libvirt/lxc/$name.xml"; done
  fi
  # interopd: the one this run's calls activated (its pid from the bus), if it is still there.
  pid=$(bus_owner_pid)
  if [ -n "$pid" ] && readlink "/proc/$pid/exe" 2>/dev/null | grep -q '^/usr/lib/interop/interopd/interopd'; then
    stop_pid "$pid" 10
  fi
  stop_pid "$INTEROPD_PID" 10
  if dpkg-query -W -f='${Status}' interop 2>/dev/null | grep -qv 'not-installed'; then
    dpkg --purge interop >"$WORK/cleanup-purge.log" 2>&1 || { echo "# dpkg --purge interop failed:"; diag <"$WORK/cleanup-purge.log"; }
  fi
  if [ -n "$DBUS_PID" ]; then
    stop_pid "$DBUS_PID" 5
    rm -f /run/dbus/pid /run/dbus/system_bus_socket
  fi
  # cgroup dirs this run made under the shared root, and v2 controllers it enabled at the root.
  restore_shared_root
  # The container's own base (after the remove and the purge), with LXC's lxc.pivot in it: rmdir only.
  for m in $(hierarchy_mounts); do
    [ -d "$m/$OWN_DIR" ] || continue
    find "$m/$OWN_DIR" -depth -type d | while IFS= read -r d; do rmdir -- "$d" 2>/dev/null || echo "# left behind (busy): $d"; done
  done
  # The machine as before: nothing of the package, its containers or its cgroup dirs.
  local left=()
  if [ "$PKG_PATHS_CHECKED" = 1 ]; then
    for f in "${PACKAGE_PATHS[@]}"; do
      { [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
    done
  fi
  while IFS= read -r f; do left+=("$f"); done < <(containers_left)
  while IFS= read -r d; do left+=("$d"); done < <(dirs_matching "*$RUN*")
  for m in $(hierarchy_mounts); do [ -d "$m/$OWN_DIR" ] && left+=("$m/$OWN_DIR"); done
  while IFS= read -r d; do left+=("$d (at a hierarchy root)"); done < <(comm -13 <(echo "$ROOT_LXC_BEFORE") <(ls -d "$CGROOT"/*/lxc.* 2>/dev/null | sort) | sed '/^$/d')
  if [ "$PKG_PATHS_CHECKED" = 1 ]; then
    if ((${#left[@]} == 0)); then
      pass "cleanup: nothing of the package, its containers or their cgroup dirs is left"
    else
      fail "cleanup: nothing of the package, its containers or their cgroup dirs is left"
      printf '%s\n' "${left[@]}" | diag
    fi
  fi
  if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
    for f in libvirtd.log dpkg-install.log dpkg-upgrade.log dpkg-remove.log dpkg-purge.log; do
      if [ -s "$WORK/$f" ]; then
        echo "# last lines of $f:"
        tail -n 20 "$WORK/$f" | diag
      fi
    done
  fi
  if [ "${INTEROP_IT_KEEP_LOGS:-0}" = 1 ]; then
    echo "# logs kept in $WORK"
  else
    rm -rf -- "$WORK"
  fi
  finish_run "$rc"
}
PKG_PATHS_CHECKED=0
trap cleanup EXIT
trap 'exit 130' INT TERM

# 0. Preconditions ---------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || bail "runs as root (it installs a package, starts containers and libvirtd)"
for tool in dpkg-deb lintian lxc-create lxc-start virsh libvirtd dbus-daemon dbus-send jq unshare man; do
  command -v "$tool" >/dev/null 2>&1 || bail "$tool is installed (run tools/install-deps.sh)"
done
[ -n "$DEB" ] && [ -f "$DEB" ] || bail "the package was built in $DEB_DIR"
if dpkg-query -W -f='${Status}' interop 2>/dev/null | grep -q 'installed'; then
  bail "the interop package is not installed yet (it is: the suite installs and purges its own)"
fi
if [ -S /run/libvirt/libvirt-sock ] && virsh -q version >/dev/null 2>&1; then
  bail "no libvirtd is running yet (the suite starts its own after the hook link exists)"
fi
for f in "${PACKAGE_PATHS[@]}" /usr/local/bin/interopctl /usr/local/sbin/interopd; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    bail "$f does not exist yet (left by 'make install' or an earlier install?)"
  fi
done
PKG_PATHS_CHECKED=1
record_shared_root
VERSION=$(dpkg-deb -f "$DEB" Version)

# 1. lintian, and the same files as a newer version for the upgrade ---------------------------

lintian --fail-on error,warning --no-tag-display-limit "$DEB" >"$WORK/lintian.out" 2>&1
rc=$?
expect_eq "lintian $(basename "$DEB"): no error, no warning without an override" 0 "$rc" || diag <"$WORK/lintian.out"
check "lintian prints no E: or W: line" bash -c "! grep -E '^[EW]: ' '$WORK/lintian.out'"

mkdir -p "$WORK/repack"
dpkg-deb -R "$DEB" "$WORK/repack/tree"
sed -i "s/^Version: .*/Version: $VERSION+1/" "$WORK/repack/tree/DEBIAN/control"
DEB1=$WORK/repack/interop_${VERSION}+1_amd64.deb
check "dpkg-deb builds $(basename "$DEB1") from the same files" dpkg-deb --root-owner-group -b "$WORK/repack/tree" "$DEB1"

# 2. A system bus (reused if one answers), then dpkg -i ---------------------------------------

bus_up() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId
}
if bus_up >/dev/null 2>&1; then
  pass "a system bus is running; reusing it"
else
  mkdir -p /run/dbus
  if [ -f /run/dbus/pid ] && ! pid_alive "$(cat /run/dbus/pid 2>/dev/null)"; then
    rm -f /run/dbus/pid
  fi
  DBUS_PID=$(dbus-daemon --system --fork --print-pid 2>"$WORK/dbus.err" 8>&- | head -n 1)
  if [ -n "$DBUS_PID" ] && wait_until 10 bus_up; then
    pass "started a system bus (dbus-daemon pid $DBUS_PID)"
  else
    bail "dbus-daemon --system starts: $(head -c 300 "$WORK/dbus.err")"
  fi
fi

if dpkg -i "$DEB" >"$WORK/dpkg-install.log" 2>&1 8>&-; then
  pass "dpkg -i $(basename "$DEB")"
else
  bail "dpkg -i $(basename "$DEB"): $(tail -n 3 "$WORK/dpkg-install.log" | tr '\n' ' ')"
fi
check "apt-get install ./$(basename "$DEB") resolves its dependencies (all there)" \
  env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$DEB"
expect_eq "dpkg: interop $VERSION is installed" "install ok installed $VERSION" \
  "$(dpkg-query -W -f='${Status} ${Version}' interop 2>&1)"

# The files and places of docs/configuration.md's table, with PREFIX=/usr.
for f in /usr/bin/interopctl /usr/lib/interop/interopd/interopd /usr/share/dbus-1/system.d/org.interop.Interop1.conf \
         /usr/share/dbus-1/system-services/org.interop.Interop1.service /etc/interop/interop.yaml \
         /etc/interop/nlog.config "$INCLUDE" /usr/share/man/man1/interopctl.1.gz /usr/share/man/man5/interop.yaml.5.gz \
         /usr/share/man/man8/interopd.8.gz /usr/share/bash-completion/completions/interopctl; do
  check "installed: $f" test -f "$f"
done
check "installed: /usr/sbin/interopd -> /usr/lib/interop/interopd/interopd" \
  test "$(readlink -f /usr/sbin/interopd)" = /usr/lib/interop/interopd/interopd
check "installed: interopd.service (Type=dbus, ExecStart=/usr/sbin/interopd)" \
  bash -c "f=\$(ls /usr/lib/systemd/system/interopd.service /lib/systemd/system/interopd.service 2>/dev/null | head -n 1); grep -qx 'Type=dbus' \$f && grep -qx 'ExecStart=/usr/sbin/interopd' \$f"
check "bus activation runs /usr/sbin/interopd" grep -qx 'Exec=/usr/sbin/interopd' /usr/share/dbus-1/system-services/org.interop.Interop1.service
check "libvirt hook: $HOOK -> /usr/lib/interop/libvirt-hook, a link to $CTL" \
  bash -c "[ \"\$(readlink $HOOK)\" = /usr/lib/interop/libvirt-hook ] && [ -x $HOOK ] && [ \"\$(readlink -f $HOOK)\" = '$CTL' ]"
check "LXC include runs $CTL in its hooks" grep -qx "lxc.hook.pre-start = $CTL hook lxc" "$INCLUDE"
conffiles=$(dpkg-query -W -f='${Conffiles}' interop | awk '{ print $1 }' | sort | tr '\n' ' ')
expect_eq "conffiles: every file under /etc/interop" "/etc/interop/interop.yaml /etc/interop/nlog.config " "$conffiles"
check "interopd.service enabled for when systemd runs (deb-systemd-helper)" \
  test -L /etc/systemd/system/multi-user.target.wants/interopd.service
check "interopd runs with its own runtime (no .NET on PATH needed): --version" \
  env PATH=/usr/bin:/bin /usr/sbin/interopd --version

# Man pages and completion, as installed.
MANW() { LC_ALL=C MANWIDTH=200 man "$@" 2>/dev/null | col -b; }
MANW 1 interopctl >"$WORK/interopctl.man"
ctl --help >"$WORK/interopctl.help"
for opt in $(grep -oE -- '--[a-z][a-z-]+' "$WORK/interopctl.help" | sort -u); do
  check "man interopctl documents $opt (from --help)" grep -qF -- "$opt" "$WORK/interopctl.man"
done
for c in $(awk '/^Commands:/ { t = 1; next } t && /^  [a-z]/ { print $1 } t && /^$/ { exit }' "$WORK/interopctl.help"); do
  check "man interopctl has a section for '$c' (from --help)" grep -qE "^   $c( |$)" "$WORK/interopctl.man"
done
# (man pads justified lines with spaces: compare with runs of spaces squeezed)
check "man interopctl describes show as --help does" \
  bash -c "tr -s ' ' <'$WORK/interopctl.man' | grep -qF \"\$(timeout $CTL_TIMEOUT $CTL show --help | sed -n 2p | sed 's/^ *//' | cut -c1-60)\""
/usr/sbin/interopd --help >"$WORK/interopd.help"
MANW 8 interopd >"$WORK/interopd.man"
for opt in $(grep -oE -- '^  --[a-z][a-z-]+' "$WORK/interopd.help" | sort -u); do
  check "man 8 interopd documents $opt (from interopd --help)" grep -qF -- "$opt" "$WORK/interopd.man"
done
MANW 5 interop.yaml >"$WORK/interop.yaml.man"
for key in $(awk '/^[a-z_]+:/ { sub(/:.*/, ""); print }' /etc/interop/interop.yaml); do
  check "man 5 interop.yaml documents $key (a key of the shipped interop.yaml)" grep -qE "^       $key \(default" "$WORK/interop.yaml.man"
done

# complete DRIVER WORDS...: what the installed completion offers, loaded the way bash-completion
# loads it on first use (_completion_loader), for COMP_WORDS = WORDS (the last one is completed).
complete_words() {
  local quoted line
  quoted=$(printf "'%s' " "$@")
  line="$*"
  bash --norc --noprofile -c ". /usr/share/bash-completion/bash_completion
    _completion_loader interopctl
    complete -p interopctl >/dev/null || exit 9
    COMP_WORDS=($quoted); COMP_CWORD=$(($# - 1)); COMP_LINE='$line'; COMP_POINT=\${#COMP_LINE}
    _interopctl; printf '%s\n' \"\${COMPREPLY[@]}\"" 2>&1 | sort | tr '\n' ' '
}
expect_eq "bash completion (bash-completion's loader): complete -p interopctl" "complete -F _interopctl interopctl" \
  "$(bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion; _completion_loader interopctl; complete -p interopctl' 2>&1)"
expect_eq "bash completion: 'interopctl s<TAB>'" "set setup show status " "$(complete_words interopctl s)"
expect_eq "bash completion: 'interopctl prune --d<TAB>'" "--dry-run " "$(complete_words interopctl prune --d)"

# 3. The round trip against the installed package --------------------------------------------

# The admin's edit, which the upgrade must keep: the reaper off (it would prune empty dirs of
# other runs under the shared root while this one runs).
sed -i 's/^reaper_interval: .*/reaper_interval: 0/' /etc/interop/interop.yaml
check "admin edit: reaper_interval: 0 in /etc/interop/interop.yaml" grep -qx 'reaper_interval: 0' /etc/interop/interop.yaml

# No systemd here: the first call starts interopd through bus activation.
check "interopctl list: the bus starts interopd on the first call (bus activation)" ctl list
INTEROPD_PID=$(bus_owner_pid)
check "interopd (pid ${INTEROPD_PID:-none}) owns $BUS_NAME and is the package's" \
  bash -c "[ -n '$INTEROPD_PID' ] && [ \"\$(readlink /proc/$INTEROPD_PID/exe)\" = /usr/lib/interop/interopd/interopd ]"

mkdir -p "$WORK/drivers"
LXC_DRIVER=$(find /usr/lib /usr/lib64 -name libvirt_driver_lxc.so -path '*connection-driver*' 2>/dev/null | head -n 1)
[ -n "$LXC_DRIVER" ] || bail "libvirt's LXC driver (libvirt_driver_lxc.so) is installed"
ln -s "$LXC_DRIVER" "$WORK/drivers/"
echo "log_outputs = \"3:file:$WORK/libvirtd.log\"" >"$WORK/libvirtd.conf"
umount_unified=true
if mountpoint -q "$CGROOT/unified"; then
  umount_unified="umount $CGROOT/unified"
fi
start_libvirtd() {
  LIBVIRT_DRIVER_DIR=$WORK/drivers unshare --mount --propagation private -- \
    sh -c "$umount_unified && exec libvirtd -f '$WORK/libvirtd.conf' -p '$WORK/libvirtd.pid'" \
    >>"$WORK/libvirtd.out" 2>&1 8>&- &
  LIBVIRTD_PID=$!
  wait_until 30 virsh -q version
}
if start_libvirtd; then
  pass "libvirtd (pid $LIBVIRTD_PID) answers on lxc:/// (after the hook link exists)"
else
  bail "libvirtd starts: $(tail -n 3 "$WORK/libvirtd.out" "$WORK/libvirtd.log" 2>/dev/null | tr '\n' ' ')"
fi

cat >"$WORK/$LXC.conf" <<EOF
lxc.net.0.type = empty
lxc.cgroup.dir = $OWN_DIR
lxc.include = $INCLUDE
EOF
cat >"$WORK/$VIRT.xml" <<EOF
<domain type='lxc'>
  <name>$VIRT</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
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
CLEAN_LXC+=("$LXC")
CLEAN_VIRSH+=("$VIRT")
check "lxc-create $LXC (busybox, lxc.include = $INCLUDE)" \
  timeout 60 lxc-create -n "$LXC" -t busybox -f "$WORK/$LXC.conf"
check "virsh define $VIRT" timeout 30 virsh -q define "$WORK/$VIRT.xml"
check "lxc-start $LXC" timeout 30 lxc-start -n "$LXC" -l INFO -o "$WORK/$LXC.log"
check "$LXC RUNNING" timeout 15 lxc-wait -n "$LXC" -s RUNNING -t 10
check "virsh start $VIRT (the hook runs $CTL)" timeout 30 virsh -q start "$VIRT"

LXC_LEADER=$(lxc-info -n "$LXC" -p -H 2>/dev/null)
VIRT_LEADER=$(cat "/run/libvirt/lxc/$VIRT.pid" 2>/dev/null)
WANT_LXC="lxc $LXC running $LXC_LEADER $SHARED_ROOT/lxc.payload.$LXC"
WANT_VIRT="libvirt $VIRT running $VIRT_LEADER $SHARED_ROOT/lxc-$VIRT_LEADER-$VIRT.libvirt-lxc"
ctl --json list >"$WORK/list.json" 2>&1
expect_eq "interopctl list: lxc $LXC" "$WANT_LXC" "$(json_row "$WORK/list.json" lxc "$LXC")"
expect_eq "interopctl list: libvirt $VIRT" "$WANT_VIRT" "$(json_row "$WORK/list.json" libvirt "$VIRT")"
expect_eq "bash completion: 'interopctl show <TAB>' offers the names interopd knows" \
  "$(printf '%s\n' "$LXC" "$VIRT" | sort | tr '\n' ' ')" "$(complete_words interopctl show '')"
expect_eq "bash completion: 'interopctl get ${LXC:0:6}<TAB>'" "$LXC " "$(complete_words interopctl get "${LXC:0:6}")"

# 4. Upgrade while both run -------------------------------------------------------------------

OLD_PID=$INTEROPD_PID
if dpkg -i "$DEB1" >"$WORK/dpkg-upgrade.log" 2>&1 8>&-; then
  pass "dpkg -i $(basename "$DEB1") (upgrade while $LXC and $VIRT run)"
else
  fail "dpkg -i $(basename "$DEB1") (upgrade while $LXC and $VIRT run)"
fi
expect_eq "dpkg: interop $VERSION+1 is installed" "install ok installed $VERSION+1" \
  "$(dpkg-query -W -f='${Status} ${Version}' interop 2>&1)"
check "upgrade kept the admin's edited /etc/interop/interop.yaml" grep -qx 'reaper_interval: 0' /etc/interop/interop.yaml
check "upgrade left no .dpkg-new/.dpkg-dist/.dpkg-old next to it" \
  bash -c "! ls /etc/interop/ | grep -q dpkg"
check "postinst stopped the old interopd (pid $OLD_PID) after the upgrade" pid_gone "$OLD_PID"
ctl --json list >"$WORK/list.json" 2>&1
INTEROPD_PID=$(bus_owner_pid)
check "the next call started the new interopd (pid ${INTEROPD_PID:-none})" \
  bash -c "[ -n '$INTEROPD_PID' ] && [ '$INTEROPD_PID' != '$OLD_PID' ] && [ \"\$(readlink /proc/$INTEROPD_PID/exe)\" = /usr/lib/interop/interopd/interopd ]"
expect_eq "after the upgrade: lxc $LXC mapping kept" "$WANT_LXC" "$(json_row "$WORK/list.json" lxc "$LXC")"
expect_eq "after the upgrade: libvirt $VIRT mapping kept" "$WANT_VIRT" "$(json_row "$WORK/list.json" libvirt "$VIRT")"
expect_eq "after the upgrade: $LXC still RUNNING" RUNNING "$(lxc-info -n "$LXC" -s -H 2>&1)"
expect_eq "after the upgrade: $VIRT still running" running "$(virsh -q domstate "$VIRT" 2>&1)"

# 5. Remove: the managers keep starting containers, without Interop ----------------------------

REMOVE_PID=$INTEROPD_PID
if dpkg -r interop >"$WORK/dpkg-remove.log" 2>&1 8>&-; then
  pass "dpkg -r interop (while $LXC and $VIRT run)"
else
  fail "dpkg -r interop (while $LXC and $VIRT run)"
fi
check "remove: $CTL is gone" test ! -e "$CTL"
check "remove: the libvirt hook link is gone" bash -c "[ ! -e $HOOK ] && [ ! -L $HOOK ]"
check "remove: $INCLUDE is left without settings (comments only)" \
  bash -c "[ -f $INCLUDE ] && ! grep -qv '^#' $INCLUDE"
check "remove: prerm stopped interopd (pid $REMOVE_PID)" pid_gone "$REMOVE_PID"
check "remove: the registry stays in /var/lib/interop" test -s /var/lib/interop/state.yaml
check "remove: the admin's /etc/interop/interop.yaml stays" grep -qx 'reaper_interval: 0' /etc/interop/interop.yaml
check "lxc-stop $LXC (its stop hooks name the removed $CTL)" timeout 30 lxc-stop -n "$LXC" -k
check "lxc-start $LXC again: its config still includes $INCLUDE, it starts without Interop" \
  timeout 30 lxc-start -n "$LXC" -l INFO -o "$WORK/$LXC.after-remove.log"
check "$LXC RUNNING without Interop" timeout 15 lxc-wait -n "$LXC" -s RUNNING -t 10
check "$LXC without Interop is in LXC's own cgroup (not $SHARED_ROOT)" \
  bash -c "! grep -q ':$SHARED_ROOT/' /proc/\$(lxc-info -n '$LXC' -p -H)/cgroup"
check "$LXC without Interop is in its config's own base, /$OWN_DIR" \
  grep -q ":/$OWN_DIR/lxc.payload.$LXC\$" "/proc/$(lxc-info -n "$LXC" -p -H 2>/dev/null)/cgroup"
check "virsh destroy $VIRT" timeout 30 virsh -q destroy "$VIRT"
check "virsh start $VIRT again: the same libvirtd starts it without the hook" timeout 30 virsh -q start "$VIRT"
expect_eq "$VIRT running without Interop" running "$(virsh -q domstate "$VIRT" 2>&1)"
check "no interopd was started by any of it" bash -c "[ -z \"\$(dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:$BUS_NAME | grep -w true)\" ]"
stop_pid "$LIBVIRTD_PID" 15
if start_libvirtd; then
  pass "libvirtd restarted without the hook (pid $LIBVIRTD_PID)"
else
  fail "libvirtd restarts without the hook"
fi
check "virsh destroy $VIRT; virsh start $VIRT on the new libvirtd" \
  bash -c "timeout 30 virsh -q destroy '$VIRT' && timeout 30 virsh -q start '$VIRT'"

# 6. Purge: state and every file gone ---------------------------------------------------------

check "lxc-stop $LXC (before the purge)" timeout 30 lxc-stop -n "$LXC" -k
if dpkg --purge interop >"$WORK/dpkg-purge.log" 2>&1 8>&-; then
  pass "dpkg --purge interop"
else
  fail "dpkg --purge interop"
fi
check "purge names the container that still includes $INCLUDE" grep -q "/var/lib/lxc/$LXC/config" "$WORK/dpkg-purge.log"
check "purge: /var/lib/interop is gone" test ! -e /var/lib/interop
check "purge: /etc/interop is gone" test ! -e /etc/interop
expect_eq "purge: dpkg knows no interop" "" "$(dpkg-query -W -f='${Status}' interop 2>/dev/null | grep -v not-installed)"
for f in "${PACKAGE_PATHS[@]}"; do
  check "purge: $f is gone" bash -c "[ ! -e '$f' ] && [ ! -L '$f' ]"
done
expect_eq "purge: nothing named *interop* under /etc/systemd, /var/lib/systemd, /etc/libvirt, /usr/share/dbus-1, /usr/share/man" "" \
  "$(find /etc/systemd /var/lib/systemd /etc/libvirt /usr/share/dbus-1 /usr/share/man -iname '*interop*' 2>/dev/null)"
# What the purge's warning says, and the admin's way out.
if timeout 30 lxc-start -n "$LXC" -l INFO -o "$WORK/$LXC.after-purge.log" >/dev/null 2>&1; then
  fail "after the purge, $LXC (config still includes $INCLUDE) does not start, as the warning said"
else
  pass "after the purge, $LXC (config still includes $INCLUDE) does not start, as the warning said"
fi
sed -i "\|^lxc.include = $INCLUDE\$|d" "/var/lib/lxc/$LXC/config"
check "with the lxc.include line taken out, $LXC starts again" timeout 30 lxc-start -n "$LXC"
check "$LXC RUNNING" timeout 15 lxc-wait -n "$LXC" -s RUNNING -t 10

exit 0
