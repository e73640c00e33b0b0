#!/usr/bin/env bash
# Generates the Python messages and gRPC stubs of nova_common.compute.v1 from the repository's
# proto/ folder into a build directory (default ./build; not committed). Needs Debian's
# protobuf-compiler and protobuf-compiler-grpc (protoc and grpc_python_plugin).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
proto="${PROTO_DIR:-$here/../../proto}"
out="${1:-$here/build}"
mkdir -p "$out"
protoc -I "$proto" -I /usr/include \
  --python_out="$out" \
  --grpc_out="$out" \
  --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \
  "$proto"/nova_common/compute/v1/*.proto
# protoc writes packages without __init__.py; Python 3 reads them as namespace packages.
echo "$out"
