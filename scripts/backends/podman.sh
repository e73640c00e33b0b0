#!/usr/bin/env bash
# Control the podman engine (its Docker-compatible service) used by @nova-common/driver-container's podman tests:
#   install  apt packages (podman, runc, conmon, catatonit, containernetworking-plugins, busybox-static, curl)
#   start    `podman system service` on unix:///run/nova-common/podman.sock with the project's own configuration,
#            in a network namespace of its own, wait until /_ping answers, then `prepare`
#   prepare  build the local test images from busybox-static through the compat import endpoint (no registry):
#              nova-common/busybox:latest         default command keeps running, prints one line first
#              nova-common/busybox-noterm:latest  same, but ignores SIGTERM (fault tests)
#   stop     stop every container of this engine, the service, and any conmon or container process it left
#   restart  what a host restart does to this engine, keeping every image and container: stop the containers
#            gracefully (SIGTERM, SIGKILL after 5 s, a paused one unpaused first, as dockerd does on shutdown), stop
#            the service, start it again; the containers come back stopped (there is no restart policy)
#   status   say whether the engine answers
#
# Nothing global is changed: podman reads only the files this script writes under $STATE_DIR/conf
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF); images and containers live under
# $GRAPH_ROOT, run state under $STATE_DIR; dockerd, running beside it, is not touched.
#
# Facts of this machine kind (Debian 12, podman 4.3, hybrid cgroup v1, no systemd): crun refuses the cgroup
# layout, so the runtime is runc; cgroupfs instead of systemd; the file events logger (no journald); catatonit
# as the init; without explicit ulimits every container start fails (podman copies a host limit runc rejects).
#
# podman is daemonless: containers run under their conmon whether the service runs or not, so stopping or
# restarting the service alone would leave them as they are; `restart` stops them first, as a host restart would.
# Robust to a previous crash: a pid file counts only while its process is alive and is podman (lib/pids.sh), a
# stale one is removed, and the socket is made anew on every start.
#
# Network: the service runs in a network namespace of its own (`unshare --net`). Its CNI networks (the driver's
# networks are internal bridges), their bridges, the CNI firewall plugin's iptables chains and any sysctl it
# sets live in that namespace; the host's ip_forward, iptables and nftables stay as they are. Nothing can
# route out of it: the namespace has no link to the host's network.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/test-images.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/pids.sh"

STATE_DIR=/tmp/nova-common/podman
GRAPH_ROOT="${PODMAN_GRAPH_ROOT:-/var/lib/nova-common/podman/storage}"
CONF_DIR="$STATE_DIR/conf"
LOG="$STATE_DIR/podman.log"
PIDFILE="$STATE_DIR/podman.pid"
SOCK="${PODMAN_SOCKET:-/run/nova-common/podman.sock}"
READY_TIMEOUT="${PODMAN_READY_TIMEOUT:-60}"
PACKAGES=(podman runc conmon catatonit containernetworking-plugins iptables busybox-static curl)
BASE_IMAGE=nova-common/busybox
NOTERM_IMAGE=nova-common/busybox-noterm
# podman's cgroupfs parent for containers (its default); only this engine uses it on these machines.
CGROUP_PARENT=libpod_parent

mkdir -p "$STATE_DIR"

log() { printf '[podman.sh] %s\n' "$*" >&2; }

install() {
  apt_install_missing podman.sh "${PACKAGES[@]}"
}

catatonit_path() {
  local p
  for p in /usr/libexec/podman/catatonit /usr/bin/catatonit; do
    if [[ -x "$p" ]]; then
      echo "$p"
      return 0
    fi
  done
  echo /usr/bin/catatonit
}

