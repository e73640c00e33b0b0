#!/usr/bin/env bash
# Control the Docker Engine used by @nova-common/driver-container's tests:
#   install  apt packages (docker.io, busybox-static, curl)
#   start    dockerd on unix:///var/run/docker.sock with no iptables/NAT/default bridge, wait until /_ping
#            answers, then `prepare`. Its networks (internal bridges, never routed) take /24s of 10.213.0.0/16:
#            dockerd's default pools hold about 30 networks, fewer than the tests' owners each keep a base
#            network for, and an exhausted pool fails every network create
#   prepare  build the local test images from busybox-static through the Engine API import (no registry):
#              nova-common/busybox:latest         default command keeps running, prints one line first
#              nova-common/busybox-noterm:latest  same, but ignores SIGTERM (fault tests)
#   stop     stop dockerd (its containers and its containerd with it); leave no process behind
#   restart  stop, then start again keeping every image and container (containers come back stopped, as after a
#            host restart: there is no restart policy); what the driver-container recovery tests use
#   status   say whether the engine answers
# Logs and state live under /tmp/nova-common/docker/. Storage driver: overlay2, falling back to vfs when
# overlay2 does not work on this filesystem (the choice is written to $STATE_DIR/storage-driver and sticks:
# images and containers live under the storage driver's own directory, so a later start never switches).
#
# Robust to a previous crash (dockerd killed, the machine's PID 1 slow to reap): a pid file counts only while its
# process is alive and is what it should be (not a zombie, not a reused pid), so stale pid files of dockerd and of
# its containerd are removed before a start, as is a socket nobody answers on.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/test-images.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/pids.sh"

STATE_DIR=/tmp/nova-common/docker
LOG="$STATE_DIR/dockerd.log"
PIDFILE="$STATE_DIR/dockerd.pid"
SOCK="${DOCKER_SOCKET:-/var/run/docker.sock}"
READY_TIMEOUT="${DOCKER_READY_TIMEOUT:-60}"
PACKAGES=(docker.io busybox-static curl)
BASE_IMAGE=nova-common/busybox
NOTERM_IMAGE=nova-common/busybox-noterm

mkdir -p "$STATE_DIR"

log() { printf '[docker.sh] %s\n' "$*" >&2; }


install() {
  apt_install_missing docker.sh "${PACKAGES[@]}"
}

ENGINE_PIDFILE="$STATE_DIR/dockerd.engine.pid"
# dockerd's exec root (its default): its containerd keeps its pid file and socket there.
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
CONTAINERD_SOCK=/var/run/docker/containerd/containerd.sock
SHIM_BUNDLES=/var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby
# runc's state of dockerd's containers (its default runtime root for namespace moby).
RUNC_ROOT=/var/run/docker/runtime-runc/moby

daemon_pid() {
  pid_from "$PIDFILE" dockerd
}

# Remove what a dockerd that died without cleaning up left: its pid files (dockerd refuses to start while its
# --pidfile names a process that exists, a zombie included) and its socket.
clear_stale() {
  drop_stale_pidfile "$PIDFILE" dockerd
  drop_stale_pidfile "$ENGINE_PIDFILE" dockerd
  drop_stale_pidfile "$CONTAINERD_PIDFILE" containerd
  if ! ready; then rm -f "$SOCK"; fi
}

api() {
  # api METHOD PATH [curl args...]: one Engine API call over the unix socket.
  local method="$1" path="$2"
  shift 2
  timeout 60 curl -sS --fail-with-body --unix-socket "$SOCK" -X "$method" "$@" "http://localhost$path"
}

ready() {
  [[ -S "$SOCK" ]] && [[ "$(timeout 5 curl -sS --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null || true)" == OK ]]
}

# still_running PID: the process exists and is no zombie, whatever command it runs yet.
still_running() {
  local stat state
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  state="${stat##*) }"
  state="${state%% *}"
  [[ "$state" != Z && "$state" != X ]]
}

launch() {
  local driver="$1"
  : >"$LOG"
  # setsid: dockerd gets its own session, so it is not tied to the caller's terminal or process group.
  setsid dockerd \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --storage-driver="$driver" \
    --userland-proxy=false \
    --default-address-pool base=10.213.0.0/16,size=24 \
    --shutdown-timeout=5 \
    --pidfile="$ENGINE_PIDFILE" \
    -H "unix://$SOCK" \
    >>"$LOG" 2>&1 </dev/null &
  local launched=$!
  echo "$launched" >"$PIDFILE"
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ready; then
      echo "$driver" >"$STATE_DIR/storage-driver"
      return 0
    fi
    # Not $(daemon_pid): until setsid has exec'd dockerd, the process runs under another name and would read as dead.
    if ! still_running "$launched"; then return 1; fi
    sleep 0.2
  done
  return 1
}

