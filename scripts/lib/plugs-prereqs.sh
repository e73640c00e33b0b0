#!/usr/bin/env bash
# What @nova-common/plugs' tests need besides Node: iproute2 (network namespaces, bridges, taps,
# veths) and util-linux's losetup and blockdev (loop devices), and a kernel that gives loop
# devices. Idempotent: installs only what is missing; fails loudly when loop devices cannot exist.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../backends/lib/apt.sh"
apt_install_missing plugs-prereqs iproute2 mount util-linux
if [ ! -e /dev/loop-control ]; then
  modprobe loop 2>/dev/null || true
fi
[ -e /dev/loop-control ] || { echo "[plugs-prereqs] /dev/loop-control is missing: this kernel gives no loop devices" >&2; exit 1; }
ip netns list >/dev/null
printf '[plugs-prereqs] %s, %s\n' "$(ip -V)" "$(losetup --version)" >&2
