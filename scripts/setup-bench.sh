#!/usr/bin/env bash
# Installs the benches' peers (benches/package.json) when they are missing or
# their lock changed. Only `make bench` needs them; the tests never do.
set -euo pipefail
cd "$(dirname "$0")/../benches"
STAMP=node_modules/.setup-stamp
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$LOCK_SUM" ]; then
  printf '[setup] installing the benches'"'"' peers\n'
  npm ci --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > "$STAMP"
fi
