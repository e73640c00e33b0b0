# Shared set-up for scripts/main.sh and scripts/test.sh: needs only Node 20 and npm.
# Installs pnpm with npm when it is missing (corepack cannot verify pnpm's signature on
# machines whose registry view carries none), then the workspace's dependencies, then builds.

log() { printf '\n==> %s\n' "$*" >&2; }

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1; then
    log "installing pnpm 10 with npm"
    npm install -g pnpm@10 >/dev/null
  fi
  pnpm --version >/dev/null
}

install_workspace() {
  log "installing the workspace's dependencies"
  CI=true pnpm install --frozen-lockfile
}

build_workspace() {
  log "building every package"
  pnpm build
}
