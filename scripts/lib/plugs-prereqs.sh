#!/usr/bin/env bash
# What @nova-common/plugs' tests need besides Node: iproute2 (network namespaces, bridges, taps,
# veths), util-linux's losetup and blockdev (loop devices), a kernel that gives loop devices,
# and Open vSwitch's tools and daemons (openvswitch-switch: the OVS plugin's tests start their own
# ovsdb-server and ovs-vswitchd, user-space datapath, inside their network namespace; nothing is
# started here). Idempotent: installs only what is missing; fails loudly when loop devices cannot exist.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../backends/lib/apt.sh"
apt_install_missing plugs-prereqs iproute2 mount util-linux openvswitch-switch
if [ ! -e /dev/loop-control ]; then
  modprobe loop 2>/dev/null || true
fi
[ -e /dev/loop-control ] || { echo "[plugs-prereqs] /dev/loop-control is missing: this kernel gives no loop devices" >&2; exit 1; }
ip netns list >/dev/null
[ -e /dev/net/tun ] || { echo "[plugs-prereqs] /dev/net/tun is missing: no taps on this kernel" >&2; exit 1; }
printf '[plugs-prereqs] %s, %s, %s\n' "$(ip -V)" "$(losetup --version)" "$(ovs-vsctl --version | head -1)" >&2
