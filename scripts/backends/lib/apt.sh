# Shared by the backend scripts: install Debian packages that are missing, without stdin,
# with `apt-get update` once per machine, and without letting maintainer scripts start
# services (there is no init system to manage them here).
APT_STAMP=/tmp/nova-common/apt-updated.stamp

apt_update_once() {
  mkdir -p "$(dirname "$APT_STAMP")"
  if [[ ! -f "$APT_STAMP" ]]; then
    timeout 600 apt-get update -qq
    touch "$APT_STAMP"
  fi
}

# apt_install_missing LOG_PREFIX PACKAGE...
apt_install_missing() {
  local prefix=$1
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    printf '[%s] packages already installed\n' "$prefix" >&2
    return 0
  fi
  printf '[%s] installing: %s\n' "$prefix" "${missing[*]}" >&2
  apt_update_once
  local remove_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    remove_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null || rc=$?
  if [[ "$remove_policy" == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  return "$rc"
}
