#!/usr/bin/env bash
# Builds the pinned Hermes relayer from crates.io into ~/.cache/healthmesh/hermes-<version>/
# and reuses it. 1.10.5 builds offline (1.12+ pulls crates whose build scripts download
# proving keys from the internet).
set -euo pipefail

HERMES_VERSION="${HERMES_VERSION:-1.10.5}"
CACHE="${HEALTHMESH_CACHE:-$HOME/.cache/healthmesh}"
DEST="$CACHE/hermes-$HERMES_VERSION"
log() { echo "[build-hermes] $*" >&2; }

if [ -x "$DEST/bin/hermes" ]; then
  echo "$DEST/bin/hermes"
  exit 0
fi
log "building ibc-relayer-cli $HERMES_VERSION (first time only, ~6 minutes on 2 cores)"
cargo install ibc-relayer-cli --version "$HERMES_VERSION" --locked --bin hermes --root "$DEST" 2>&1 \
  | awk '/Compiling/ { n++; if (n % 25 == 0) printf "[build-hermes] %d crates compiled\n", n > "/dev/stderr" } /error/ { print > "/dev/stderr" }'
[ -x "$DEST/bin/hermes" ] || { log "ERROR: cargo install ibc-relayer-cli@$HERMES_VERSION failed"; exit 1; }
log "built $("$DEST/bin/hermes" version 2>/dev/null | head -n1)"
echo "$DEST/bin/hermes"
