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

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2
  exit 1
fi
