#!/usr/bin/env bash
# Control the libvirt backend used by @nova-common/driver-libvirt's tests:
#   install         apt packages (libvirt daemon + QEMU + busybox + tini) and build the tiny guest
#   start           virtlogd + libvirtd, fix /dev/kvm, wait until the daemon answers on its unix socket.
#                   libvirtd runs under a supervisor that lives across daemon restarts, itself under
#                   `tini -s`: QEMU processes are reaped at once (destroy ~0.2 s), also those that
#                   outlived a restart of the daemon. Robust to a previous crash: stale pid files and a
#                   daemon or supervisor that died are noticed and replaced.
#   restart         stop libvirtd and start it again, keeping all state: domain definitions, managed
#                   save images, and running guests (QEMU keeps running across a daemon restart)
#   restart --host  a host restart: libvirtd stops, every QEMU process libvirt runs is killed (power
#                   loss), libvirtd starts again. Definitions and managed save images stay; guests that
#                   ran are shut off (libvirt does not autostart them).
#   stop            stop every process this script started (guests first), leave nothing behind
#   status          say whether the daemon answers
# Logs and state live under /tmp/nova-common/libvirt/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

STATE_DIR=/tmp/nova-common/libvirt
LOG="$STATE_DIR/libvirtd.log"
SOCK=/run/libvirt/libvirt-sock
QEMU_RUN_DIR=/run/libvirt/qemu
RUN_REQUEST="$STATE_DIR/run-request"
SUPERVISOR_STOP="$STATE_DIR/supervisor.stop"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
READY_TIMEOUT="${LIBVIRT_READY_TIMEOUT:-60}"
PACKAGES=(libvirt-daemon libvirt-clients libvirt-daemon-system libvirt-daemon-driver-qemu
  qemu-system-x86 qemu-utils busybox-static tini cpio)

mkdir -p "$STATE_DIR"

