#!/usr/bin/env bash
# Regenerates Sources/CHOMProtocol/Generated from Protocol/chom/**/*.proto.
# Needs protoc (Debian protobuf-compiler) and the two plugins on PATH or in
# PROTOC_GEN_SWIFT / PROTOC_GEN_GRPC_SWIFT. Protocol/build-plugins.sh builds them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../Sources/CHOMProtocol/Generated"
swift_plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
grpc_plugin="${PROTOC_GEN_GRPC_SWIFT:-$(command -v protoc-gen-grpc-swift-2 || true)}"
if [ -z "$swift_plugin" ] || [ -z "$grpc_plugin" ]; then
  echo "generate.sh: protoc-gen-swift and protoc-gen-grpc-swift-2 are needed (run Protocol/build-plugins.sh)" >&2
  exit 1
fi
command -v protoc >/dev/null || { echo "generate.sh: protoc is missing (apt-get install protobuf-compiler)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
cd "$here"
mapfile -t protos < <(find chom -name '*.proto' | sort)
protoc \
  --plugin=protoc-gen-swift="$swift_plugin" \
  --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" \
  --swift_out="$out" \
  --swift_opt=Visibility=Package,FileNaming=DropPath,UseAccessLevelOnImports=true \
  --grpc-swift-2_out="$out" \
  --grpc-swift-2_opt=Visibility=Package,Server=true,Client=true,FileNaming=DropPath,UseAccessLevelOnImports=true \
  "${protos[@]}"
echo "generated $(find "$out" -name '*.swift' | wc -l) files into Sources/CHOMProtocol/Generated"
