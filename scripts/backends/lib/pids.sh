# Shared by docker.sh and podman.sh: whether a pid file still names the daemon it was written for.
# On this machine kind PID 1 reaps slowly, so a killed daemon stays a zombie for a while: `kill -0` still
# succeeds on it, and dockerd refuses to start while its --pidfile names a process that exists. A pid counts
# here only while its process is alive (not a zombie) and runs the expected command (not a reused pid).

# alive PID NAME: the process exists, is not a zombie, and its command (argv[0]) ends with NAME.
alive() {
  local pid="$1" name="$2" stat state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  state="${stat##*) }"
  state="${state%% *}"
  [[ "$state" != Z && "$state" != X ]] || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -d' ' -f1)" == *"$name" ]]
}

# pid_from FILE NAME: the pid FILE names when it is alive and runs NAME; nothing otherwise.
pid_from() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  if alive "$pid" "$2"; then echo "$pid"; fi
}

# drop_stale_pidfile FILE NAME: remove FILE when the pid it names is gone (or is a zombie, or another program).
drop_stale_pidfile() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && ! alive "$pid" "$2"; then
    log "removing stale pid file $1 (pid $pid is gone)"
    rm -f "$1"
  fi
}

# wait_gone PID NAME SECONDS: wait until PID no longer runs NAME; false when it still does after SECONDS.
wait_gone() {
  local deadline=$((SECONDS + $3))
  while alive "$1" "$2" && ((SECONDS < deadline)); do sleep 0.2; done
  ! alive "$1" "$2"
}
