#!/usr/bin/env bash
# Runs every test project and prints one closing line "N passed, N failed, N skipped".
# INTEROP_CTL / INTEROPD point the functional tests at the published binaries.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet test Interop.sln -c "${CONFIGURATION:-Release}" --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# VSTest prints one summary per test assembly: "Passed!  - Failed: 0, Passed: 72, Skipped: 0, Total: 72, ..."
read -r passed failed skipped < <(awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) {
      v = $(i + 1); gsub(/,/, "", v)
      if ($i == "Failed:") f += v; else if ($i == "Passed:") p += v; else if ($i == "Skipped:") s += v
    }
  }
  END { print p + 0, f + 0, s + 0 }' "$log")

echo "unit and functional tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$rc"
