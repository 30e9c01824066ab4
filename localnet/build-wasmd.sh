#!/usr/bin/env bash
# Builds the pinned wasmd from the Go module proxy into ~/.cache/healthmesh/wasmd-<version>/
# and reuses it on later runs. wasmd's go.mod has replace directives, so `go install @v` is
# refused: download the module, copy it, build ./cmd/wasmd there. wasmvm's module ships
# libwasmvm.x86_64.so, so no Rust build of the VM is needed. Go >= 1.26 needs bytedance/sonic
# bumped (sonic 1.14 fails to build there).
set -euo pipefail

WASMD_VERSION="${WASMD_VERSION:-v0.61.14}"
CACHE="${HEALTHMESH_CACHE:-$HOME/.cache/healthmesh}"
DEST="$CACHE/wasmd-$WASMD_VERSION"
log() { echo "[build-wasmd] $*" >&2; }

if [ -x "$DEST/bin/wasmd" ] && [ -f "$DEST/lib/libwasmvm.x86_64.so" ]; then
  echo "$DEST/bin/wasmd"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Go's build and module caches are this build's own and are deleted with it: once wasmd is
# built they only hold ~4 GB of disk a CI machine needs for the project's build.
export GOCACHE="$work/go-build" GOMODCACHE="$work/go-mod" GOFLAGS=-modcacherw

log "downloading github.com/CosmWasm/wasmd@$WASMD_VERSION from the Go module proxy"
dir=$(go mod download -json "github.com/CosmWasm/wasmd@$WASMD_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -d "$dir" ] || { log "ERROR: module download failed"; exit 1; }

cp -r "$dir/." "$work/wasmd"
chmod -R u+w "$work/wasmd"
cd "$work/wasmd"

go_minor=$(go env GOVERSION | sed -E 's/go1\.([0-9]+).*/\1/')
if [ "$go_minor" -ge 26 ]; then
  log "Go 1.$go_minor: bumping bytedance/sonic for this toolchain"
  go get github.com/bytedance/sonic@v1.15.0 github.com/bytedance/sonic/loader@v0.5.0 >&2
fi

log "building wasmd (several minutes; progress below)"
mkdir -p "$DEST/bin" "$DEST/lib"
version_pkg="github.com/cosmos/cosmos-sdk/version"
CGO_ENABLED=1 go build -mod=mod -v -tags "netgo,ledger" \
  -ldflags "-X $version_pkg.Name=wasm -X $version_pkg.AppName=wasmd -X $version_pkg.Version=$WASMD_VERSION" \
  -o "$DEST/bin/wasmd" ./cmd/wasmd 2>&1 | awk '{ n++; if (n % 50 == 0) printf "[build-wasmd] %d packages compiled\n", n > "/dev/stderr" }'
[ -x "$DEST/bin/wasmd" ] || { log "ERROR: go build of wasmd failed"; exit 1; }

# The VM library the binary links against, next to it so a reused cache still runs.
wasmvm_version=$(go list -m -f '{{.Version}}' github.com/CosmWasm/wasmvm/v3 2>/dev/null || go list -m -f '{{.Version}}' github.com/CosmWasm/wasmvm/v2)
so=$(find "$(go env GOMODCACHE)/github.com/!cosm!wasm" -path "*wasmvm*" -name libwasmvm.x86_64.so | grep "$wasmvm_version" | head -n1)
[ -f "$so" ] || { log "ERROR: libwasmvm.x86_64.so for $wasmvm_version not found"; exit 1; }
cp "$so" "$DEST/lib/"
log "built $("$DEST/bin/wasmd" version 2>/dev/null || echo '?') with wasmvm $wasmvm_version"
echo "$DEST/bin/wasmd"
