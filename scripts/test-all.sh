#!/usr/bin/env bash
# Every test (`make test`), in phases. The Rust test binaries (and the binaries the browser and compiled
# tests drive) are built once, with the features the tests use; then the suites that do not wait on each
# other run side by side: the Rust tests spend most of their time waiting on sockets, moto and timers, the
# Terraform checks on providers and moto, not on the two cores. With ALSO_LINT=1 and ALSO_PACKAGE=1 (CI)
# `make lint` and the Lambda zips (`make package`) run alongside from the start, overlapping the waits
# instead of preceding every test.
#
# Each suite writes target/test-<suite>.log. At the end: each phase's time and the one line
# `tests: N passed, N failed`. Exits non-zero when any suite failed. TEST_JOBS=1 runs the suites one after
# another (the same order), for a machine without headroom.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
export CARGO=${CARGO:-cargo}
jobs=${TEST_JOBS:-8}
started=$(date +%s)
failed=()
timings=()
declare -A pids starts

# Starts a suite in the background, its output in target/test-<name>.log.
launch() {
  local name=$1
  shift
  starts[$name]=$(date +%s)
  echo "== $name started"
  rm -f "target/test-$name.end"
  (
    "$@"
    status=$?
    date +%s >"target/test-$name.end"
    exit $status
  ) >"target/test-$name.log" 2>&1 &
  pids[$name]=$!
  if [ "$jobs" -le 1 ]; then wait_for "$name"; fi
}

# What a failed suite's log says about its failures: each failure's report (a Rust test's panic, a Python
# or Node test's traceback, Playwright's error), then the log's last lines, each line cut at 300 characters
# (a linker's command line is tens of kilobytes, and CI keeps only so much of what it prints: the error
# after it must fit); then the disk and memory left, the usual causes of a failed link.
failures() {
  {
    grep -E -A14 '^---- .* stdout ----$|^(FAIL|ERROR): |^not ok |^\s+[0-9]+\) |^Error: |^error(\[|:)' "$1" |
      grep -v -E '^\s+[0-9]+: |^\s+at /' | head -n 150
    echo "-- last lines of $1:"
    tail -n 15 "$1"
  } | cut -c1-300
  echo "-- disk and memory left: $(df -h . | awk 'NR == 2 { print $4 " of " $2 }') disk," \
    "$(free -m | awk '/^Mem:/ { print $7 " MB" }') memory available"
}

# Waits for a suite; records its time and whether it failed.
wait_for() {
  local name=$1 status=0
  [ -n "${pids[$name]:-}" ] || return 0
  wait "${pids[$name]}" || status=$?
  unset "pids[$name]"
  local ended
  ended=$(cat "target/test-$name.end" 2>/dev/null || date +%s)
  local took=$((ended - starts[$name]))
  timings+=("$(printf '%-10s %5d s  (from %4d s)%s' "$name" "$took" "$((starts[$name] - started))" \
    "$([ "$status" -ne 0 ] && echo '  FAILED')")")
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    echo "== $name FAILED after $took s (target/test-$name.log):" >&2
    failures "target/test-$name.log" >&2
  else
    echo "== $name passed in $took s"
  fi
}

# Phase 1: every Rust target of the workspace, the binaries included, in one build; meanwhile the checks
# that need none (each installs what it needs: npm packages, checkov, python-hcl2, moto), Terraform's
# among them. In CI the lint
# (ALSO_LINT=1) and the Lambda zips (ALSO_PACKAGE=1) start here too, each in a target directory of its own:
# they share no artifact with the tests' build (clippy checks, the zips are another profile and target),
# and cargo's lock on a shared directory would make them wait for it. The zips' link steps run on one core
# (fat LTO, one codegen unit), so starting them first keeps them off the end of the run.
launch build "$CARGO" build --workspace --all-targets --locked
# Terraform's checks need nothing cargo builds (the moto apply makes its own stand-in zips) and mostly wait
# on providers, moto and the AWS CLI (the CPU they used in a CI-like run was 40% of their time): from the
# start, and in two suites side by side, the static checks and the moto apply with the preflight (27
# minutes each in a CI-like run, where one after the other took 40), they are off the end of the run.
launch terraform make --no-print-directory tf-test
launch moto make --no-print-directory tf-moto
if [ "${ALSO_LINT:-0}" = 1 ]; then launch lint env CARGO_TARGET_DIR=target/lint make --no-print-directory lint; fi
if [ "${ALSO_PACKAGE:-0}" = 1 ]; then
  launch package env CARGO_TARGET_DIR=target/package make --no-print-directory package
fi
launch checks bash -c "scripts/check-make-help.py && scripts/test_dev_watch.py && scripts/scale-model.py --check && scripts/contract-tests.sh"
launch web bash -c "cd web && npm ci --no-audit --no-fund --loglevel=error && npm test"
wait_for build
wait_for web

# Phase 2: what runs on the build, side by side (the doc tests first: they link against the libraries).
# The tests that run the workspace's binaries build them when run alone; here the build is done.
export WORKSPACE_BUILT=1
target_dir=$("$CARGO" metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
launch rust bash -c "$CARGO test --workspace --doc --locked && $CARGO test --workspace --all-targets --locked --no-fail-fast"
launch browser env CHAT_DEV_BIN="$target_dir/debug/chat-dev" scripts/browser-tests.sh
launch fuzz scripts/fuzz.sh
for name in checks lint rust browser terraform moto fuzz package; do wait_for "$name"; done

echo
echo "Phases (seconds; suites of a phase run side by side):"
printf '  %s\n' "${timings[@]}"
echo "  total      $(($(date +%s) - started)) s"
awk '/^test result:/ { passed += $4; failed += $6 } /^# pass / { passed += $3 } /^# fail / { failed += $3 } \
  /^Success! [0-9]+ passed/ { passed += $2; failed += $4 } /^Failure! [0-9]+ passed/ { passed += $2; failed += $4 } \
  /^(moto|scripts): [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 } \
  END { printf "tests: %d passed, %d failed\n", passed, failed }' \
  target/test-checks.log target/test-web.log target/test-rust.log \
  target/test-browser.log target/test-terraform.log target/test-moto.log target/test-fuzz.log
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
