#!/usr/bin/env bash
# Installs what the research-gateway step of `make e2e` needs, pinned and cached:
#   grpcurl (Go module proxy) into ~/.cache/healthmesh/grpcurl-<version>/bin — a reflection
#     client, to show the gateway answers one out of the box;
#   the Python client's packages (grpcio, grpcio-tools, ecdsa) from PyPI.
# Prints the grpcurl path.
set -euo pipefail

GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.3}"
CACHE="${HEALTHMESH_CACHE:-$HOME/.cache/healthmesh}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
dir="$CACHE/grpcurl-$GRPCURL_VERSION"

if [ ! -x "$dir/bin/grpcurl" ]; then
  echo "[ensure-research-tools] building grpcurl $GRPCURL_VERSION into $dir" >&2
  GOBIN="$dir/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" >&2 \
    || { echo "[ensure-research-tools] ERROR: go install grpcurl@$GRPCURL_VERSION failed" >&2; exit 1; }
fi
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  -r "$ROOT/examples/python/requirements.txt" >&2 \
  || { echo "[ensure-research-tools] ERROR: pip install of examples/python/requirements.txt failed" >&2; exit 1; }
echo "$dir/bin/grpcurl"
