#!/usr/bin/env bash
# Installs what the build and tests need, skipping whatever is already there at
# the right version. Needs only the Rust toolchain (rustup), Node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli, exactly the version of the wasm-bindgen crate in Cargo.lock
#    (the CLI and the crate must match). No --locked: it can fail on this registry.
[ -f Cargo.lock ] || cargo generate-lockfile --offline 2>/dev/null || cargo generate-lockfile
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  say "installing wasm-bindgen-cli $WBG_VERSION"
  cargo install wasm-bindgen-cli --version "=$WBG_VERSION" --force
fi

# 3. wasm-pack (never allowed to download tools: the build runs it with --mode no-install).
WASM_PACK_VERSION=0.15.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION"
  cargo install wasm-pack --version "=$WASM_PACK_VERSION" --force
fi

# 4. npm dev dependencies (esbuild, binaryen's wasm-opt, ws, typescript, ...),
#    reinstalled only when package-lock.json changes.
STAMP=node_modules/.setup-stamp
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_SUM" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > "$STAMP"
fi

# 5. Debian's Chromium for the web admin's browser test (playwright-core drives
#    it; nothing downloads a browser of its own).
#    A CJK font so the admin's screenshots show Chinese, not boxes.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  say "installing Debian's chromium and a CJK font"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
