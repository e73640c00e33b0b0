#!/usr/bin/env bash
# Checks the out-of-tree drivers listed in scripts/ci/downstream.json against the current core
# and conformance suite, as their users would get them:
#
#   bash scripts/ci/downstream.sh [--work DIR] [--list FILE] [--only NAME]... [--runs N] [--seed N]
#
# packs @nova-common/core, conformance, agent and create-driver (pnpm pack; build them first),
# then for each driver installs it outside the workspace (DIR, default a new temporary
# directory) with those tarballs, runs its tests and scripts/ci/driver-conformance.sh, and prints
# a compatibility table (driver, tests, conformance, properties, table cells, capabilities),
# also written to DIR/compatibility.md. Exit 0 when every driver passed, 1 otherwise.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=""
pass=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --work) [ "$#" -ge 2 ] || { echo "downstream: --work needs a value" >&2; exit 2; }; work="$2"; shift 2 ;;
    --list|--only|--runs|--seed)
      [ "$#" -ge 2 ] || { echo "downstream: $1 needs a value" >&2; exit 2; }
      pass+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "downstream: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then work="$(mktemp -d "${TMPDIR:-/tmp}/nova-downstream.XXXXXX")"; fi
work="$(realpath -m -- "$work")"
case "$work/" in
  "$repo"/*) echo "downstream: --work must be outside the workspace ($repo)" >&2; exit 2 ;;
esac
mkdir -p -- "$work"

echo "downstream: packing into $work/tarballs" >&2
node "$repo/scripts/ci/lib/pack.mjs" "$work/tarballs" core conformance agent create-driver > "$work/tarballs.json"
exec node "$repo/scripts/ci/lib/downstream.mjs" --work "$work" --tarballs "$work/tarballs.json" "${pass[@]}"
