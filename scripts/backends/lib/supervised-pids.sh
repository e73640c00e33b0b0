# Shared by libvirt.sh and libvirt-b.sh (each sets STATE_DIR and log before sourcing it): the
# daemons they supervise are tracked by pid files under $STATE_DIR, and a pid counts only while
# its process is alive (a zombie is dead: its parent just has not reaped it yet).

# Whether the process is there and not a zombie (a zombie is dead; its parent just has not reaped it yet).
alive() {
  local st
  st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# The live pid recorded in $STATE_DIR/<name>.pid, or nothing (a stale file is removed).
live_pid() {
  local f="$STATE_DIR/$1.pid" pid
  pid="$(cat "$f" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && alive "$pid"; then
    echo "$pid"
  elif [[ -n "$pid" ]]; then
    rm -f "$f"
  fi
}

# Wait until the pids are gone; KILL what is left after $2 s, give up 15 s later.
wait_gone() {
  local pids="$1" deadline=$((SECONDS + $2)) killed=false p left
  for (( ; ; )); do
    left=""
    for p in $pids; do alive "$p" && left+=" $p"; done
    [[ -z "$left" ]] && return 0
    if ((SECONDS >= deadline)); then
      if $killed; then
        log "processes still there:$left"
        return 1
      fi
      for p in $left; do kill -9 "$p" 2>/dev/null || true; done
      killed=true
      deadline=$((SECONDS + 15))
    fi
    sleep 0.1
  done
}
