#!/usr/bin/env bash
# Builds protoc-gen-swift and protoc-gen-grpc-swift-2 (grpc-swift-protobuf 2.4.1) in a
# scratch folder outside the package, once (~1.5 min), and prints their directory.
set -euo pipefail
dir="${CHOM_PLUGIN_DIR:-/tmp/chom-protoc-plugins}"
if [ ! -d "$dir/grpc-swift-protobuf" ]; then
  mkdir -p "$dir"
  git clone -q https://github.com/grpc/grpc-swift-protobuf "$dir/grpc-swift-protobuf"
fi
cd "$dir/grpc-swift-protobuf"
git checkout -q 2.4.1
swift build -c release --product protoc-gen-grpc-swift-2 >&2
swift build -c release --product protoc-gen-swift >&2
swift build -c release --show-bin-path
