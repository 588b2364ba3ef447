#!/usr/bin/env bash
# What only `make bench` needs (the tests never do), installed when missing:
#  - the benches' peers (benches/package.json), when missing or their lock changed;
#  - the JavaScriptCore shell `jsc`, from Debian's own packages (bookworm:
#    libjavascriptcoregtk-4.0-bin, WebKitGTK 2.50.x; it installs /usr/bin/jsc). Skipped
#    when a jsc is found (benches/jsc/engine.mjs looks on PATH and in the WebKitGTK
#    folders under /usr/lib and /usr/libexec; $JSC names another one), or with BENCH_ONLY=v8.
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/../benches"
STAMP=node_modules/.setup-stamp
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_SUM" ]; then
  printf '[setup] installing the benches'"'"' peers\n'
  npm ci --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > "$STAMP"
fi

if [ "${BENCH_ONLY:-}" = "v8" ]; then
  exit 0
fi
find_jsc() {
  if [ -z "${JSC:-}" ] && command -v jsc 2>/dev/null; then return; fi
  node --input-type=module -e "import { findJsc } from './jsc/engine.mjs'; const j = findJsc(); if (j) console.log(j);" 2>/dev/null || true
}
if [ -z "$(find_jsc)" ]; then
  PKG=libjavascriptcoregtk-4.0-bin
  if ! command -v apt-get >/dev/null; then
    echo "[setup] no jsc shell and no apt-get: install JavaScriptCore's jsc, set JSC=/path/to/jsc, or run with BENCH_ONLY=v8" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  printf '[setup] installing the JavaScriptCore shell (%s, Debian)\n' "$PKG"
  if ! apt-cache show "$PKG" >/dev/null 2>&1; then
    $SUDO apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$PKG" >/dev/null
  JSC_PATH=$(find_jsc)
  if [ -z "$JSC_PATH" ]; then
    echo "[setup] $PKG is installed but no jsc was found (dpkg -L $PKG lists where it went)" >&2
    exit 1
  fi
  printf '[setup] jsc: %s\n' "$JSC_PATH"
fi