write_config() {
  mkdir -p "$CONF_DIR" "$STATE_DIR/cni" "$STATE_DIR/tmp" "$STATE_DIR/runroot" "$GRAPH_ROOT" "$(dirname "$SOCK")"
  local driver="$1"
  cat >"$CONF_DIR/storage.conf" <<EOF
[storage]
driver = "$driver"
graphroot = "$GRAPH_ROOT"
runroot = "$STATE_DIR/runroot"
EOF
  cat >"$CONF_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
init_path = "$(catatonit_path)"
log_driver = "k8s-file"

[network]
network_backend = "cni"
network_config_dir = "$STATE_DIR/cni"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE_DIR/events.log"
tmp_dir = "$STATE_DIR/tmp"
static_dir = "$GRAPH_ROOT/libpod"
volume_path = "$GRAPH_ROOT/volumes"
EOF
  # No registries: an unqualified name is never looked up anywhere.
  cat >"$CONF_DIR/registries.conf" <<EOF
unqualified-search-registries = []
EOF
}

podman_env() {
  env CONTAINERS_CONF="$CONF_DIR/containers.conf" \
    CONTAINERS_STORAGE_CONF="$CONF_DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$CONF_DIR/registries.conf" \
    "$@"
}

service_pid() {
  pid_from "$PIDFILE" podman
}

api() {
  # api METHOD PATH [curl args...]: one compat API call over the unix socket.
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
  write_config "$driver"
  : >"$LOG"
  rm -f "$SOCK"
  # setsid: its own session; unshare --net: its own network namespace (see the header). Both exec, so $! is
  # podman itself.
  setsid unshare --net -- env CONTAINERS_CONF="$CONF_DIR/containers.conf" \
    CONTAINERS_STORAGE_CONF="$CONF_DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$CONF_DIR/registries.conf" \
    podman --log-level=info system service --time=0 "unix://$SOCK" \
    >>"$LOG" 2>&1 </dev/null &
  local launched=$!
  echo "$launched" >"$PIDFILE"
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ready; then
      echo "$driver" >"$STATE_DIR/storage-driver"
      return 0
    fi
    # Not $(service_pid): until setsid, unshare and env have exec'd podman, the process runs under another name and would read as dead.
    if ! still_running "$launched"; then return 1; fi
    sleep 0.2
  done
  return 1
}

start() {
  if [[ -n "$(service_pid)" ]] && ready; then
    log "podman service already running (pid $(service_pid))"
    prepare
    return 0
  fi
  if ready; then
    log "an engine already answers on $SOCK (not started by this script); using it"
    prepare
    return 0
  fi
  command -v podman >/dev/null || { log "podman not found: run '$0 install' first"; exit 1; }
  # A service of this script that is alive but does not answer is stopped first; a dead one's pid file goes.
  if [[ -n "$(service_pid)" ]]; then
    log "podman service (pid $(service_pid)) does not answer; stopping it"
    stop_service
  fi
  drop_stale_pidfile "$PIDFILE" podman
  # A previous storage driver choice sticks: podman refuses to open a graph root with another driver.
  local first=overlay
  if [[ -f "$STATE_DIR/storage-driver" ]]; then first="$(cat "$STATE_DIR/storage-driver")"; fi
  if ! launch "$first"; then
    log "podman service ($first) did not come up; log tail:"
    tail -n 20 "$LOG" >&2 || true
    cp "$LOG" "$LOG.failed" 2>/dev/null || true
    stop_service
    # Never on a graph root a previous start chose its driver for: the fallback starts from an empty one, and
    # a service killed mid-call (the fault tests SIGKILL it) must come back with its images and containers.
    if [[ "$first" == vfs || -f "$STATE_DIR/storage-driver" ]]; then
      log "not switching storage drivers (the $first choice holds this engine's images and containers)"
      exit 1
    fi
    log "falling back to the vfs storage driver (on a fresh graph root)"
    rm -rf "$GRAPH_ROOT"
    if ! launch vfs; then
      log "podman service is not ready after ${READY_TIMEOUT}s; log tail:"
      tail -n 40 "$LOG" >&2 || true
      stop_service
      exit 1
    fi
  fi
  log "podman service ready (pid $(service_pid), storage driver $(cat "$STATE_DIR/storage-driver"), socket $SOCK)"
  clean_up_stopped
  remove_stale_runc_states
  remove_broken_images
  prepare
}

