#!/usr/bin/env bash
# Installs the pinned developer tools the wasm pipeline needs into ~/.cache/healthmesh,
# keyed by version so reruns are instant. Prints the bin directory to add to PATH.
#   binaryen (wasm-opt) from npm: Debian's binaryen is too old for
#     --llvm-memory-copy-fill-lowering.
#   cosmwasm-check from crates.io: same major as the chain's wasmvm (3.0.x for wasmd v0.61).
set -euo pipefail

BINARYEN_VERSION="${BINARYEN_VERSION:-132.0.0}"
COSMWASM_CHECK_VERSION="${COSMWASM_CHECK_VERSION:-3.0.10}"
CACHE="${HEALTHMESH_CACHE:-$HOME/.cache/healthmesh}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

log() { echo "[ensure-tools] $*" >&2; }

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown >&2
  fi
}

ensure_binaryen() {
  local dir="$CACHE/binaryen-$BINARYEN_VERSION"
  if [ ! -x "$dir/node_modules/.bin/wasm-opt" ]; then
    log "installing binaryen $BINARYEN_VERSION from npm into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "binaryen@$BINARYEN_VERSION" >&2 \
      || { log "ERROR: npm install binaryen@$BINARYEN_VERSION failed"; exit 1; }
  fi
  ln -sf "$dir/node_modules/.bin/wasm-opt" "$BIN/wasm-opt"
}

ensure_cosmwasm_check() {
  local dir="$CACHE/cosmwasm-check-$COSMWASM_CHECK_VERSION"
  if [ ! -x "$dir/bin/cosmwasm-check" ]; then
    log "building cosmwasm-check $COSMWASM_CHECK_VERSION (first time only, a few minutes)"
    cargo install cosmwasm-check --version "$COSMWASM_CHECK_VERSION" --locked --root "$dir" >&2 \
      || { log "ERROR: cargo install cosmwasm-check@$COSMWASM_CHECK_VERSION failed"; exit 1; }
  fi
  ln -sf "$dir/bin/cosmwasm-check" "$BIN/cosmwasm-check"
}

ensure_wasm_target
ensure_binaryen
ensure_cosmwasm_check
echo "$BIN"
