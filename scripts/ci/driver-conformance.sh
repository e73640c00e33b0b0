#!/usr/bin/env bash
# Runs the nova-common conformance suite against a driver package and writes its reports.
#
#   bash scripts/ci/driver-conformance.sh [--driver-dir DIR] [--driver SPEC] [--config FILE]
#        (SPEC and FILE relative to DIR; the reports directory relative to where it is called)
#        [--backend-start CMD] [--suite NPM-SPEC] [--reports DIR] [--no-install] [--no-build]
#        [--runs N] [--steps N] [--seed N] [--label TEXT]
#
# Each option can also come from the environment (NOVA_CONFORMANCE_DRIVER_DIR, _DRIVER, _CONFIG,
# _BACKEND_START, _SUITE, _REPORTS, _RUNS, _STEPS, _SEED, _LABEL): the composite action
# .github/actions/conformance passes its inputs that way, never through the script's text.
#
# 1. installs the driver's dependencies when it has no node_modules (npm ci with a lockfile,
#    else npm install), and the suite (@nova-common/conformance@SUITE, default ^1.1.0) into the
#    driver's node_modules (not saved to package.json) when its node_modules lacks it;
# 2. builds the driver (npm run build, when it has a build script);
# 3. runs the backend start command when given (bash -c; it must return once the backend is up);
# 4. runs `nova-conformance run --driver SPEC [--config FILE]` in DIR, writing report.json,
#    junit.xml, matrix.html, matrix.md, summary.txt and replay files of failures into the reports
#    directory (default ./conformance-reports), and adds the matrix to $GITHUB_STEP_SUMMARY.
#
# Exit code: the suite's (0 every property passed, 1 a contract violation or the driver broke,
# 2 usage or configuration error), or 3 when installing, building or starting the backend failed.
set -euo pipefail

driver_dir="${NOVA_CONFORMANCE_DRIVER_DIR:-.}"
driver="${NOVA_CONFORMANCE_DRIVER:-.}"
config="${NOVA_CONFORMANCE_CONFIG:-}"
backend_start="${NOVA_CONFORMANCE_BACKEND_START:-}"
suite="${NOVA_CONFORMANCE_SUITE:-^1.1.0}"
reports="${NOVA_CONFORMANCE_REPORTS:-conformance-reports}"
runs="${NOVA_CONFORMANCE_RUNS:-}"
steps="${NOVA_CONFORMANCE_STEPS:-}"
seed="${NOVA_CONFORMANCE_SEED:-}"
label="${NOVA_CONFORMANCE_LABEL:-}"
install=1
build=1

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

need_value() {
  [ "$#" -ge 2 ] || { echo "driver-conformance: $1 needs a value" >&2; exit 2; }
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --driver-dir) need_value "$@"; driver_dir="$2"; shift 2 ;;
    --driver) need_value "$@"; driver="$2"; shift 2 ;;
    --config) need_value "$@"; config="$2"; shift 2 ;;
    --backend-start) need_value "$@"; backend_start="$2"; shift 2 ;;
    --suite) need_value "$@"; suite="$2"; shift 2 ;;
    --reports) need_value "$@"; reports="$2"; shift 2 ;;
    --runs) need_value "$@"; runs="$2"; shift 2 ;;
    --steps) need_value "$@"; steps="$2"; shift 2 ;;
    --seed) need_value "$@"; seed="$2"; shift 2 ;;
    --label) need_value "$@"; label="$2"; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "driver-conformance: unknown option $1" >&2; usage ;;
  esac
done

for pair in "runs:$runs" "steps:$steps" "seed:$seed"; do
  value="${pair#*:}"
  if [ -n "$value" ] && ! [[ "$value" =~ ^-?[0-9]{1,10}$ ]]; then
    echo "driver-conformance: --${pair%%:*} must be an integer, got '$value'" >&2
    exit 2
  fi
done

log() { printf 'driver-conformance: %s\n' "$*" >&2; }
fail_setup() { log "$1"; exit 3; }

[ -d "$driver_dir" ] || { echo "driver-conformance: --driver-dir '$driver_dir' is not a directory" >&2; exit 2; }
mkdir -p -- "$reports"
reports="$(cd -- "$reports" && pwd)"
# A suite given as a tarball or directory is resolved from where the script was called.
if [ -e "$suite" ]; then suite="$(cd -- "$(dirname -- "$suite")" && pwd)/$(basename -- "$suite")"; fi
cd -- "$driver_dir"
[ -f package.json ] || { echo "driver-conformance: no package.json in $(pwd)" >&2; exit 2; }

if [ "$install" = 1 ] && [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then
    log "npm ci in $(pwd)"
    npm ci --no-audit --no-fund || fail_setup "npm ci failed"
  else
    log "npm install in $(pwd)"
    npm install --no-audit --no-fund || fail_setup "npm install failed"
  fi
fi

# The suite must sit in the driver's own node_modules, beside the core the driver imports.
suite_dir="node_modules/@nova-common/conformance"
if [ ! -f "$suite_dir/package.json" ]; then
  [ "$install" = 1 ] || fail_setup "@nova-common/conformance is not installed in $(pwd) (and --no-install was given)"
  # A tarball or directory is installed as itself; anything else is a version range of the suite.
  if [ -e "$suite" ]; then spec="$suite"; else spec="@nova-common/conformance@$suite"; fi
  log "installing the suite: $spec"
  npm install --no-save --no-audit --no-fund -- "$spec" || fail_setup "installing $spec failed"
fi
[ -f "$suite_dir/package.json" ] || fail_setup "@nova-common/conformance is still not in $(pwd)/node_modules"
bin="$(cd -- "$suite_dir" && pwd)/$(node -e 'process.stdout.write(require(process.argv[1]).bin["nova-conformance"])' "$(pwd)/$suite_dir/package.json")"

if [ "$build" = 1 ] && node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then
  log "npm run build"
  npm run build || fail_setup "npm run build failed"
fi

if [ -n "$backend_start" ]; then
  log "starting the backend"
  bash -c "$backend_start" || fail_setup "the backend start command failed"
fi

args=(run --driver "$driver"
  --json "$reports/report.json" --junit "$reports/junit.xml"
  --html "$reports/matrix.html" --matrix "$reports/matrix.md"
  --replay-dir "$reports/replays")
[ -z "$config" ] || args+=(--config "$config")
[ -z "$runs" ] || args+=(--runs "$runs")
[ -z "$steps" ] || args+=(--steps "$steps")
[ -z "$seed" ] || args+=(--seed "$seed")
[ -z "$label" ] || args+=(--label "$label")

log "nova-conformance ${args[*]}"
set +e
NO_COLOR=1 node "$bin" "${args[@]}" | tee "$reports/summary.txt"
code="${PIPESTATUS[0]}"
set -e

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### nova-common conformance"
    echo
    echo '```'
    cat "$reports/summary.txt"
    echo '```'
    [ ! -f "$reports/matrix.md" ] || cat "$reports/matrix.md"
  } >> "$GITHUB_STEP_SUMMARY"
fi
log "reports in $reports (exit $code)"
exit "$code"
