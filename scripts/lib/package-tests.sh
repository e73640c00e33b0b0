# Every package's tests, as `pnpm test` runs them, in two lanes so CI's wall time is not the sum
# of every backend's waiting:
#   - driver-ironic's tests run in the background, on their own. They wait on Ironic's conductor
#     far more than they compute (about 85% of the machine idle while they run), and nothing else
#     but the agent's tests touches Ironic;
#   - meanwhile every other package but the agent runs one at a time, in pnpm's order;
#   - the agent's tests run last, alone: they use every backend (Ironic's among them).
# The Ironic lane's output is kept in a file and printed whole when it ends, so the two lanes'
# lines never interleave. A failed lane fails the run; a failure in the foreground stops the
# Ironic lane at once rather than waiting it out.
# Sourced by scripts/test.sh after the backends are started; needs log() from bootstrap.sh.

IRONIC_PACKAGE=@nova-common/driver-ironic
AGENT_PACKAGE=@nova-common/agent

# The Ironic lane's process group, so it can be stopped with everything it started.
ironic_lane_pid=""

stop_ironic_lane() {
  [ -n "$ironic_lane_pid" ] || return 0
  kill -TERM -- "-$ironic_lane_pid" 2>/dev/null || true
  wait "$ironic_lane_pid" 2>/dev/null || true
  ironic_lane_pid=""
}

print_lane_log() { # print_lane_log <name> <file>
  log "the ${1} lane's output"
  cat "$2" >&2
}

run_package_tests() {
  local lane_log status=0 ironic_status=0
  lane_log="$(mktemp -t nova-common-ironic-lane.XXXXXX)"

  log "running every package's tests: ${IRONIC_PACKAGE} in the background (output kept in ${lane_log}), the others one at a time"
  # setsid: the lane gets its own process group (vitest and its workers), stopped as one.
  setsid pnpm --filter "$IRONIC_PACKAGE" test >"$lane_log" 2>&1 </dev/null &
  ironic_lane_pid=$!

  pnpm -r --workspace-concurrency=1 --filter "./packages/**" --filter "!${IRONIC_PACKAGE}" --filter "!${AGENT_PACKAGE}" test || status=$?
  if [ "$status" -ne 0 ]; then
    log "a package's tests failed (exit ${status}); stopping the ${IRONIC_PACKAGE} lane"
    stop_ironic_lane
    print_lane_log "$IRONIC_PACKAGE" "$lane_log"
    return "$status"
  fi

  log "waiting for the ${IRONIC_PACKAGE} lane"
  wait "$ironic_lane_pid" || ironic_status=$?
  ironic_lane_pid=""
  print_lane_log "$IRONIC_PACKAGE" "$lane_log"
  if [ "$ironic_status" -ne 0 ]; then
    log "${IRONIC_PACKAGE}'s tests failed (exit ${ironic_status})"
    return "$ironic_status"
  fi

  log "running ${AGENT_PACKAGE}'s tests (every backend)"
  pnpm --filter "$AGENT_PACKAGE" test
}
