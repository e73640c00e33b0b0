#!/usr/bin/env bash
# A second libvirt host ("b") on this machine, next to the one of libvirt.sh ("a"), so that
# migration between two libvirtd instances can be exercised over loopback:
#   install  delegates to libvirt.sh install (packages + tiny guest)
#   start    virtlogd + libvirtd of host b in their own mount namespace, wait until b answers
#            on its unix socket; idempotent (a running b is kept, a half-dead one is replaced)
#   stop     destroy b's guests, stop every process of b (its QEMU processes too); the private
#            mounts vanish with the namespace's last process
#   status   say whether b answers, and print its socket path
#   kill     SIGKILL b's libvirtd (a crash of the daemon, for fault tests): its QEMU processes and
#            the namespace stay until the next `start`, which replaces the half-dead host (a
#            restart of host b: its guests are gone, definitions written to disk stay)
# Why a mount namespace: as root, libvirtd's QEMU driver uses fixed paths (/run/libvirt,
# /var/lib/libvirt/qemu, /etc/libvirt, /var/log/libvirt, /var/cache/libvirt). Host b gets private
# copies of those (tmpfs for /run/libvirt, bind mounts of directories under $STATE_DIR for the
# rest); /var/lib/libvirt/images, /tmp and /run/nova-common stay shared, so both hosts see the
# guest's kernel, disks and console logs, and host a reaches b's socket at $SOCK; b reaches a's
# socket at $A_RUN_IN_B/libvirt-sock (a's /run/libvirt bound there inside b's namespace).
# b's libvirtd.conf carries its own host_uuid (libvirt refuses a migration to a host with the
# same UUID) and b's qemu.conf turns cgroups off (the cgroup names qemu-<id>-<name> would clash
# with host a's while a guest exists on both sides during a migration).
# Client URI for host b: qemu+unix:///system?socket=/run/nova-common/libvirt-b/libvirt-sock
# Logs and state live under /tmp/nova-common/libvirt-b/.
set -euo pipefail

STATE_DIR=/tmp/nova-common/libvirt-b
LOG="$STATE_DIR/libvirtd.log"
SOCK_DIR=/run/nova-common/libvirt-b
SOCK="$SOCK_DIR/libvirt-sock"
URI="qemu+unix:///system?socket=$SOCK"
# Host a's /run/libvirt as host b sees it (an empty directory outside b's namespace): the
# destination URI for a peer-to-peer migration from b to a.
A_RUN_IN_B="$SOCK_DIR/host-a"
A_URI_FROM_B="qemu+unix:///system?socket=$A_RUN_IN_B/libvirt-sock"
HOST_UUID="${LIBVIRT_B_HOST_UUID:-6e6f7661-2d63-4f6d-8d6f-6e2d686f7362}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
READY_TIMEOUT="${LIBVIRT_READY_TIMEOUT:-60}"

mkdir -p "$STATE_DIR"

