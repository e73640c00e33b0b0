#!/usr/bin/env bash
# Regenerates src/gen/ (protobuf-es) from the repository's proto/ and copies the .proto files the
# package ships (the agent's server reflection loads them; other languages generate from them).
# Both are committed; test/proto-golden.test.ts fails when they differ from a fresh generation.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$here/node_modules/.bin:$PATH"
cd "$here/../../proto"
buf lint
buf generate
rm -rf "$here/proto"
mkdir -p "$here/proto"
cp -r nova_common "$here/proto/"