start() {
  if [[ -n "$(daemon_pid)" ]] && ready; then
    log "dockerd already running (pid $(daemon_pid))"
    prepare
    return 0
  fi
  if ready; then
    log "an engine already answers on $SOCK (not started by this script); using it"
    prepare
    return 0
  fi
  command -v dockerd >/dev/null || { log "dockerd not found: run '$0 install' first"; exit 1; }
  # A dockerd of this script that is alive but does not answer is stopped first; then what a dead one left goes.
  if [[ -n "$(daemon_pid)" ]]; then
    log "dockerd (pid $(daemon_pid)) does not answer; stopping it"
    stop_daemon
  fi
  clear_stale
  # A previous storage driver choice sticks (images and containers live under its directory).
  local first=overlay2
  if [[ -f "$STATE_DIR/storage-driver" ]]; then first="$(cat "$STATE_DIR/storage-driver")"; fi
  if ! launch "$first"; then
    log "dockerd with $first did not come up; log tail:"
    tail -n 20 "$LOG" >&2 || true
    stop_daemon
    if [[ "$first" == vfs || -f "$STATE_DIR/storage-driver" ]]; then
      log "not switching storage drivers (the $first choice holds this engine's images and containers)"
      exit 1
    fi
    log "falling back to the vfs storage driver"
    clear_stale
    if ! launch vfs; then
      log "dockerd is not ready after ${READY_TIMEOUT}s; log tail:"
      tail -n 40 "$LOG" >&2 || true
      stop_daemon
      exit 1
    fi
  fi
  log "dockerd ready (pid $(daemon_pid), storage driver $(cat "$STATE_DIR/storage-driver"))"
  reap_orphan_shims
  prepare
}

# A dockerd killed while it started a container leaves that container's containerd shim running, unknown to
# the containerd the next dockerd starts: the container can then never start again ("task <id>: already
# exists") and the shim, with the container's init when it was made, lives on unseen by the Engine API. Once a
# new daemon is up, every shim of its namespace that its containerd does not list as a task is ended, init
# first. Shims of live tasks are listed, so they are never touched.
reap_orphan_shims() {
  local known p id initpid
  known="$(timeout 20 ctr --address "$CONTAINERD_SOCK" -n moby tasks ls -q 2>/dev/null)" || return 0
  for p in $(pgrep -f 'containerd-shim-runc-v2 -namespace moby' || true); do
    id="$(tr '\0' '\n' </proc/"$p"/cmdline 2>/dev/null | awk 'prev == "-id" { print; exit } { prev = $0 }')"
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
    if grep -qx "$id" <<<"$known"; then continue; fi
    initpid="$(cat "$SHIM_BUNDLES/$id/init.pid" 2>/dev/null || true)"
    if [[ "$initpid" =~ ^[0-9]+$ ]]; then kill -KILL "$initpid" 2>/dev/null || true; fi
    kill -KILL "$p" 2>/dev/null || true
    log "ended the orphaned containerd shim of container ${id:0:12} (pid $p)"
  done
  # A dockerd killed while runc created a container can leave runc's state of it behind with no task: the next
  # start of that container then fails ("container with given ID already exists"). Deleted the same way.
  local d
  for d in "$RUNC_ROOT"/*; do
    id="${d##*/}"
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
    if grep -qx "$id" <<<"$known"; then continue; fi
    timeout 10 runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || rm -rf -- "$d"
    log "removed the stale runc state of container ${id:0:12}"
  done
}

stop_daemon() {
  local pid
  pid="$(daemon_pid)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" dockerd 30; then
      log "dockerd did not exit in 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
  # Container shims outlive a killed dockerd; end the ones of the engine this script ran (namespace moby,
  # containerd address under /var/run/docker), each by its pid.
  local p
  for p in $(pgrep -f 'containerd-shim-runc-v2 -namespace moby' || true); do
    if tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q '/var/run/docker/containerd/containerd.sock'; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  # dockerd stops the containerd it started; wait for that, and end it if it lingers, so a new start does
  # not race the old one for its socket.
  local c deadline
  for c in $(pgrep -f '^containerd --config /var/run/docker/containerd/containerd.toml' || true); do
    deadline=$((SECONDS + 10))
    while alive "$c" containerd && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$c" containerd; then
      kill -TERM "$c" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while alive "$c" containerd && ((SECONDS < deadline)); do sleep 0.1; done
      kill -KILL "$c" 2>/dev/null || true
    fi
  done
  clear_stale
}

stop() {
  stop_daemon
  log "dockerd stopped"
}

restart() {
  stop_daemon
  log "dockerd stopped; starting it again"
  start
}

status() {
  if ready; then
    echo "docker: running (pid $(daemon_pid || true), storage driver $(cat "$STATE_DIR/storage-driver" 2>/dev/null || echo unknown))"
  else
    echo "docker: not running"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  prepare)
    if [[ "${2:-}" == --force ]]; then FORCE_PREPARE=1; fi
    prepare
    ;;
  stop) stop ;;
  restart) restart ;;
  status) status ;;
  *)
    echo "usage: $0 install|start|prepare|stop|restart|status" >&2
    exit 2
    ;;
esac