# A service killed while runc created a container can leave runc's state of it behind (status created or
# stopped, no process): the next start of that container then fails ("container with given ID already
# exists"), and podman's cleanup does not remove it. Right after the service started nothing is being created,
# so every state runc holds under podman's runtime root for a container that does not run is deleted.
remove_stale_runc_states() {
  local root=/run/runc id status
  [[ -d "$root" ]] || return 0
  while read -r id _ status _; do
    [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
    [[ "$status" == running || "$status" == paused ]] && continue
    timeout 10 runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    log "removed the stale runc state ($status) of container ${id:0:12}"
  done < <(timeout 20 runc --root "$root" list 2>/dev/null | tail -n +2)
}

# A service killed while it wrote or removed an image can leave the image recorded without its manifest: from
# then on every image list fails ("locating item named \"manifest\" for image with ID ...: file does not
# exist", podman's own advice being to remove that image). Once the service is up, each such image is removed,
# by the service and else by podman's CLI on the same storage; prepare then brings back a test image it was.
remove_broken_images() {
  local n out id
  for n in 1 2 3 4 5 6 7 8 9 10; do
    out="$(api GET /images/json 2>&1)" && return 0
    id="$(grep -oE 'for image with ID \\?"[0-9a-f]{64}' <<<"$out" | grep -oE '[0-9a-f]{64}' | head -n 1)"
    if [[ -z "$id" ]]; then
      log "listing images fails: $out"
      return 0
    fi
    log "removing image ${id:0:12}: its manifest is missing (a service killed while it wrote or removed it)"
    api DELETE "/images/$id?force=true" >/dev/null 2>&1 || podman_env podman rmi --force "$id" >>"$LOG" 2>&1 || true
  done
}

# A service killed in the middle of a start or a commit leaves what only its own cleanup would have undone: a
# container's IP still allocated (its next start fails "duplicate allocation"), its root filesystem still
# mounted (its removal fails). `podman container cleanup --all` is that cleanup (what conmon runs when a
# container exits) for every container that is not running; run in the service's network namespace, where its
# bridges are. Containers that run are not touched.
clean_up_stopped() {
  local pid
  pid="$(service_pid)"
  [[ -n "$pid" ]] || return 0
  if ! timeout 120 nsenter --net="/proc/$pid/ns/net" -- env CONTAINERS_CONF="$CONF_DIR/containers.conf" \
    CONTAINERS_STORAGE_CONF="$CONF_DIR/storage.conf" CONTAINERS_REGISTRIES_CONF="$CONF_DIR/registries.conf" \
    podman container cleanup --all >>"$LOG" 2>&1; then
    log "podman container cleanup --all reported errors (see $LOG)"
  fi
  release_stale_addresses
}

# CNI's host-local IPAM records each address it hands out as a file named after the address, holding the
# container's id. A start killed after the allocation leaves the file while podman records no network for the
# container: its next start fails ("duplicate allocation is not allowed") and its removal leaves the address
# taken. Once the service is up, an address of one of this engine's networks held by a container that does not
# run is released (a container that is not running holds no address: podman allocates at start).
release_stale_addresses() {
  local listed running dir f holder
  # Without the engine's answer nothing is known to be stale: release nothing.
  listed="$(timeout 20 curl -sS --fail --unix-socket "$SOCK" 'http://localhost/containers/json' 2>/dev/null)" || return 0
  running="$(grep -o '"Id":"[0-9a-f]\{64\}"' <<<"$listed" | cut -d'"' -f4 || true)"
  # The networks of this engine's configuration, and those the tests made and removed since (`nova-` prefix).
  for dir in /var/lib/cni/networks/*; do
    [[ -d "$dir" ]] || continue
    [[ -e "$STATE_DIR/cni/$(basename "$dir").conflist" || "$(basename "$dir")" == nova-* ]] || continue
    for f in "$dir"/*; do
      [[ -f "$f" ]] || continue
      case "$(basename "$f")" in last_reserved_ip.* | lock) continue ;; esac
      holder="$(head -n 1 "$f" | tr -d '[:space:]')"
      [[ "$holder" =~ ^[0-9a-f]{64}$ ]] || continue
      if grep -qx "$holder" <<<"$running"; then continue; fi
      rm -f -- "$f"
      log "released $(basename "$f") on $(basename "$dir"), held by container ${holder:0:12} that does not run"
    done
  done
}

# Processes this engine left: conmon monitors started for this configuration, and every process in a container
# cgroup under podman's cgroupfs parent.
leftover_pids() {
  local p
  for p in $(pgrep -x conmon || true); do
    if tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -qF -e "$STATE_DIR" -e "$GRAPH_ROOT"; then echo "$p"; fi
  done
  local f
  for f in /sys/fs/cgroup/pids/"$CGROUP_PARENT"/*/cgroup.procs /sys/fs/cgroup/unified/"$CGROUP_PARENT"/*/cgroup.procs; do
    [[ -r "$f" ]] && cat "$f"
  done
  return 0
}

stop_service() {
  # Stop the containers through the service first, so their network teardown runs in its namespace.
  if ready; then
    local id
    for id in $(api GET '/containers/json?all=true' 2>/dev/null | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
      api POST "/containers/$id/stop?t=0" >/dev/null 2>&1 || true
    done
  fi
  local pid
  pid="$(service_pid)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" podman 20; then
      log "podman service did not exit in 20s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
  local p left
  left="$(leftover_pids | sort -u)"
  if [[ -n "$left" ]]; then
    log "ending processes the engine left: $(echo "$left" | tr '\n' ' ')"
    for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
    local deadline=$((SECONDS + 10))
    while [[ -n "$(leftover_pids)" ]] && ((SECONDS < deadline)); do sleep 0.2; done
  fi
}

# Stop every container of this engine as a host shutdown would: SIGTERM, SIGKILL after `grace` seconds, all at
# once; a paused one is unpaused first (podman refuses to stop a paused container).
stop_containers_gracefully() {
  local grace="$1" id
  ready || return 0
  for id in $(api GET '/containers/json?filters=%7B%22status%22%3A%5B%22paused%22%5D%7D' 2>/dev/null | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
    api POST "/containers/$id/unpause" >/dev/null 2>&1 || true
  done
  local pids=()
  for id in $(api GET '/containers/json' 2>/dev/null | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
    api POST "/containers/$id/stop?t=$grace" >/dev/null 2>&1 &
    pids+=($!)
  done
  local p
  for p in "${pids[@]}"; do wait "$p" || true; done
}

restart() {
  stop_containers_gracefully 5
  stop
  log "starting the podman service again"
  start
}

stop() {
  stop_service
  rm -f "$SOCK"
  # The overlay driver bind-mounts its own directory (to make it private); container mounts below it are
  # unmounted by podman when containers stop. Undo what is left, only under this graph root.
  local m
  for m in $(awk -v root="$GRAPH_ROOT/" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
  local left
  left="$(leftover_pids | sort -u | tr '\n' ' ')"
  if [[ -n "${left// /}" ]]; then
    log "processes still alive: $left"
    exit 1
  fi
  forget_removed_networks
  log "podman service stopped"
}

# CNI's host-local IPAM keeps a directory per network under /var/lib/cni/networks (a path built into
# CNI) and leaves it behind when the network is removed. Remove those of networks the tests made
# (the driver's default `nova-` prefix) that no longer exist in this engine's network config and hold
# no address reservation any more (only `last_reserved_ip.*` and `lock`).
forget_removed_networks() {
  local dir name
  for dir in /var/lib/cni/networks/nova-*; do
    [[ -d "$dir" ]] || continue
    name="$(basename "$dir")"
    [[ -e "$STATE_DIR/cni/$name.conflist" || -e "/etc/cni/net.d/$name.conflist" ]] && continue
    if find "$dir" -mindepth 1 -maxdepth 1 ! -name 'last_reserved_ip.*' ! -name lock | grep -q .; then continue; fi
    rm -rf -- "$dir"
  done
}

status() {
  if ready; then
    echo "podman: running (pid $(service_pid || true), storage driver $(cat "$STATE_DIR/storage-driver" 2>/dev/null || echo unknown), socket $SOCK)"
  else
    echo "podman: not running"
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
