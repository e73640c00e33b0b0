#!/usr/bin/env bash
# Control a standalone OpenStack Ironic (Debian's python3-ironic, Zed) with fake hardware, on loopback.
#
#   ironic.sh install                      install python3-ironic (apt, no recommends)
#   ironic.sh start [variant] [nodes]      a fresh Ironic: write the config, create the schema, start, wait,
#                                          enroll nodes (no variant: `default` and `failing`, what `pnpm test`
#                                          needs); a variant that already answers is kept (nodes re-enrolled)
#   ironic.sh restart [variant]            stop and start again KEEPING the database (nodes, instances,
#                                          power states), as after a host restart; no re-enrollment
#   ironic.sh stop [variant|all]           stop what start started (default: all variants)
#   ironic.sh status [variant]             exit 0 when the variant answers
#   ironic.sh endpoint [variant]           print the variant's endpoint URL
#   ironic.sh variant <endpoint>           print the variant listening at an endpoint URL (exit 1: none)
#   ironic.sh lose-power-state <variant> <node-uuid>
#                                          make Ironic forget a node's power state (power_state NULL, as a
#                                          fake-hardware node has before its first power action); the API
#                                          offers no way to do it, so it is written to the database
#
# start and restart are robust to a previous crash: a pid file whose process is gone (or is no longer
# this variant's Ironic) is ignored, an Ironic of this variant running without a pid file (started from
# another checkout, or whose pid file was lost) is found by its command line and stopped first, and a
# running but unresponsive one is killed. SQLite recovers a journal left by a crash on its own: the
# database files are never touched by hand.
#
# Variants (each has its own port, config, database and logs under /tmp/nova-common/ironic/<variant>/):
#   default  port 6385, 8 nodes (resource class baremetal)   conformance and integration tests
#   failing  port 6386, 3 nodes: [deploy] configdrive_use_object_store = true without an object
#            store, so every deploy that carries a config drive ends in `deploy failed`
#   bench    port 6387, 1000 nodes (resource class bench)    pnpm bench
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$HERE/ironic"
ROOT=/tmp/nova-common/ironic
IMAGES="$ROOT/images"   # file:// image sources the drivers' tests deploy (fake hardware never reads them)
IMAGE_IDS="nc-image-1 nc-image-2 nc-image-3"
PY=/usr/bin/python3   # Debian's interpreter: a pyenv python3 on PATH does not see python3-ironic
API_VERSION=1.78

variant_port() {
  case "$1" in
    default) echo 6385 ;; failing) echo 6386 ;; bench) echo 6387 ;;
    *) echo "unknown variant: $1 (default|failing|bench)" >&2; exit 2 ;;
  esac
}
variant_nodes() { case "$1" in default) echo 8 ;; failing) echo 3 ;; bench) echo 1000 ;; esac; }
variant_class() { case "$1" in bench) echo bench ;; *) echo baremetal ;; esac; }

log() { echo "[ironic] $*" >&2; }

install() {
  if "$PY" -c 'import ironic.cmd.singleprocess' 2>/dev/null; then
    log "python3-ironic already installed"
    return 0
  fi
  mkdir -p "$ROOT"
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -f "$ROOT/.apt-updated" ]; then
    timeout 600 apt-get update -q
    touch "$ROOT/.apt-updated"
  fi
  timeout 1200 apt-get install -y -q --no-install-recommends python3-ironic
  "$PY" -c 'import ironic.cmd.singleprocess'
}

ready() { # ready <port>: GET /v1/drivers lists fake-hardware (python, not curl: a fresh machine may lack curl)
  timeout 5 "$PY" - "$1" "$API_VERSION" <<'PYEOF' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(f'http://127.0.0.1:{sys.argv[1]}/v1/drivers', headers={'X-OpenStack-Ironic-API-Version': sys.argv[2]})
with urllib.request.urlopen(req, timeout=4) as r:
    sys.exit(0 if b'"fake-hardware"' in r.read() else 1)
PYEOF
}

