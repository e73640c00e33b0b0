#!/usr/bin/env bash
# The whole test suite, from a fresh machine with Node 20 and npm: installs pnpm, the
# workspace, the agent's test prerequisites (openssl, Python gRPC, protoc), and every real
# backend (libvirt + QEMU, Docker, podman, Ironic) from Debian packages,
# starts them, runs the package checks and every package's tests (scripts/lib/package-tests.sh:
# pnpm test's packages, driver-ironic's beside the others), and stops the backends.
# Must run as root (it installs packages and starts daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh
source scripts/lib/backends.sh
source scripts/lib/package-tests.sh

if [ "$(id -u)" != "0" ]; then
  echo "scripts/test.sh installs Debian packages and starts daemons: run it as root" >&2
  exit 2
fi

ensure_pnpm
install_workspace
build_workspace

log "type-checking every package (sources, tests and benchmarks)"
pnpm typecheck

backends_do install
log "installing what the agent's tests need (openssl, Python gRPC, protoc)"
bash scripts/lib/agent-prereqs.sh
bash scripts/lib/site-prereqs.sh
bash scripts/lib/plugs-prereqs.sh
trap 'stop_ironic_lane; backends_stop_all' EXIT
backends_do start

log "checking packages (publint, are-the-types-wrong)"
pnpm lint:packages

log "checking the public API of core against its committed report"
pnpm api:check
bash packages/core/scripts/check-api-break.sh

run_package_tests
