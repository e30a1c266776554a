#!/usr/bin/env bash
# The demo page in headless Chromium (Debian's package) against the local stack (chat-dev), on loopback
# ports chosen at run time, then the chat widget package's browser tests (web/test/browser/, which start and
# stop their own chat-dev). Installs what it needs when missing; stops the stack however it ends.
# CHAT_DEV_BIN names a chat-dev binary to use instead of building one with cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd browser-tests && npm ci --no-audit --no-fund --loglevel=error)
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)

if [ -z "${CHAT_DEV_BIN:-}" ]; then
  cargo build --quiet --locked -p local-stack --bin chat-dev
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  CHAT_DEV_BIN="$target_dir/debug/chat-dev"
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
backend_port=$(free_port)
emulator_port=$(free_port)
data=$(mktemp -d)

APP_ENV=local BIND_ADDR="127.0.0.1:$backend_port" EMULATOR_BIND_ADDR="127.0.0.1:$emulator_port" \
  DATABASE_URL="sqlite://$data/chat.db" "$CHAT_DEV_BIN" >"$data/chat-dev.log" 2>&1 &
pid=$!
cleanup() { status=$?; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; exit "$status"; }
trap cleanup EXIT

python3 - "$backend_port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/readyz"
for _ in range(150):
    try:
        if urllib.request.urlopen(url, timeout=1).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(f"the local stack did not become ready at {url}")
PY

if ! CHAT_DEMO_URL="http://127.0.0.1:$backend_port/" node --test browser-tests/; then
  echo "--- chat-dev log ---"
  tail -n 60 "$data/chat-dev.log"
  exit 1
fi

# The widget's tests run their own stack (they stop and start it), on ports of their own.
CHAT_DEV_BIN="$CHAT_DEV_BIN" node --test web/test/browser/