# Pids of this variant's Ironic processes, whichever checkout started them: found by command line
# (the run-ironic.py wrapper with this variant's config file), so a stale or reused pid is never signalled.
variant_pids() {
  local conf="$ROOT/$1/ironic.conf" f cmd
  for f in $(grep -alsF -- "$conf" /proc/[0-9]*/cmdline 2>/dev/null); do
    cmd="$( { tr '\0' ' ' < "$f"; } 2>/dev/null)" || continue
    case "$cmd" in
      *run-ironic.py\ --config-file\ "$conf"\ *) f="${f#/proc/}"; echo "${f%/cmdline}" ;;
    esac
  done
  return 0
}

# The pid in the variant's pid file when it is still this variant's Ironic, else nothing.
recorded_pid() {
  local file="$ROOT/$1/ironic.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null)"
  case "$pid" in ''|*[!0-9]*) return 0 ;; esac
  variant_pids "$1" | grep -qx "$pid" && echo "$pid"
  return 0
}

running() { [ -n "$(recorded_pid "$1")" ]; }

write_config() { # write_config <variant>: the variant's directory, images and ironic.conf
  local variant="$1" port dir object_store workers
  port="$(variant_port "$variant")"
  dir="$ROOT/$variant"
  object_store=false; [ "$variant" = failing ] && object_store=true
  workers=100; [ "$variant" = bench ] && workers=400
  mkdir -p "$dir/locks" "$IMAGES"
  for img in $IMAGE_IDS; do
    [ -f "$IMAGES/$img.img" ] || head -c 1048576 /dev/zero > "$IMAGES/$img.img"
  done
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@VARIANT@|$variant|g" \
      -e "s|@OBJECT_STORE@|$object_store|g" -e "s|@WORKERS@|$workers|g" -e "s|@IMAGES@|$IMAGES|g" \
      "$TEMPLATES/ironic.conf.tmpl" > "$dir/ironic.conf"
}

launch() { # launch <variant>: start Ironic on the variant's existing database and config, wait until ready
  local variant="$1" port dir
  port="$(variant_port "$variant")"
  dir="$ROOT/$variant"
  if ready "$port"; then
    log "port $port answers but no $variant Ironic of ours runs there; stop whatever holds it first"
    exit 1
  fi
  # setsid: own process group, so stop can signal everything it started.
  setsid "$PY" "$TEMPLATES/run-ironic.py" --config-file "$dir/ironic.conf" >"$dir/stdout.log" 2>&1 < /dev/null &
  echo $! > "$dir/ironic.pid"
  local deadline=$((SECONDS + 60))
  until ready "$port"; do
    if ! running "$variant" || [ "$SECONDS" -ge "$deadline" ]; then
      log "Ironic ($variant) did not become ready on 127.0.0.1:$port; log tail:"
      tail -n 40 "$dir/ironic.log" "$dir/stdout.log" >&2 || true
      stop_one "$variant"
      exit 1
    fi
    sleep 0.2
  done
  log "$variant ready on 127.0.0.1:$port"
}

enroll() { # enroll <variant> [nodes]
  local variant="$1" nodes="${2:-}" port cls
  port="$(variant_port "$variant")"
  nodes="${nodes:-$(variant_nodes "$variant")}"
  cls="$(variant_class "$variant")"
  timeout 900 "$PY" "$TEMPLATES/enroll.py" "http://127.0.0.1:$port" "$nodes" "nc-$variant" "$cls" 600 \
    || { log "enrolling nodes failed; log tail:"; tail -n 40 "$ROOT/$variant/ironic.log" >&2 || true; exit 1; }
}

require_ironic() {
  "$PY" -c 'import ironic.cmd.singleprocess' 2>/dev/null || { log "python3-ironic missing: run '$0 install'"; exit 1; }
}

