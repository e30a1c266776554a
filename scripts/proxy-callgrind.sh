#!/usr/bin/env bash
# Instructions per message of the compiled proxy, and where they go: builds the Lambda's binary as the zip
# ships it (the `deploy-proxy` profile) but with symbols, then runs section 5 of chat-bench against it, whose last
# part counts the instructions of two runs under `valgrind --tool=callgrind` and lists the functions that
# execute the most per message (docs/benchmarks.md, section 5).
#
# The symbols change no instruction the binary executes; they live in a profile of their own
# (target/callgrind/), so the zip's build and its cache are untouched. Needs valgrind (Debian's package).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
CARGO=${CARGO:-cargo}
$CARGO build --locked -p chat-proxy --bin chat-proxy --profile callgrind \
	--config 'profile.callgrind.inherits="deploy-proxy"' \
	--config 'profile.callgrind.debug="line-tables-only"' \
	--config 'profile.callgrind.strip=false'
$CARGO build --release --locked -p dev-stack --bin chat-bench
PROXY_BINARY=target/callgrind/chat-proxy target/release/chat-bench 5
