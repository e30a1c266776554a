#!/usr/bin/env bash
# Every test (`make test`), in phases: the Rust test binaries are built once, then the suites that do not
# wait on each other run side by side (the Rust tests spend most of their time waiting on sockets, moto and
# timers, not on the CPU), and the browser tests reuse the chat-dev binary the Rust build made instead of
# building their own. Each suite writes target/test-<suite>.log; at the end the time of every phase and the
# one line `tests: N passed, N failed`. Exits non-zero when any suite failed.
#
# TEST_JOBS=1 runs the suites one after another (the order is the same), for a machine without headroom.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
CARGO=${CARGO:-cargo}
jobs=${TEST_JOBS:-4}
started=$(date +%s)
failed=()
timings=()

# Runs a suite (a name and a command) in the background, its output into target/test-<name>.log.
declare -A pids starts
launch() {
  local name=$1
  shift
  starts[$name]=$(date +%s)
  ("$@") >"target/test-$name.log" 2>&1 &
  pids[$name]=$!
  if [ "$jobs" -le 1 ]; then wait_for "$name"; fi
}

# Waits for a suite, records its time and whether it failed.
wait_for() {
  local name=$1 status=0
  [ -n "${pids[$name]:-}" ] || return 0
  wait "${pids[$name]}" || status=$?
  unset "pids[$name]"
  timings+=("$(printf '%-12s %5ss%s' "$name" "$(($(date +%s) - starts[$name]))" "$([ $status -ne 0 ] && echo '  FAILED')")")
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    echo "== $name failed (target/test-$name.log):" >&2
    tail -n 40 "target/test-$name.log" >&2
  else
    echo "== $name passed in $(($(date +%s) - starts[$name])) s"
  fi
}

# Phase 1: every Rust test binary, and the chat-dev binary the browser tests drive, in one build (the same
# features as the tests: a second `-p` build would compile the crates again with others).
launch build bash -c "$CARGO test --workspace --all-targets --locked --no-run && \
  $CARGO build --workspace --bins --locked"
# Meanwhile, what needs no Rust build.
launch checks bash -c "scripts/check-make-help.py && scripts/test_dev_watch.py && scripts/contract-tests.sh"
launch web bash -c "cd web && npm ci --no-audit --no-fund --loglevel=error && npm test"
launch terraform make --no-print-directory tf-check
wait_for build

# Phase 2: the Rust tests (doc tests, then every target), the browser tests on the binary just built, and
# the fuzzers (their own workspace and build).
target_dir=$($CARGO metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
launch doc "$CARGO" test --workspace --doc --locked
wait_for doc
launch rust "$CARGO" test --workspace --all-targets --locked --no-fail-fast
launch browser env CHAT_DEV_BIN="$target_dir/debug/chat-dev" scripts/browser-tests.sh
launch fuzz scripts/fuzz.sh
for name in checks web terraform rust browser fuzz; do wait_for "$name"; done

# Rename the logs to what the summary and earlier runs call them.
cp target/test-rust.log target/test.log
cp target/test-checks.log target/test-contracts.log

echo
echo "Phases (seconds; side by side where they overlap):"
printf '  %s\n' "${timings[@]}"
echo "  total        $(($(date +%s) - started))s"
awk '/^test result:/ { passed += $4; failed += $6 } /^# pass / { passed += $3 } /^# fail / { failed += $3 } \
  /^Success! [0-9]+ passed/ { passed += $2; failed += $4 } /^Failure! [0-9]+ passed/ { passed += $2; failed += $4 } \
  /^(moto|scripts): [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 } \
  END { printf "tests: %d passed, %d failed\n", passed, failed }' \
  target/test-checks.log target/test-doc.log target/test-rust.log target/test-web.log target/test-fuzz.log \
  target/test-browser.log target/test-terraform.log
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
