#!/usr/bin/env bash
# Installs what building and testing Interop needs on Debian 12, only what is missing.
# Run as root (make test calls it). The .NET 10 SDK itself is expected on the machine.
set -euo pipefail

packages=(
  dbus-daemon dbus-bin        # private test buses, dbus-send
  systemd                     # busctl
  systemd-container           # systemd-nspawn: the nested systemd host of integration/systemd.sh
  libglib2.0-bin              # gdbus
  util-linux                  # setpriv, unshare
  clang zlib1g-dev            # NativeAOT link of interopctl
  lxc busybox-static          # the real LXC 5.0 the integration suite drives
  libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients  # the real libvirt 9.0
  hyperfine                   # make bench
  jq                          # integration/run.sh reads --json answers
  debhelper dpkg-dev fakeroot lintian  # make deb, integration/package.sh
  bash-completion man-db bsdextrautils # package.sh: the completion's loader, man, col
  curl                        # integration/metrics.sh and make bench scrape /metrics
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages present"
else
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Metrics proof (integration/metrics.sh): real Prometheus and node_exporter, started by the suite by pid.
# Their postinst would start the daemons on the host: a policy-rc.d that exits 101 forbids it during the
# install (one already there, as in containers, is left as it is), and no unit of theirs runs afterwards.
daemons=(prometheus prometheus-node-exporter)
missing=()
for p in "${daemons[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]} (their services are not started)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# interop install-deps: no service starts during this install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  if [ -n "$policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2
  exit 1
fi
