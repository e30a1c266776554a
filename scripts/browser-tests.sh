#!/usr/bin/env bash
# The chat widget package's browser tests in headless Chromium (Debian's package): web/test/browser/, which
# start and stop their own chat-dev on loopback ports chosen at run time. Installs what it needs when
# missing.
# CHAT_DEV_BIN names a chat-dev binary to use instead of building one with cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)

if [ -z "${CHAT_DEV_BIN:-}" ]; then
  cargo build --quiet --locked -p dev-stack --bin chat-dev
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  CHAT_DEV_BIN="$target_dir/debug/chat-dev"
fi
CHAT_DEV_BIN="$CHAT_DEV_BIN" node --test web/test/browser/
