#!/usr/bin/env bash
# Proves that `api:check` catches API changes: copies the built package to a scratch folder,
# checks that the untouched copy passes, then applies one deliberate change at a time
# (an export removed, a signature changed, a constant changed) to the declarations and
# asserts that API Extractor exits non-zero for each.
# Usage: bash packages/core/scripts/check-api-break.sh   (builds core first when dist/ is missing)
set -euo pipefail

pkg="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$pkg/../.." && pwd)"
extractor="$root/node_modules/.bin/api-extractor"
[[ -x "$extractor" ]] || { echo "check-api-break: $extractor is missing; run pnpm install" >&2; exit 1; }

if [[ ! -f "$pkg/dist/index.d.ts" ]]; then
  echo "check-api-break: dist/ is missing, building core"
  (cd "$pkg" && timeout 300 pnpm run build >/dev/null)
fi

# Inside the package (temp/ is git-ignored) so zod and @types/node resolve as they do for the real check.
mkdir -p "$pkg/temp"
scratch="$(mktemp -d "$pkg/temp/api-break.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

fresh_copy() {
  rm -rf "$scratch/pkg"
  mkdir -p "$scratch/pkg"
  cp -R "$pkg/dist" "$pkg/api" "$pkg/api-extractor.json" "$pkg/package.json" "$scratch/pkg/"
}

run_check() {
  (cd "$scratch/pkg" && timeout 300 "$extractor" run -c api-extractor.json >"$scratch/log" 2>&1)
}

# mutate NAME PERL-EXPRESSION: apply to dist/index.d.ts and fail if it changed nothing.
mutate() {
  local name="$1" expr="$2" file="$scratch/pkg/dist/index.d.ts"
  fresh_copy
  cp "$file" "$scratch/before.d.ts"
  perl -0pi -e "$expr" "$file"
  if cmp -s "$file" "$scratch/before.d.ts"; then
    echo "check-api-break: the change '$name' did not apply; update this script to the current declarations" >&2
    exit 1
  fi
  if run_check; then
    echo "FAIL: api:check passed although $name" >&2
    tail -20 "$scratch/log" >&2
    exit 1
  fi
  if ! grep -q "You have changed the API signature" "$scratch/log"; then
    echo "FAIL: api:check failed for another reason than the API change ($name):" >&2
    tail -20 "$scratch/log" >&2
    exit 1
  fi
  echo "ok: api:check exits non-zero when $name"
}

fresh_copy
if ! run_check; then
  echo "FAIL: api:check fails on the untouched package; run 'pnpm --filter @nova-common/core api:update' and review the report" >&2
  tail -20 "$scratch/log" >&2
  exit 1
fi
echo "ok: api:check passes on the untouched package"

mutate "the loadDriver export is removed" 's/(export \{[^}]*?)\bloadDriver, /$1/'
mutate "guard() makes its options parameter required" 's/declare function guard\(driver: ComputeDriver, options\?: GuardOptions\)/declare function guard(driver: ComputeDriver, options: GuardOptions)/'
mutate "CONTRACT_VERSION changes" 's/declare const CONTRACT_VERSION = "[^"]*";/declare const CONTRACT_VERSION = "9.9.9";/'
mutate "a new export is added" 's/\nexport \{([^}]*)\};\s*\z/\ndeclare const SURPRISE: 1;\nexport { SURPRISE, $1};\n/'

echo "check-api-break: all deliberate API changes were caught"
