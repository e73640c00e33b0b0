#!/usr/bin/env bash
# What @nova-common/plugs' tests need besides Node: iproute2 (network namespaces, bridges, taps,
# veths), util-linux's losetup and blockdev (loop devices), a kernel that gives loop devices,
# Open vSwitch (openvswitch-switch: the OVS plugin's tests start their own ovsdb-server and
# ovs-vswitchd, user-space datapath, inside their network namespace), and for the iSCSI connector a
# user-space target (tgt), QEMU's user-space initiator (qemu-block-extra's libiscsi driver) and
# qemu-storage-daemon's FUSE export (qemu-utils, fuse3, /dev/fuse): its tests start their own tgtd on
# 127.0.0.1. Nothing is started here. Idempotent: installs only what is missing; fails loudly when
# loop devices, taps or FUSE cannot exist.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../backends/lib/apt.sh"
apt_install_missing plugs-prereqs iproute2 mount util-linux openvswitch-switch tgt qemu-block-extra qemu-utils fuse3
if [ ! -e /dev/loop-control ]; then
  modprobe loop 2>/dev/null || true
fi
[ -e /dev/loop-control ] || { echo "[plugs-prereqs] /dev/loop-control is missing: this kernel gives no loop devices" >&2; exit 1; }
ip netns list >/dev/null
[ -e /dev/net/tun ] || { echo "[plugs-prereqs] /dev/net/tun is missing: no taps on this kernel" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "[plugs-prereqs] /dev/fuse is missing: qemu-storage-daemon cannot export iSCSI volumes as files" >&2; exit 1; }
printf '[plugs-prereqs] %s, %s, %s\n' "$(ip -V)" "$(losetup --version)" "$(ovs-vsctl --version | head -1)" >&2
