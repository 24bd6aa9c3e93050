#!/usr/bin/env bash
# make run: start interopd in the foreground on the system bus, or, when the host runs none,
# on a private bus this script starts (with the same policy as the shipped system bus file),
# and print how to query it. Ctrl-C stops interopd and the private bus (by pid).
set -euo pipefail
interopd=${1:?usage: run-daemon.sh INTEROPD INTEROPCTL}
interopctl=${2:?usage: run-daemon.sh INTEROPD INTEROPCTL}
repo=$(cd "$(dirname "$0")/.." && pwd)
policy="$repo/config/dbus/org.interop.Interop1.conf"

if [ "$(id -u)" -ne 0 ]; then
  echo "run-daemon: interopd manages cgroups: run make run as root" >&2
  exit 1
fi

bus_pid=""
cleanup() {
  [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if busctl --system status >/dev/null 2>&1; then
  bus=system
  address=system
  if ! cmp -s "$policy" /usr/share/dbus-1/system.d/org.interop.Interop1.conf 2>/dev/null; then
    install -D -m 0644 "$policy" /usr/share/dbus-1/system.d/org.interop.Interop1.conf
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
    echo "run-daemon: installed the bus policy and reloaded the system bus"
  fi
  query="interopctl --bus system"
  busq="busctl --system"
else
  dir=/run/interop
  mkdir -p "$dir"
  rm -f "$dir/bus"
  sed "s|@LISTEN@|unix:path=$dir/bus|; s|@POLICY@|$policy|" "$repo/tools/private-system-bus.conf.in" > "$dir/bus.conf"
  dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile &
  bus_pid=$!
  for _ in $(seq 50); do [ -S "$dir/bus" ] && break; sleep 0.1; done
  [ -S "$dir/bus" ] || { echo "run-daemon: the private bus did not come up" >&2; exit 1; }
  chmod 0755 "$dir"
  address="unix:path=$dir/bus"
  bus="a private bus at $address (pid $bus_pid; the host has no system bus)"
  query="INTEROP_BUS_ADDRESS=$address interopctl"
  busq="busctl --address=$address"
fi

"$interopd" --bus "$address" &
daemon_pid=$!

cat <<INFO

interopd (pid $daemon_pid) serves org.interop.Interop1 on $bus.
Query it from another shell (interopctl is $interopctl, or $(dirname "$interopctl") after make install):

  $query status
  $query list
  $query --json list
  $busq tree org.interop.Interop1
  $busq introspect org.interop.Interop1 /org/interop/Interop1
  $busq get-property org.interop.Interop1 /org/interop/Interop1 org.interop.Interop1.Manager ContainerCount

Ctrl-C stops it.
INFO

wait "$daemon_pid"
