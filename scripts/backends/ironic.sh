#!/usr/bin/env bash
# Control a standalone OpenStack Ironic (Debian's python3-ironic, Zed) with fake hardware, on loopback.
#
#   ironic.sh install                      install python3-ironic (apt, no recommends)
#   ironic.sh start [variant] [nodes]      write the config, create the schema, start, wait, enroll nodes
#                                          (no variant: `default` and `failing`, what `pnpm test` needs)
#   ironic.sh stop [variant|all]           stop what start started (default: all variants)
#   ironic.sh status [variant]             exit 0 when the variant answers
#   ironic.sh endpoint [variant]           print the variant's endpoint URL
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

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local variant="${1:-default}" nodes="${2:-}"
  local port dir cls object_store workers
  port="$(variant_port "$variant")"
  nodes="${nodes:-$(variant_nodes "$variant")}"
  cls="$(variant_class "$variant")"
  dir="$ROOT/$variant"
  object_store=false; [ "$variant" = failing ] && object_store=true
  workers=100; [ "$variant" = bench ] && workers=400
  "$PY" -c 'import ironic.cmd.singleprocess' 2>/dev/null || { log "python3-ironic missing: run '$0 install'"; exit 1; }

  if pid_alive "$dir/ironic.pid" && ready "$port"; then
    log "$variant already running on 127.0.0.1:$port"
  else
    stop_one "$variant"
    rm -rf "$dir"
    mkdir -p "$dir/locks" "$IMAGES"
    for img in $IMAGE_IDS; do
      [ -f "$IMAGES/$img.img" ] || head -c 1048576 /dev/zero > "$IMAGES/$img.img"
    done
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@VARIANT@|$variant|g" \
        -e "s|@OBJECT_STORE@|$object_store|g" -e "s|@WORKERS@|$workers|g" -e "s|@IMAGES@|$IMAGES|g" \
        "$TEMPLATES/ironic.conf.tmpl" > "$dir/ironic.conf"
    timeout 120 "$PY" "$TEMPLATES/dbsync.py" --config-file "$dir/ironic.conf" create_schema >"$dir/dbsync.log" 2>&1 \
      || { log "create_schema failed:"; tail -n 30 "$dir/dbsync.log" >&2; exit 1; }
    # setsid: own process group, so stop can signal everything it started.
    setsid "$PY" "$TEMPLATES/run-ironic.py" --config-file "$dir/ironic.conf" >"$dir/stdout.log" 2>&1 < /dev/null &
    echo $! > "$dir/ironic.pid"
    local deadline=$((SECONDS + 60))
    until ready "$port"; do
      if ! pid_alive "$dir/ironic.pid" || [ "$SECONDS" -ge "$deadline" ]; then
        log "Ironic ($variant) did not become ready on 127.0.0.1:$port; log tail:"
        tail -n 40 "$dir/ironic.log" "$dir/stdout.log" >&2 || true
        stop_one "$variant"
        exit 1
      fi
      sleep 0.2
    done
    log "$variant ready on 127.0.0.1:$port"
  fi
  timeout 900 "$PY" "$TEMPLATES/enroll.py" "http://127.0.0.1:$port" "$nodes" "nc-$variant" "$cls" 600 \
    || { log "enrolling nodes failed; log tail:"; tail -n 40 "$dir/ironic.log" >&2 || true; exit 1; }
}

stop_one() {
  local variant="$1" dir="$ROOT/$1" pid i
  [ -f "$dir/ironic.pid" ] || return 0
  pid="$(cat "$dir/ironic.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
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

status() {
  local variant="${1:-default}" port
  port="$(variant_port "$variant")"
  if ready "$port"; then echo "ironic $variant: running on http://127.0.0.1:$port"; else echo "ironic $variant: not running"; exit 1; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) if [ $# -eq 0 ]; then start default; start failing; else start "$@"; fi ;;
  stop) stop "$@" ;;
  status) status "$@" ;;
  endpoint) echo "http://127.0.0.1:$(variant_port "${1:-default}")" ;;
  *) echo "usage: $0 install|start [variant] [nodes]|stop [variant|all]|status [variant]|endpoint [variant]" >&2; exit 2 ;;
esac
