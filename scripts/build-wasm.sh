#!/usr/bin/env bash
# Builds every contract under contracts/ for wasm32-unknown-unknown, lowers the wasm features
# that wasmvm 3.0.x rejects (Rust >= 1.87 emits bulk-memory ops), writes artifacts/<crate>.wasm
# and artifacts/checksums.txt, and checks each artifact with cosmwasm-check against the
# capabilities wasmd v0.61 advertises. Any failure stops the build with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_BIN="$(scripts/ensure-tools.sh)"
export PATH="$TOOLS_BIN:$PATH"
# What wasmd v0.61 (wasmvm 3.0) advertises; no cosmwasm_3_0.
CAPABILITIES="iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT=artifacts
# wasm-opt output and passed cosmwasm-checks, keyed by content: `make test` and `make localnet`
# both run this script, and an unchanged contract need not be optimised or checked twice.
CACHE="$TARGET_DIR/wasm-artifact-cache"
mkdir -p "$OUT" "$CACHE"
rm -f "$OUT"/*.wasm "$OUT/checksums.txt"

for manifest in contracts/*/Cargo.toml; do
  crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)
  lib=${crate//-/_}
  echo "==> building $crate"
  # One cargo call per contract: building them together would unify features, and a
  # contract pulled in with `library` would lose its entry points.
  RUSTFLAGS="-C link-arg=-s" cargo build --profile wasm --lib --locked \
    --target wasm32-unknown-unknown -p "$crate"
  input="$TARGET_DIR/wasm32-unknown-unknown/wasm/$lib.wasm"
  optimised="$CACHE/$(sha256sum "$input" | cut -c1-64)-$(wasm-opt --version | tr -c 'A-Za-z0-9.\n' _).wasm"
  if [ -f "$optimised" ]; then
    echo "    wasm-opt: input unchanged, reusing $optimised"
  else
    wasm-opt -Oz --enable-bulk-memory --llvm-memory-copy-fill-lowering "$input" -o "$optimised.tmp"
    mv "$optimised.tmp" "$optimised"
  fi
  cp "$optimised" "$OUT/$lib.wasm"
done

(cd "$OUT" && sha256sum -- *.wasm > checksums.txt)
echo "==> cosmwasm-check ($(cosmwasm-check --version 2>/dev/null || echo '?'))"
CHECKER=$(cosmwasm-check --version 2>/dev/null | tr -c 'A-Za-z0-9.\n' _)
unchecked=()
for f in "$OUT"/*.wasm; do
  [ -f "$CACHE/checked-$(sha256sum "$f" | cut -c1-64)-$CHECKER-$CAPABILITIES" ] || unchecked+=("$f")
done
if [ ${#unchecked[@]} -gt 0 ]; then
  cosmwasm-check --available-capabilities "$CAPABILITIES" "${unchecked[@]}"
  for f in "${unchecked[@]}"; do touch "$CACHE/checked-$(sha256sum "$f" | cut -c1-64)-$CHECKER-$CAPABILITIES"; done
fi
echo "    $(( $(ls "$OUT"/*.wasm | wc -l) - ${#unchecked[@]} )) artifact(s) already passed cosmwasm-check with these capabilities"
echo "==> artifacts"
for f in "$OUT"/*.wasm; do printf '%-40s %8d bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"; done
