# Shared by docker.sh and podman.sh: the driver-container test images, built from busybox-static
# through the Engine API's import endpoint (no registry is reachable). The sourcing script defines
# `api METHOD PATH [curl args...]` (one call over its engine's socket), `log`, STATE_DIR,
# BASE_IMAGE and NOTERM_IMAGE; FORCE_PREPARE=1 rebuilds images that exist.

urlencode() {
  local s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf %s "$out"
}

build_image() {
  # build_image REPO CMD-JSON: import a busybox-static rootfs as REPO:latest with CMD (once: an existing image
  # is kept, so restarts do not leave dangling copies; `prepare --force` rebuilds).
  local repo="$1" cmd="$2" rootfs
  if [[ "${FORCE_PREPARE:-0}" != 1 ]] && api GET "/images/$repo:latest/json" >/dev/null 2>&1; then
    log "image $repo:latest present"
    return 0
  fi
  rootfs="$(mktemp -d "$STATE_DIR/rootfs.XXXXXX")"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var/log,volumes}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ "$applet" == busybox ]] && continue
    ln -s /bin/busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | api POST "/images/create?fromSrc=-&repo=$repo&tag=latest&changes=$(urlencode "CMD $cmd")&changes=$(urlencode 'LABEL io.nova-common.test-image=true')" \
    -H 'Content-Type: application/x-tar' --data-binary @- >"$STATE_DIR/import-$(basename "$repo").log"
  rm -rf "$rootfs"
  api GET "/images/$repo:latest/json" >/dev/null
  # A rebuild leaves the previous image untagged: remove the dangling ones this script made
  # (dockerd lists ids as sha256:<hex>, podman as bare hex).
  local old
  for old in $(api GET "/images/json?filters=$(urlencode '{"dangling":["true"],"label":["io.nova-common.test-image=true"]}')" | grep -oE '"Id":"(sha256:)?[0-9a-f]+"' | cut -d'"' -f4); do
    api DELETE "/images/$old" >/dev/null 2>&1 || true
  done
  log "image $repo:latest ready"
}

prepare() {
  build_image "$BASE_IMAGE" '["sh","-c","echo nova-common guest up; exec sleep 2147483647"]'
  build_image "$NOTERM_IMAGE" '["sh","-c","trap \"\" TERM; echo nova-common guest up, ignoring SIGTERM; while :; do sleep 1; done"]'
}
