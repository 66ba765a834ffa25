#!/usr/bin/env bash
# Proves the committed generated code matches Protocol/*.proto: regenerates it and diffs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$("$here/build-plugins.sh")"
export PROTOC_GEN_SWIFT="$bin/protoc-gen-swift" PROTOC_GEN_GRPC_SWIFT="$bin/protoc-gen-grpc-swift-2"
"$here/generate.sh"
if ! git -C "$here/.." diff --exit-code -- Sources/CHOMProtocol/Generated; then
  echo "check-generated.sh: generated code is stale; run Protocol/generate.sh and commit" >&2
  exit 1
fi
if [ -n "$(git -C "$here/.." status --porcelain -- Sources/CHOMProtocol/Generated)" ]; then
  echo "check-generated.sh: generate.sh produced untracked files" >&2
  exit 1
fi
# The Swift side embeds the document as text; schemathesis parses it as YAML, so parse it here
# first (a ": " inside a plain scalar once made it invalid YAML that only the contract run saw).
python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d.get("openapi") and d.get("paths"), "no openapi/paths"' \
  "$here/admin-api.yaml" || { echo "check-generated.sh: Protocol/admin-api.yaml is not valid YAML" >&2; exit 1; }
"$here/embed-openapi.sh" >/dev/null
if ! git -C "$here/.." diff --exit-code -- Sources/CHOMCoordinator/API/Generated; then
  echo "check-generated.sh: the embedded OpenAPI document is stale; run Protocol/embed-openapi.sh and commit" >&2
  exit 1
fi
echo "check-generated.sh: generated code is up to date"