start() {
  local variant="${1:-default}" nodes="${2:-}" port dir
  port="$(variant_port "$variant")"
  dir="$ROOT/$variant"
  require_ironic
  if running "$variant" && ready "$port"; then
    log "$variant already running on 127.0.0.1:$port"
  else
    stop_one "$variant"   # a crashed, hung or orphaned one
    rm -rf "$dir"
    write_config "$variant"
    timeout 120 "$PY" "$TEMPLATES/dbsync.py" --config-file "$dir/ironic.conf" create_schema >"$dir/dbsync.log" 2>&1 \
      || { log "create_schema failed:"; tail -n 30 "$dir/dbsync.log" >&2; exit 1; }
    launch "$variant"
  fi
  enroll "$variant" "$nodes"
}

restart() {
  local variant="${1:-default}" dir
  variant_port "$variant" >/dev/null
  dir="$ROOT/$variant"
  require_ironic
  if [ ! -f "$dir/ironic.sqlite" ]; then
    log "$variant has no database yet: starting it afresh"
    start "$variant"
    return
  fi
  stop_one "$variant"
  write_config "$variant"
  launch "$variant"
}

stop_one() {
  local variant="$1" dir="$ROOT/$1" pids pid i
  pids="$( { recorded_pid "$variant"; variant_pids "$variant"; } | sort -u)"
  if [ -n "$pids" ]; then
    for pid in $pids; do
      # Its own process group when start made it (setsid); the process alone otherwise.
      if [ "$(cut -d' ' -f5 "/proc/$pid/stat" 2>/dev/null)" = "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null || true
      else kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for i in $(seq 1 50); do
      [ -z "$(variant_pids "$variant")" ] && break
      sleep 0.1
    done
    for pid in $(variant_pids "$variant"); do
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    done
    for i in $(seq 1 50); do
      [ -z "$(variant_pids "$variant")" ] && break
      sleep 0.1
    done
    log "stopped $variant"
  fi
  rm -f "$dir/ironic.pid"
}

stop() {
  local which="${1:-all}"
  if [ "$which" = all ]; then
    for v in default failing bench; do stop_one "$v"; done
  else
    variant_port "$which" >/dev/null
    stop_one "$which"
  fi
}

variant_of() { # variant_of <endpoint URL>
  local url="${1%/}" v
  for v in default failing bench; do
    case "$url" in
      "http://127.0.0.1:$(variant_port "$v")"|"http://localhost:$(variant_port "$v")") echo "$v"; return 0 ;;
    esac
  done
  log "no variant listens at $1"
  exit 1
}

lose_power_state() { # lose_power_state <variant> <node uuid>
  local variant="$1" node="$2" db
  variant_port "$variant" >/dev/null
  db="$ROOT/$variant/ironic.sqlite"
  [ -f "$db" ] || { log "$variant has no database"; exit 1; }
  timeout 30 "$PY" - "$db" "$node" <<'PYEOF'
import sqlite3, sys
db, node = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, timeout=20)
with con:
    n = con.execute('UPDATE nodes SET power_state = NULL, target_power_state = NULL WHERE uuid = ?', (node,)).rowcount
sys.exit(0 if n == 1 else f'no node {node}')
PYEOF
}

status() {
  local variant="${1:-default}" port
  port="$(variant_port "$variant")"
  if ready "$port"; then echo "ironic $variant: running on http://127.0.0.1:$port"; else echo "ironic $variant: not running"; exit 1; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) if [ $# -eq 0 ]; then start default; start failing; else start "$@"; fi ;;
  restart) if [ $# -eq 0 ]; then restart default; restart failing; else restart "$@"; fi ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  endpoint) echo "http://127.0.0.1:$(variant_port "${1:-default}")" ;;
  variant) variant_of "${1:?endpoint URL}" ;;
  lose-power-state) lose_power_state "${1:?variant}" "${2:?node uuid}" ;;
  *) echo "usage: $0 install|start [variant] [nodes]|restart [variant]|stop [variant|all]|status [variant]|endpoint [variant]|variant <endpoint>|lose-power-state <variant> <node>" >&2; exit 2 ;;
esac
