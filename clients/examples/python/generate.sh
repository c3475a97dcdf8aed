#!/usr/bin/env bash
# Generates the Python stubs of Scute's gRPC API from
# proto/scute/registry/v1/registry.proto with grpc_tools.protoc.
#
#   ./generate.sh            into gen/ beside this script
#   ./generate.sh OUT_DIR    into OUT_DIR
#
# PYTHON names the interpreter that has grpcio-tools (default: python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROTO_ROOT="$(cd "$HERE/../../../proto" && pwd)"
OUT="${1:-$HERE/gen}"
PYTHON="${PYTHON:-python3}"

mkdir -p "$OUT"
"$PYTHON" -m grpc_tools.protoc \
    -I "$PROTO_ROOT" \
    --python_out="$OUT" \
    --pyi_out="$OUT" \
    --grpc_python_out="$OUT" \
    scute/registry/v1/registry.proto
echo "stubs written to $OUT/scute/registry/v1/"
