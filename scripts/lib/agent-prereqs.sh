#!/usr/bin/env bash
# What @nova-common/agent's tests need besides Node: openssl (a throwaway PKI for the mutual-TLS
# tests), and for the Python example driver served over the same .proto, Debian's gRPC and
# protobuf for Python with protoc and grpc_python_plugin (its stubs are generated at test time).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../backends/lib/apt.sh"
apt_install_missing agent-prereqs openssl python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc
