#!/usr/bin/env bash
# Control the libvirt backend used by @nova-common/driver-libvirt's tests:
#   install  apt packages (libvirt daemon + QEMU + busybox + tini) and build the tiny guest
#   start    virtlogd + libvirtd (under `tini -s` so QEMU children are reaped at once), fix /dev/kvm,
#            wait until the daemon answers on its unix socket
#   stop     stop every process this script started (guests first), leave nothing behind
#   status   say whether the daemon answers
# Logs and state live under /tmp/nova-common/libvirt/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

STATE_DIR=/tmp/nova-common/libvirt
LOG="$STATE_DIR/libvirtd.log"
SOCK=/run/libvirt/libvirt-sock
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
READY_TIMEOUT="${LIBVIRT_READY_TIMEOUT:-60}"
PACKAGES=(libvirt-daemon libvirt-clients libvirt-daemon-system libvirt-daemon-driver-qemu
  qemu-system-x86 qemu-utils busybox-static tini cpio)

mkdir -p "$STATE_DIR"

log() { printf '[libvirt.sh] %s\n' "$*" >&2; }


install() {
  apt_install_missing libvirt.sh "${PACKAGES[@]}"
  "$ROOT/scripts/guest/build.sh"
}

fix_kvm() {
  # Trap: a 0600 /dev/kvm makes libvirt re-probe QEMU on every call (~44 s per define).
  if [[ -e /dev/kvm ]]; then
    chgrp kvm /dev/kvm 2>/dev/null || true
    chmod 0660 /dev/kvm 2>/dev/null || true
  fi
}

daemon_pid() {
  local pid
  pid="$(cat "$STATE_DIR/libvirtd.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

ready() {
  [[ -S "$SOCK" ]] && timeout 10 virsh -c qemu:///system version >/dev/null 2>&1
}

start() {
  fix_kvm
  mkdir -p /run/libvirt /var/lib/libvirt/images /var/log/libvirt/qemu
  if [[ -z "$(pgrep -x virtlogd || true)" ]]; then
    virtlogd -d
    sleep 0.2
    pgrep -x virtlogd >"$STATE_DIR/virtlogd.pid" || true
  fi
  if [[ -n "$(daemon_pid)" ]] && ready; then
    log "libvirtd already running (pid $(daemon_pid))"
    return 0
  fi
  if pgrep -x libvirtd >/dev/null; then
    log "a libvirtd not started by this script is running; using it"
  else
    # tini -s: be a child subreaper so QEMU processes are reaped promptly (destroy ~0.2 s, not ~1.5 s).
    setsid tini -s -- libvirtd >>"$LOG" 2>&1 </dev/null &
    echo $! >"$STATE_DIR/tini.pid"
  fi
  local deadline=$((SECONDS + READY_TIMEOUT))
  until ready; do
    if ((SECONDS >= deadline)); then
      log "libvirtd not ready after ${READY_TIMEOUT}s; log tail:"
      tail -n 40 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.3
  done
  pgrep -x libvirtd >"$STATE_DIR/libvirtd.pid" || true
  log "libvirtd ready (pid $(cat "$STATE_DIR/libvirtd.pid"))"
}

stop() {
  # Guests first: any QEMU domains left running by tests.
  if ready; then
    local d
    for d in $(timeout 20 virsh -c qemu:///system list --name 2>/dev/null || true); do
      timeout 20 virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
    done
  fi
  local pid
  for f in tini libvirtd virtlogd; do
    pid="$(cat "$STATE_DIR/$f.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + 15))
  for f in libvirtd tini virtlogd; do
    pid="$(cat "$STATE_DIR/$f.pid" 2>/dev/null || true)"
    [[ -z "$pid" ]] && continue
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$STATE_DIR/$f.pid"
  done
  log "stopped"
}

status() {
  if ready; then
    echo "libvirtd: running ($(timeout 10 virsh -c qemu:///system version --daemon 2>/dev/null | tail -n 2 | tr '\n' ' '))"
  else
    echo "libvirtd: not running"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