log() { printf '[libvirt.sh] %s\n' "$*" >&2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib/supervised-pids.sh"

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


# The first live (not zombie) process with this exact name in this mount namespace: host b's
# libvirtd and virtlogd (libvirt-b.sh) run in a namespace of their own and are never taken for ours.
pgrep_alive() {
  local p mine
  mine="$(readlink /proc/self/ns/mnt)"
  for p in $(pgrep -x "$1" || true); do
    if alive "$p" && [[ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null || true)" == "$mine" ]]; then
      echo "$p"
      return 0
    fi
  done
}


daemon_pid() {
  local pid
  pid="$(live_pid libvirtd)"
  # A libvirtd this script did not record (started by hand, or a pid file lost in a crash).
  [[ -z "$pid" ]] && pid="$(pgrep_alive libvirtd)"
  echo "$pid"
}

ready() {
  [[ -S "$SOCK" ]] && timeout 10 virsh -c qemu:///system version >/dev/null 2>&1
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  until ready; do
    if ((SECONDS >= deadline)); then
      log "libvirtd not ready after ${READY_TIMEOUT}s; log tail:"
      tail -n 40 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}


ensure_virtlogd() {
  [[ -n "$(live_pid virtlogd)" ]] && return 0
  local pid
  pid="$(pgrep_alive virtlogd)"
  if [[ -z "$pid" ]]; then
    virtlogd -d
    for _ in $(seq 1 50); do
      pid="$(pgrep_alive virtlogd)"
      [[ -n "$pid" && -S /run/libvirt/virtlogd-sock ]] && break
      sleep 0.1
    done
  fi
  [[ -n "$pid" ]] || { log "virtlogd did not start"; exit 1; }
  echo "$pid" >"$STATE_DIR/virtlogd.pid"
}

# The supervisor: runs libvirtd each time a run is requested, and stays when libvirtd exits (a
# crash or a restart), so it and its tini keep reaping the QEMU processes libvirtd left running.
# Inline code, not this file: an edit of this script cannot reach a supervisor already running.
# Arguments: state directory, log file.
SUPERVISOR_CODE='
trap "exit 0" TERM INT
while [ ! -e "$1/supervisor.stop" ]; do
  if [ -e "$1/run-request" ]; then
    rm -f "$1/run-request"
    libvirtd >>"$2" 2>&1 </dev/null &
    echo $! >"$1/libvirtd.pid"
    wait $! || true
  fi
  sleep 0.1
done'

ensure_supervisor() {
  [[ -n "$(live_pid supervisor)" ]] && return 0
  rm -f "$SUPERVISOR_STOP"
  # tini -s: a child subreaper, so QEMU processes are reaped promptly (destroy ~0.2 s, not ~1.5 s).
  setsid tini -s -- bash -c "$SUPERVISOR_CODE" nova-libvirt-supervisor "$STATE_DIR" "$LOG" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/tini.pid"
  local sup=""
  for _ in $(seq 1 50); do
    sup="$(pgrep -P "$(cat "$STATE_DIR/tini.pid")" | head -n 1 || true)"
    [[ -n "$sup" ]] && break
    sleep 0.05
  done
  [[ -n "$sup" ]] || { log "the supervisor did not start"; exit 1; }
  echo "$sup" >"$STATE_DIR/supervisor.pid"
}

start() {
  fix_kvm
  mkdir -p /run/libvirt /var/lib/libvirt/images /var/log/libvirt/qemu
  ensure_virtlogd
  local pid
  pid="$(daemon_pid)"
  if [[ -n "$pid" ]]; then
    # Running already (ours, or one started by hand: use it).
    wait_ready
    echo "$pid" >"$STATE_DIR/libvirtd.pid"
    log "libvirtd already running (pid $pid)"
    return 0
  fi
  ensure_supervisor
  touch "$RUN_REQUEST"
  wait_ready
  pid="$(live_pid libvirtd)"
  if [[ -z "$pid" ]]; then
    pid="$(pgrep_alive libvirtd)"
    echo "$pid" >"$STATE_DIR/libvirtd.pid"
  fi
  log "libvirtd ready (pid $pid)"
}

# Stop libvirtd only: guests keep running (QEMU processes do not depend on the daemon).
stop_daemon() {
  local pid
  pid="$(daemon_pid)"
  rm -f "$RUN_REQUEST"
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" 15
  fi
  rm -f "$STATE_DIR/libvirtd.pid"
}

# Power loss: every QEMU process libvirt runs is killed at once, and reaped.
kill_guests() {
  local f pids=""
  for f in "$QEMU_RUN_DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    [[ "$(basename "$f")" == driver.pid ]] && continue
    pids+=" $(cat "$f" 2>/dev/null || true)"
  done
  local p live=""
  for p in $pids; do
    if [[ "$p" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$p/comm" 2>/dev/null || true)" == qemu-system-* ]]; then
      kill -9 "$p" 2>/dev/null || true
      live+=" $p"
    fi
  done
  if [[ -n "$live" ]]; then wait_gone "$live" 20; fi
  log "killed guests:${live:- none}"
}

restart() {
  local host=false
  [[ "${1:-}" == "--host" ]] && host=true
  stop_daemon
  $host && kill_guests
  start
}

stop() {
  # Guests first: any QEMU domains left running by tests.
  if ready; then
    local d
    for d in $(timeout 20 virsh -c qemu:///system list --name 2>/dev/null || true); do
      timeout 20 virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
    done
  fi
  stop_daemon
  touch "$SUPERVISOR_STOP"
  local f pid pids=""
  for f in supervisor tini virtlogd; do
    pid="$(live_pid "$f")"
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
      pids+=" $pid"
    fi
  done
  if [[ -n "$pids" ]]; then wait_gone "$pids" 15 || true; fi
  rm -f "$STATE_DIR"/{supervisor,tini,virtlogd,libvirtd}.pid "$SUPERVISOR_STOP" "$RUN_REQUEST"
  log "stopped"
}

status() {
  if ready; then
    echo "libvirtd: running, pid $(daemon_pid) ($(timeout 10 virsh -c qemu:///system version --daemon 2>/dev/null | tail -n 2 | tr '\n' ' '))"
  else
    echo "libvirtd: not running"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  restart) restart "${2:-}" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|restart [--host]|stop|status" >&2; exit 2 ;;
esac
