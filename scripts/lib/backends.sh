# Real backends the tests need. Each has scripts/backends/<name>.sh install|start|stop|status.
# podman's Docker-compatible service runs beside dockerd, for driver-container's podman suite.
BACKENDS=(libvirt libvirt-b docker podman ironic)

backends_do() {
  local action=$1
  for b in "${BACKENDS[@]}"; do
    log "backend ${b}: ${action}"
    bash "scripts/backends/${b}.sh" "${action}"
  done
}

backends_stop_all() {
  for b in "${BACKENDS[@]}"; do
    bash "scripts/backends/${b}.sh" stop || echo "warning: stopping ${b} failed" >&2
  done
}