log() { printf '[libvirt-b.sh] %s\n' "$*" >&2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib/supervised-pids.sh"



ready() {
  [[ -S "$SOCK" ]] && timeout 10 virsh -c "$URI" version >/dev/null 2>&1
}


# b's private configuration: a copy of /etc/libvirt (made once) with b's own settings.
prepare_config() {
  mkdir -p "$STATE_DIR"/{lib-qemu,log/qemu,cache}
  if [[ ! -f "$STATE_DIR/etc/.copied" ]]; then
    rm -rf "$STATE_DIR/etc"
    cp -a /etc/libvirt "$STATE_DIR/etc"
    rm -rf "$STATE_DIR/etc/qemu"/*.xml "$STATE_DIR/etc/qemu/autostart" "$STATE_DIR/etc/qemu/networks/autostart"
    touch "$STATE_DIR/etc/.copied"
  fi
  cat >"$STATE_DIR/etc/libvirtd.conf" <<EOF
# host b (written by scripts/backends/libvirt-b.sh)
unix_sock_dir = "$SOCK_DIR"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "$HOST_UUID"
log_outputs = "3:stderr"
EOF
  cat >"$STATE_DIR/etc/qemu.conf" <<EOF
# host b (written by scripts/backends/libvirt-b.sh)
cgroup_controllers = [ ]
migration_port_min = 49300
migration_port_max = 49363
EOF
  mkdir -p "$SOCK_DIR"
}

# Runs inside the new mount namespace (arguments: state directory, where b sees a's /run/libvirt).
# The shell stays after libvirtd exits (a crash), so the namespace and tini stay too and tini keeps
# reaping b's QEMU processes; a marker file in b's private /run/libvirt tells b's processes from host a's (see b_procs).
INNER_CODE='
set -e
S=$1
trap "exit 0" TERM INT
mount --make-rprivate /
mkdir -p /run/libvirt "$2"
mount --bind /run/libvirt "$2"
mount -t tmpfs -o mode=0755 libvirt-b-run /run/libvirt
touch /run/libvirt/.nova-libvirt-b
mount --bind "$S/etc" /etc/libvirt
mount --bind "$S/lib-qemu" /var/lib/libvirt/qemu
mount --bind "$S/log" /var/log/libvirt
mount --bind "$S/cache" /var/cache/libvirt
virtlogd -d -p "$S/virtlogd.pid"
for i in $(seq 1 50); do [ -S /run/libvirt/virtlogd-sock ] && break; sleep 0.1; done
libvirtd -p /run/libvirt/libvirtd-b.pid &
echo $! >"$S/libvirtd.pid"
wait $! || true
while :; do sleep 1; done'

# Every live process of host b (its libvirtd, virtlogd, QEMU; also after tini died): they see the
# marker file in b's private /run/libvirt (QEMU's own /dev namespace keeps /run).
b_procs() {
  local p
  for p in $(pgrep -x 'libvirtd|virtlogd|qemu-system-.*|bash|tini' 2>/dev/null || true); do
    if [[ -e "/proc/$p/root/run/libvirt/.nova-libvirt-b" ]] && alive "$p"; then echo "$p"; fi
  done
  return 0
}

start() {
  local pid
  pid="$(live_pid libvirtd)"
  if [[ -n "$pid" ]] && ready; then
    log "libvirtd of host b already running (pid $pid), socket $SOCK"
    return 0
  fi
  if [[ -n "$pid" || -n "$(live_pid tini)" || -n "$(b_procs)" ]]; then
    log "host b is half up (no answer on $SOCK): replacing it"
    stop
  fi
  [[ -S /run/libvirt/libvirt-sock ]] || log "note: host a (libvirt.sh) is not running"
  if [[ -e /dev/kvm ]]; then chgrp kvm /dev/kvm 2>/dev/null || true; chmod 0660 /dev/kvm 2>/dev/null || true; fi
  prepare_config
  rm -f "$SOCK" "$SOCK_DIR"/libvirt-sock-ro "$SOCK_DIR"/libvirt-admin-sock "$STATE_DIR"/{libvirtd,virtlogd}.pid
  # The QEMU state of a previous run (no QEMU of b survives a stop).
  rm -rf "${STATE_DIR:?}/lib-qemu"/domain-* "${STATE_DIR:?}/lib-qemu"/*.monitor
  setsid tini -s -- unshare -m -- bash -c "$INNER_CODE" nova-libvirt-b "$STATE_DIR" "$A_RUN_IN_B" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/tini.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until ready; do
    if ! alive "$(cat "$STATE_DIR/tini.pid")" || ((SECONDS >= deadline)); then
      log "libvirtd of host b not ready; log tail:"
      tail -n 40 "$LOG" >&2 || true
      stop
      exit 1
    fi
    sleep 0.2
  done
  log "libvirtd of host b ready (pid $(live_pid libvirtd)), socket $SOCK"
}

stop() {
  if ready; then
    local d
    for d in $(timeout 20 virsh -c "$URI" list --name 2>/dev/null || true); do
      timeout 20 virsh -c "$URI" destroy "$d" >/dev/null 2>&1 || true
    done
  fi
  local pid rest
  pid="$(live_pid libvirtd)"
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" 15 || true
  fi
  # What is left: virtlogd of b, QEMU processes that outlived libvirtd, the namespace's shell, tini.
  rest="$(live_pid tini) $(b_procs | tr '\n' ' ')"
  if [[ -n "${rest// /}" ]]; then
    # shellcheck disable=SC2086
    kill $rest 2>/dev/null || true
    wait_gone "$rest" 10 || true
  fi
  rm -f "$STATE_DIR"/{tini,libvirtd,virtlogd}.pid "$SOCK" "$SOCK_DIR"/libvirt-sock-ro "$SOCK_DIR"/libvirt-admin-sock
  rmdir "$A_RUN_IN_B" 2>/dev/null || true
  log "stopped"
}

kill_daemon() {
  local pid
  pid="$(live_pid libvirtd)"
  if [[ -z "$pid" ]]; then
    log "libvirtd of host b is not running"
    return 1
  fi
  kill -9 "$pid"
  wait_gone "$pid" 5 || true
  log "libvirtd of host b (pid $pid) killed"
}

status() {
  if ready; then
    echo "libvirtd (host b): running, pid $(live_pid libvirtd), socket $SOCK"
    echo "uri: $URI"
    echo "host a as seen by b (p2p migration b -> a): $A_URI_FROM_B"
  else
    echo "libvirtd (host b): not running (socket $SOCK)"
    return 1
  fi
}

case "${1:-}" in
  install) bash "$HERE/libvirt.sh" install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_daemon ;;
  *) echo "usage: $0 install|start|stop|status|kill" >&2; exit 2 ;;
esac
