#!/usr/bin/env bash
# The main job: runs the conformance suite against the reference driver (always) and
# against every real backend that is reachable now, and the plug suites on the host's plugs
# (as root), then prints the support matrix of all of them side by side. Needs only Node 20 and npm; it does not install or start backends
# (scripts/test.sh does). Reports land in .reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh

ensure_pnpm
install_workspace
build_workspace

CLI=(node packages/conformance/dist/cli.js)
OUT=.reports
mkdir -p "$OUT"
status=0
reports=()

run_suite() {
  local name=$1; shift
  log "conformance: ${name}"
  if "${CLI[@]}" run "$@" --json "$OUT/${name}.json" --junit "$OUT/${name}.junit.xml" --matrix "$OUT/${name}.md"; then
    :
  else
    status=1
  fi
  if [ -f "$OUT/${name}.json" ]; then reports+=("$OUT/${name}.json"); fi
}

run_suite reference --driver reference --label 'in-memory reference'

reachable() {
  case $1 in
    libvirt) [ -S /run/libvirt/libvirt-sock ] && timeout 5 virsh -c test+unix:///default version >/dev/null 2>&1 ;;
    docker) [ -S /var/run/docker.sock ] && timeout 5 curl -fsS --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ;;
    podman) [ -S /run/nova-common/podman.sock ] && timeout 5 curl -fsS --unix-socket /run/nova-common/podman.sock http://localhost/_ping >/dev/null 2>&1 ;;
    ironic) timeout 5 curl -fsS -H 'X-OpenStack-Ironic-API-Version: 1.1' http://127.0.0.1:6385/v1 >/dev/null 2>&1 ;;
  esac
}

# dockerd and podman on one machine are two hosts of the container driver: each run takes the other
# as the second host of the two-host migration properties (P-MIGRATE-*) when it is up.
peer_of() {
  if reachable "$1"; then echo "--peer-config scripts/main/$2"; fi
}

for backend in libvirt docker podman ironic; do
  if reachable "$backend"; then
    case $backend in
      libvirt) run_suite libvirt-test --driver ./packages/driver-libvirt --config scripts/main/libvirt.json --label 'libvirt test:///default' ;;
      # shellcheck disable=SC2046 # peer_of prints nothing or two words
      docker) run_suite container --driver ./packages/driver-container --config scripts/main/container.json $(peer_of podman container-podman.json) --label dockerd ;;
      # shellcheck disable=SC2046
      podman) run_suite container-podman --driver ./packages/driver-container --config scripts/main/container-podman.json $(peer_of docker container.json) --label 'podman service' ;;
      ironic) run_suite ironic --driver ./packages/driver-ironic --config scripts/main/ironic.json --label 'Ironic, fake hardware' ;;
    esac
  else
    log "backend ${backend} is not reachable: skipped (scripts/test.sh installs and starts it)"
  fi
done

# The host-side plugs (VIF plugins, volume connectors) through the plug suites: they make network
# namespaces and loop devices, so only as root. Their tables follow the drivers' in the matrix.
if [ "$(id -u)" = "0" ]; then
  log "plug suites: every plug of @nova-common/plugs on this host"
  if node packages/plugs/dist/cli.js --json "$OUT/plugs.json"; then :; else status=1; fi
  if [ -f "$OUT/plugs.json" ]; then reports+=("$OUT/plugs.json"); fi
else
  log "plug suites: skipped (they make network namespaces and loop devices: run as root)"
fi

log "support matrix"
"${CLI[@]}" matrix --json "${reports[@]}" --md "$OUT/matrix.md" --html "$OUT/matrix.html"
cat "$OUT/matrix.md"
echo
echo "Reports: $OUT/ (JSON, JUnit, Markdown; matrix.html shows every driver side by side)"
exit $status
